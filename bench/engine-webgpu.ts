/**
 * Prefill and decode throughput of the engine in Chromium (engine worker, onnxruntime-web on
 * WebGPU; SwiftShader on machines without a GPU), on a Qwen3-0.6B-shaped model with seeded
 * random weights served from a local server. Usage:
 *   npx tsx bench/engine-webgpu.ts [--layers 28] [--prompt 32] [--new 8] [--batches 1,8] [--backend webgpu|wasm]
 * Prints a markdown table and writes bench/out/engine-<backend>.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { execSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { chromium } from '@playwright/test';
import { createServer } from 'vite';
import { Args } from '../src/cli/args';
import { ensureQwen3Checkpoint } from './checkpoints';
import { startHubServer } from '../tests/support/hub-server';
import { BASE_ARGS, CHROMIUM } from '../e2e/chromium';
import { webgpuArgs } from './gpu/adapter';

/** Resident memory of all descendants of this process (the browser and its helpers), MiB. */
function rssOfDescendantsMiB(): number {
  try {
    const rows = execSync('ps -eo pid=,ppid=,rss=', { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/).map(Number));
    const children = new Map<number, number[]>();
    for (const [pid, ppid] of rows) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    const rss = new Map(rows.map(([pid, , r]) => [pid, r]));
    let total = 0;
    const stack = [...(children.get(process.pid) ?? [])];
    while (stack.length) {
      const p = stack.pop()!;
      total += rss.get(p) ?? 0;
      stack.push(...(children.get(p) ?? []));
    }
    return total / 1024;
  } catch {
    return 0;
  }
}

async function main() {
  const args = new Args(process.argv.slice(2));
  const layers = args.integer('layers', 28, 1);
  const promptLen = args.integer('prompt', 32, 1);
  const newTokens = args.integer('new', 8, 2);
  const batches = (args.string('batches') ?? '1,8').split(',').map(Number);
  const backend = args.string('backend') ?? 'webgpu';
  args.rejectUnknown();

  const files = await ensureQwen3Checkpoint(path.resolve('bench/out/qwen3-0.6b-random'), layers);
  const hub = await startHubServer({ repos: { 'bench/qwen3-0.6b-random': files } });
  // No file watching: an edit elsewhere in the tree must not reload the page mid-measurement.
  const vite = await createServer({ server: { port: 5181, strictPort: true, host: '127.0.0.1', watch: null, hmr: false }, logLevel: 'error' });
  await vite.listen();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: backend === 'webgpu' ? [...webgpuArgs(), ...BASE_ARGS] : BASE_ARGS, headless: true });
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssOfDescendantsMiB())), 250);
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(0);
    await page.goto('http://127.0.0.1:5181/e2e/pages/engine.html');
    await page.waitForFunction(() => window.__engine !== undefined);
    const info = await page.evaluate((p) => window.__engine!.init(p), backend === 'webgpu');
    console.error(`backend ${info.backend} (${info.adapterInfo}), max storage binding ${info.maxStorageBindingBytes} bytes`);
    const t0 = Date.now();
    const model = await page.evaluate((url) => window.__engine!.load({ kind: 'hub', repo: 'bench/qwen3-0.6b-random', endpoint: url }), hub.url);
    console.error(`loaded ${model.params} params in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const rows = [];
    for (const B of batches) {
      const prompts = Array.from({ length: B }, (_, b) => Array.from({ length: promptLen }, (_, i) => (i * 7919 + b * 104729) % 151936));
      const sampling = { maxNewTokens: newTokens, temperature: 0, topP: 1, topK: 0, seed: 0, stopAtEos: false };
      // Warm-up: compiles the prefill and decode sessions for this batch shape.
      await page.evaluate(([p, s]) => window.__engine!.generate(p, { ...s, maxNewTokens: 2 }), [prompts, sampling] as const);
      const r = await page.evaluate(([p, s]) => window.__engine!.generate(p, s), [prompts, sampling] as const);
      const decodeMs = r.totalMs - r.firstTokenMs;
      rows.push({
        batch: B,
        promptLen,
        newTokens,
        prefillTokPerS: (B * promptLen) / (r.firstTokenMs / 1000),
        decodeTokPerS: (B * (newTokens - 1)) / (decodeMs / 1000),
        decodeMsPerStep: decodeMs / (newTokens - 1),
        peakRssMiB: peakRss,
      });
      console.error(`batch ${B}: prefill ${rows.at(-1)!.prefillTokPerS.toFixed(1)} tok/s, decode ${rows.at(-1)!.decodeTokPerS.toFixed(2)} tok/s`);
    }
    const result = {
      bench: `engine-${backend}`,
      date: new Date().toISOString(),
      machine: `${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`,
      browser: `Chromium ${browser.version()}`,
      backend: `onnxruntime-web 1.30 ${info.backend} (${info.adapterInfo}), weights ${info.shaderF16 ? 'fp16' : 'fp32'}`,
      model: { shape: 'Qwen3-0.6B', layers, params: model.params },
      note: 'time to first token is counted as prefill (includes sampling the first token); peak RSS sums the browser process tree, sampled every 250 ms',
      rows,
    };
    await mkdir('bench/out', { recursive: true });
    await writeFile(`bench/out/engine-${backend}.json`, JSON.stringify(result, null, 2));
    console.log(`| batch | prompt | prefill tok/s | decode tok/s | decode ms/step | peak RSS MiB (all Chromium) |\n|---|---|---|---|---|---|`);
    for (const r of rows) console.log(`| ${r.batch} | ${r.promptLen} | ${r.prefillTokPerS.toFixed(1)} | ${r.decodeTokPerS.toFixed(2)} | ${r.decodeMsPerStep.toFixed(0)} | ${r.peakRssMiB.toFixed(0)} |`);
  } finally {
    clearInterval(sampler);
    await browser.close();
    await vite.close();
    await hub.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
