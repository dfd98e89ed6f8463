/**
 * The real engine in the worker: the embedded tiny model loads on WebGPU (SwiftShader here) and
 * agrees with onnxruntime-node; the Hub path downloads with progress and caches; a local folder
 * loads; broken files give clear errors without losing the loaded model.
 */
import { mkdtemp, rm, writeFile, mkdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { makeTinyCheckpoint, writeTinyCheckpoint } from '../scripts/tiny-model';
import { NodeFolderSource } from '../src/engine/models/node-source';
import { openModel } from '../src/engine/models/open-model';
import { ModelRunner } from '../src/engine/runtime/model-runner';
import { nodeCpuBackend } from '../src/engine/runtime/node-backend';
import { leftPadBatch } from '../src/engine/runtime/batch';
import { generate } from '../src/engine/runtime/generate';
import { startHubServer } from '../tests/support/hub-server';

const EMBEDDED = 'public/models/tiny-qwen3';
const greedy = { maxNewTokens: 6, temperature: 0, topP: 1, topK: 0, seed: 0, stopAtEos: false };

async function openPage(page: Page, preferWebGpu = true) {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/e2e/pages/engine.html');
  await page.waitForFunction(() => window.__engine !== undefined);
  const info = await page.evaluate((p) => window.__engine!.init(p), preferWebGpu);
  return { info, errors };
}

async function nodeModel(dir: string) {
  const ckpt = await openModel(new NodeFolderSource(dir));
  const runner = new ModelRunner(ckpt.config, nodeCpuBackend());
  await runner.loadWeights(ckpt.weights);
  return { runner, config: ckpt.config };
}

function maxAbsDiff(a: number[][][], b: Float32Array, seqLens: number[], seq: number, V: number, pads: number[]): number {
  let m = 0;
  a.forEach((rows, i) =>
    rows.forEach((row, p) => {
      const off = (i * seq + pads[i] + p) * V;
      for (let v = 0; v < V; v++) m = Math.max(m, Math.abs(row[v] - b[off + v]));
    }),
  );
  void seqLens;
  return m;
}

for (const backend of ['webgpu', 'wasm'] as const) {
  test(`embedded model on ${backend} in the worker matches onnxruntime-node`, async ({ page }) => {
    const { info, errors } = await openPage(page, backend === 'webgpu');
    expect(info.backend).toBe(backend);
    const model = await page.evaluate(() => window.__engine!.load({ kind: 'embedded', url: '/models/tiny-qwen3/', label: 'tiny-qwen3' }));
    expect(model.family).toBe('qwen3');

    const seqs = [[1, 20, 300, 45, 7, 99, 12], [5, 6, 7]];
    const browserLogits = await page.evaluate((ids) => window.__engine!.logits(ids), seqs);
    const node = await nodeModel(EMBEDDED);
    const b = leftPadBatch(seqs, node.config.padTokenId ?? 0);
    const ref = await node.runner.forward({ ...b, logits: 'all', wantKv: false });
    const diff = maxAbsDiff(browserLogits, ref.logits, seqs.map((s) => s.length), b.seq, node.config.vocabSize, b.pad);
    console.log(`${backend}: max |browser - node| logit difference ${diff.toExponential(2)}`);
    expect(diff).toBeLessThan(1e-3);

    // Batched greedy generation (KV cache on the device for WebGPU) gives the same tokens.
    const gen = await page.evaluate(([p, s]) => window.__engine!.generate(p, s), [seqs, greedy] as const);
    const nodeGen = await generate(node.runner, seqs, { ...greedy, eosTokenIds: [], padTokenId: node.config.padTokenId ?? 0 });
    expect(gen.tokens).toEqual(nodeGen.tokens);
    expect(gen.streamed).toHaveLength(greedy.maxNewTokens);
    gen.logprobs.flat().forEach((lp, i) => expect(Math.abs(lp - nodeGen.logprobs.flat()[i])).toBeLessThan(1e-3));
    await node.runner.release();
    expect(errors).toEqual([]);
  });
}

test('Hub download: progress, then a reload is served from the cache', async ({ page }) => {
  const files = makeTinyCheckpoint({ family: 'llama', seed: 9 });
  const server = await startHubServer({ repos: { 'pmd-test/tiny-llama': Object.fromEntries(files) } });
  try {
    await openPage(page);
    const spec = { kind: 'hub' as const, repo: 'pmd-test/tiny-llama', endpoint: server.url };
    const model = await page.evaluate((s) => window.__engine!.load(s), spec);
    expect(model.family).toBe('llama');
    const progress = await page.evaluate(() => window.__engine!.events.filter((e) => e.type === 'progress' && e.file === 'model.safetensors'));
    expect(progress.length).toBeGreaterThan(0);
    const last = progress.at(-1) as { loaded: number; total: number | null; fromCache: boolean };
    expect(last.loaded).toBe(files.get('model.safetensors')!.length);
    expect(last.fromCache).toBe(false);
    const downloads = () => server.requests.filter((r) => r.method === 'GET' && r.path.endsWith('model.safetensors')).length;
    const before = downloads();
    expect(before).toBeGreaterThan(0);

    await page.reload();
    await page.waitForFunction(() => window.__engine !== undefined);
    await page.evaluate(() => window.__engine!.init(true));
    const again = await page.evaluate((s) => window.__engine!.load(s), spec);
    expect(again.family).toBe('llama');
    expect(downloads()).toBe(before);
    const cached = await page.evaluate(() => window.__engine!.events.filter((e) => e.type === 'progress' && e.file === 'model.safetensors'));
    expect(cached.some((e) => (e as { fromCache: boolean }).fromCache)).toBe(true);

    // A missing repo is a clear error that names it; the loaded model keeps working.
    const err = await page.evaluate(async (url) => {
      try {
        await window.__engine!.load({ kind: 'hub', repo: 'pmd-test/does-not-exist', endpoint: url });
        return '';
      } catch (e) {
        return (e as Error).message;
      }
    }, server.url);
    expect(err).toMatch(/pmd-test\/does-not-exist/);
    const gen = await page.evaluate((s) => window.__engine!.generate([[3, 4]], s), greedy);
    expect(gen.tokens[0]).toHaveLength(greedy.maxNewTokens);
  } finally {
    await server.close();
  }
});

test('a local folder loads; a corrupt one fails clearly and the previous model survives', async ({ page }) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'pmd-e2e-'));
  try {
    const good = path.join(dir, 'tiny-olmo2');
    await writeTinyCheckpoint(good, { family: 'olmo2', seed: 6, dtype: 'F16' });
    const bad = path.join(dir, 'broken');
    await mkdir(bad);
    for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) await writeFile(path.join(bad, f), await readFile(path.join(good, f)));
    const st = await readFile(path.join(good, 'model.safetensors'));
    await writeFile(path.join(bad, 'model.safetensors'), st.subarray(0, 100));

    await openPage(page);
    await page.setInputFiles('#folder', good);
    const model = await page.evaluate(() => window.__engine!.loadPickedFolder());
    expect(model.family).toBe('olmo2');

    await page.setInputFiles('#folder', bad);
    const err = await page.evaluate(async () => {
      try {
        await window.__engine!.loadPickedFolder();
        return '';
      } catch (e) {
        return (e as Error).message;
      }
    });
    expect(err).toMatch(/model\.safetensors/);
    const gen = await page.evaluate((s) => window.__engine!.generate([[3, 4, 5]], s), greedy);
    expect(gen.tokens[0]).toHaveLength(greedy.maxNewTokens);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
