/**
 * One LoRA training step (the same Trainer as bench/train-node.ts) in Chromium, on
 * onnxruntime-web with the WebGPU execution provider (SwiftShader on machines without a GPU)
 * or the wasm (CPU) one, on a Qwen3-0.6B-shaped model with seeded random weights. LoRA rank 16
 * on all seven projections. Usage:
 *   npx tsx bench/train-webgpu.ts [--layers 2] [--batch 2] [--seq 64] [--micro 1] [--steps 1]
 *                                 [--loss ce|distill] [--teacher-extra 128] [--backend webgpu|wasm]
 *                                 [--max-minutes 0] [--threads N] [--trainer-options JSON]
 *                                 [--out bench/out/train-<backend>.json]
 * The defaults are small because SwiftShader runs WebGPU on the CPU (see docs/benchmarks.md);
 * the full setting is --layers 28 --batch 8 --seq 512 --micro 1,2,4.
 *
 * Each micro-batch size gets a fresh headless Chromium (flags from e2e/chromium.ts) and a
 * fresh worker, so the peak memory of one setting does not carry over into the next. The page
 * bench/pages/train.html is served by the Vite dev server (no file watching, no HMR); its
 * worker generates the weights from the bench seed, uploads them (ModelRunner, ~256 MiB
 * chunks), runs one warm-up step (session creation, shader compilation) and `--steps` timed
 * steps. Peak RSS sums the browser's whole process tree (browser, GPU and renderer
 * processes), sampled every 250 ms. `--max-minutes` (0: no limit) abandons a setting that runs
 * longer and records that. Prints a markdown table and writes the JSON.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from '@playwright/test';
import { createServer } from 'vite';
import { Args } from '../src/cli/args';
import { BASE_ARGS, CHROMIUM } from '../e2e/chromium';
import { webgpuArgs } from './gpu/adapter';
import { browserTreeRssMiB } from './proc';
import { BENCH_LORA, lossFor, type TrainBenchRow, runDescription, failedBenchRow } from './pages/train-shared';
import type { TrainRunParams, TrainRunResult } from './pages/train.worker';

const PORT = 5183;

const load = () => os.loadavg().map((x) => Number(x.toFixed(2)));
const fmt = (x: number, d: number) => (Number.isFinite(x) ? x.toFixed(d) : '-');

interface Row extends TrainBenchRow {
  setupS: number;
  adapterInfo?: string;
  backend?: string;
  weightDtype?: string;
  wasmThreads?: number;
}

async function runSetting(p: TrainRunParams, maxMinutes: number, url: string): Promise<Row> {
  const loadBefore = load();
  const tag = `[micro ${p.micro}]`;
  let browser: Browser | null = null;
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, browserTreeRssMiB())), 250);
  const failed = (error: string): Row => ({ ...failedBenchRow(p.micro, Math.ceil(p.batch / p.micro), peak, loadBefore, load(), error), setupS: NaN });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: p.backend === 'webgpu' ? [...webgpuArgs(), ...BASE_ARGS] : BASE_ARGS, headless: true });
    const page = await browser.newPage();
    page.setDefaultTimeout(0);
    let setupRss = NaN;
    page.on('console', (m) => {
      const text = m.text();
      if (text.includes('model and trainer set up')) {
        setupRss = browserTreeRssMiB();
        peak = Math.max(peak, setupRss);
      }
      console.error(`  ${tag} ${text}`);
    });
    page.on('pageerror', (e) => console.error(`  ${tag} page error: ${e.message}`));
    await page.goto(url);
    await page.waitForFunction(() => window.__trainBench !== undefined);
    const work = page.evaluate((params) => window.__trainBench!.run(params), p);
    const limit =
      maxMinutes > 0
        ? new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`stopped after the --max-minutes limit of ${maxMinutes} min`)), maxMinutes * 60_000);
          })
        : null;
    const r: TrainRunResult = await (limit ? Promise.race([work, limit]) : work);
    const meanStepS = r.stepS.reduce((a, b) => a + b, 0) / r.stepS.length;
    peak = Math.max(peak, browserTreeRssMiB());
    return {
      micro: p.micro,
      microBatches: Math.ceil(p.batch / p.micro),
      setupS: r.setupS,
      warmupS: r.warmupS,
      stepS: r.stepS,
      meanStepS,
      tokPerS: (p.batch * p.seq) / meanStepS,
      responseTokPerS: r.responseTokens / meanStepS,
      responseTokens: r.responseTokens,
      loss: r.loss,
      peakRssMiB: peak,
      setupRssMiB: setupRss,
      phaseS: r.phaseS,
      loadBefore,
      loadAfter: load(),
      adapterInfo: r.adapterInfo,
      backend: r.backend,
      weightDtype: r.weightDtype,
      wasmThreads: r.wasmThreads,
    };
  } catch (e) {
    return failed(e instanceof Error ? e.message.split('\n')[0] : String(e));
  } finally {
    clearTimeout(timer);
    clearInterval(sampler);
    await browser?.close().catch(() => undefined);
  }
}

async function main() {
  const args = new Args(process.argv.slice(2));
  const backend = args.string('backend') ?? 'webgpu';
  if (backend !== 'webgpu' && backend !== 'wasm') throw new Error(`--backend must be webgpu or wasm, got "${backend}"`);
  const base = {
    backend: backend as 'webgpu' | 'wasm',
    layers: args.integer('layers', 2, 1),
    batch: args.integer('batch', 2, 1),
    seq: args.integer('seq', 64, 2),
    steps: args.integer('steps', 1, 1),
    loss: args.string('loss') ?? 'ce',
    teacherExtra: args.integer('teacher-extra', 128, 1),
    threads: args.integer('threads', 0),
    trainerOptions: JSON.parse(args.string('trainer-options') ?? '{}') as Record<string, unknown>,
  };
  const micros = (args.string('micro') ?? '1').split(',').map(Number);
  if (micros.some((m) => !Number.isInteger(m) || m < 1)) throw new Error('--micro must list whole numbers >= 1, e.g. 1,2');
  const maxMinutes = args.number('max-minutes', 0);
  const outFile = args.string('out') ?? `bench/out/train-${backend}.json`;
  args.rejectUnknown();
  lossFor(base.loss);

  // No file watching: an edit elsewhere in the tree must not reload the page mid-measurement.
  const vite = await createServer({ server: { port: PORT, strictPort: true, host: '127.0.0.1', watch: null, hmr: false }, logLevel: 'error' });
  await vite.listen();
  const url = `http://127.0.0.1:${PORT}/bench/pages/train.html`;
  console.error(`LoRA step, Chromium ${backend}: qwen3-0.6B shape, ${base.layers} layers, batch ${base.batch} x ${base.seq} tokens, loss ${base.loss}, r=${BENCH_LORA.r} on ${BENCH_LORA.targetModules.join('/')}`);
  const rows: Row[] = [];
  let browserVersion = '';
  try {
    const b = await chromium.launch({ executablePath: CHROMIUM, args: BASE_ARGS, headless: true });
    browserVersion = b.version();
    await b.close();
    for (const micro of micros) {
      console.error(`micro-batch ${micro}: starting (load ${load().join(' ')})`);
      const r = await runSetting({ ...base, micro }, maxMinutes, url);
      if (r.error) console.error(`micro-batch ${micro}: ${r.error}`);
      rows.push(r);
    }
  } finally {
    await vite.close();
  }
  const ok = rows.find((r) => !r.error);
  const result = {
    bench: `train-${backend}`,
    date: new Date().toISOString(),
    machine: `${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`,
    browser: `Chromium ${browserVersion}`,
    backend: `onnxruntime-web 1.30 ${ok?.backend ?? backend} (${ok?.adapterInfo ?? '?'}), weights ${ok?.weightDtype ?? '?'}`,
    model: { shape: 'Qwen3-0.6B', layers: base.layers, seed: 1, weights: 'generated in the worker (bench/shapes.ts randomBenchWeights)' },
    ...runDescription(base),
    trainerOptions: base.trainerOptions,
    wasmThreads: ok?.wasmThreads,
    note: 'tokPerS = batch*seq / mean step time; responseTokPerS counts loss tokens only; peak RSS sums the browser process tree, sampled every 250 ms, one fresh browser per setting',
    rows,
  };
  await mkdir(path.dirname(outFile), { recursive: true });
  await writeFile(outFile, JSON.stringify(result, null, 2));
  console.log(`| micro-batch | micro-batches | setup s | warm-up s | step s | tok/s | response tok/s | peak RSS MiB (all Chromium) | load avg before → after |\n|---|---|---|---|---|---|---|---|---|`);
  for (const r of rows) {
    const note = r.error ? ` (${r.error})` : '';
    console.log(
      `| ${r.micro} | ${r.microBatches} | ${fmt(r.setupS, 1)} | ${fmt(r.warmupS, 1)} | ${fmt(r.meanStepS, 1)} | ${fmt(r.tokPerS, 2)} | ${fmt(r.responseTokPerS, 2)} | ${fmt(r.peakRssMiB, 0)}${note} | ${r.loadBefore[0]} → ${r.loadAfter[0]} |`,
    );
  }
  for (const r of rows) {
    if (r.error) continue;
    const phases = Object.entries(r.phaseS)
      .map(([k, v]) => `${k} ${v!.toFixed(1)} s`)
      .join(', ');
    console.log(`micro ${r.micro}: steps ${r.stepS.map((x) => x.toFixed(1)).join(', ')} s; per phase over ${r.stepS.length} steps: ${phases}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
