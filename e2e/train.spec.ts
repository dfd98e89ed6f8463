/**
 * Training in the browser: the engine worker trains the embedded tiny model on WebGPU
 * (SwiftShader here) and must agree with the same steps on onnxruntime-node, and the adapter it
 * exports must be byte-compatible with what `pmd-lab sft` writes.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { Args } from '../src/cli/args';
import * as sft from '../src/cli/commands/sft';
import { mergeConfig } from '../src/util/config-fields';
import { NodeFolderSource } from '../src/engine/models/node-source';
import { nodeCpuBackend } from '../src/engine/runtime/node-backend';
import { EngineHost } from '../src/worker/engine-host';
import { TRAIN_DEFAULTS, type EngineEvent, type EngineRequest, type TrainStepLog } from '../src/worker/protocol';

const MODEL_DIR = 'public/models/tiny-qwen3';
const JSONL =
  [
    { prompt: 'What is 2 + 3?', response: '5' },
    { prompt: 'Spell cat.', response: 'c a t' },
    { prompt: 'Opposite of up?', response: 'down' },
  ]
    .map((p) => JSON.stringify(p))
    .join('\n') + '\n';
const START = { config: mergeConfig(TRAIN_DEFAULTS, { lora: { rank: 4, alpha: 8 }, seed: 5, optimizer: { lr: 1e-2 } }), baseModel: path.basename(MODEL_DIR) };
const STEPS = 2;
const BATCH = 3;

async function openPage(page: Page) {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/e2e/pages/engine.html');
  await page.waitForFunction(() => window.__engine !== undefined);
  const info = await page.evaluate(() => window.__engine!.init(true));
  expect(info.backend).toBe('webgpu');
  await page.evaluate(() => window.__engine!.load({ kind: 'embedded', url: '/models/tiny-qwen3/', label: 'tiny-qwen3' }));
  return errors;
}

/** The same worker code in Node, on onnxruntime-node. */
async function nodeHost() {
  const events: EngineEvent[] = [];
  const host = new EngineHost(
    {
      init: async () => ({ backend: nodeCpuBackend(), info: { backend: 'node-cpu', adapterInfo: 'node', shaderF16: false, maxStorageBindingBytes: 1 << 30 } }),
      source: () => new NodeFolderSource(MODEL_DIR),
    },
    (e) => events.push(e),
  );
  let id = 1;
  const send = async (req: Record<string, unknown>): Promise<EngineEvent> => {
    const rid = id++;
    await host.handle({ ...req, id: rid } as EngineRequest);
    const last = events.filter((e) => e.id === rid).at(-1)!;
    if (last.type === 'error') throw new Error(last.message);
    return last;
  };
  await send({ type: 'init', preferWebGpu: false });
  await send({ type: 'load', source: { kind: 'embedded', url: MODEL_DIR } });
  return send;
}

/** Byte offset where a safetensors file's tensor data begins (8-byte length + JSON header). */
function dataStart(b: Uint8Array): number {
  return 8 + Number(new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true));
}

function relDiff(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);
}

test('one SFT step on WebGPU in the worker matches onnxruntime-node; the adapter is byte-compatible with `pmd-lab sft`', async ({ page }) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'pmd-e2e-train-'));
  try {
    // The CLI's adapter, from the same data, settings and seed.
    await writeFile(path.join(dir, 'data.jsonl'), JSONL);
    const cliOut = path.join(dir, 'cli-adapter');
    const argv = ['--model', MODEL_DIR, '--data', path.join(dir, 'data.jsonl'), '--out', cliOut, '--steps', String(STEPS), '--rank', '4', '--alpha', '8'];
    await sft.run(new Args([...argv, '--lr', '1e-2', '--batch-size', String(BATCH), '--seed', '5', '--no-progress'], ['no-progress']));
    const cliFiles = {
      'adapter_config.json': new Uint8Array(await readFile(path.join(cliOut, 'adapter_config.json'))),
      'adapter_model.safetensors': new Uint8Array(await readFile(path.join(cliOut, 'adapter_model.safetensors'))),
    };

    // The same steps through the worker code on onnxruntime-node, for per-step numbers.
    const send = await nodeHost();
    await send({ type: 'train-start', ...START });
    const nodeDone = (await send({ type: 'train-sft', jsonl: JSONL, steps: STEPS, batchSize: BATCH, seed: 5 })) as Extract<EngineEvent, { type: 'train-done' }>;

    const errors = await openPage(page);
    const info = await page.evaluate((s) => window.__engine!.trainStart(s), START);
    expect(info).toMatchObject({ rank: 4, modules: 14, step: 0 });
    const web = await page.evaluate(([j, n, b]) => window.__engine!.trainSft(j, n, b, 5), [JSONL, STEPS, BATCH] as const);
    expect(web.logs.map((l: TrainStepLog) => l.step)).toEqual([1, 2]);
    web.logs.forEach((l: TrainStepLog, i: number) => {
      const n = nodeDone.logs[i];
      console.log(`step ${l.step}: loss webgpu ${l.loss.toFixed(6)} node ${n.loss.toFixed(6)}; |g| ${l.gradNorm.toFixed(6)} vs ${n.gradNorm.toFixed(6)}; ${l.ms.toFixed(0)} ms`);
      expect(relDiff(l.loss, n.loss)).toBeLessThan(1e-4);
      expect(relDiff(l.gradNorm, n.gradNorm)).toBeLessThan(1e-3);
    });

    const exported = await page.evaluate(() => window.__engine!.exportAdapter('student'));
    expect(exported.baseModel).toBe(path.basename(MODEL_DIR));
    const webConfig = Uint8Array.from(exported.files['adapter_config.json']);
    const webWeights = Uint8Array.from(exported.files['adapter_model.safetensors']);
    // Same config bytes; same safetensors header (names, dtypes, shapes, offsets) and length.
    expect(Buffer.from(webConfig).equals(Buffer.from(cliFiles['adapter_config.json']))).toBe(true);
    const cliWeights = cliFiles['adapter_model.safetensors'];
    expect(webWeights.length).toBe(cliWeights.length);
    const start = dataStart(cliWeights);
    expect(Buffer.from(webWeights.subarray(0, start)).equals(Buffer.from(cliWeights.subarray(0, start)))).toBe(true);
    // Tensor values agree within float32 noise (different kernels, summation orders).
    const a = new Float32Array(webWeights.slice(start).buffer);
    const b = new Float32Array(cliWeights.slice(start).buffer);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / (1e-4 + Math.abs(b[i])));
    console.log(`adapter values: max |webgpu - cli| / (1e-4 + |cli|) = ${worst.toExponential(2)} over ${a.length} floats`);
    expect(worst).toBeLessThan(1e-3);

    // The CLI's adapter imported in the browser exports back to the very same bytes.
    const plain = Object.fromEntries(Object.entries(cliFiles).map(([k, v]) => [k, Array.from(v)]));
    await page.evaluate(([s, f]) => window.__engine!.trainStart(s, f), [START, plain] as const);
    const round = await page.evaluate(() => window.__engine!.exportAdapter('student'));
    expect(Buffer.from(Uint8Array.from(round.files['adapter_model.safetensors'])).equals(Buffer.from(cliWeights))).toBe(true);
    expect(Buffer.from(Uint8Array.from(round.files['adapter_config.json'])).equals(Buffer.from(cliFiles['adapter_config.json']))).toBe(true);
    expect(errors).toEqual([]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a distillation step with an EMA teacher on WebGPU in the worker matches onnxruntime-node', async ({ page }) => {
  const samples = [
    { ids: [5, 6, 7, 8, 9, 10, 11], response_start: 3, teacher_ids: [20, 21, 5, 6, 7, 8, 9, 10, 11], teacher_response_start: 5 },
    { ids: [11, 12, 13, 14], response_start: 2, teacher_ids: [22, 11, 12, 13, 14], teacher_response_start: 3 },
  ];
  const loss = { kind: 'distill' as const, alpha: 0.5, topk: 4 };
  const start = { ...START, config: { ...START.config, microBatchSize: 1 } };
  const send = await nodeHost();
  await send({ type: 'train-start', ...start });
  const node: TrainStepLog[] = [];
  for (let i = 0; i < 2; i++) node.push(((await send({ type: 'train-step', samples, loss })) as Extract<EngineEvent, { type: 'train-stepped' }>).log);

  const errors = await openPage(page);
  await page.evaluate((s) => window.__engine!.trainStart(s), start);
  for (let i = 0; i < 2; i++) {
    const web = await page.evaluate(([s, l]) => window.__engine!.trainStep(s, l), [samples, loss] as const);
    const n = node[i];
    console.log(`distill step ${web.step}: loss webgpu ${web.loss.toFixed(6)} node ${n.loss.toFixed(6)}; ${web.ms.toFixed(0)} ms`);
    expect(relDiff(web.loss, n.loss)).toBeLessThan(1e-3);
    expect(relDiff(web.gradNorm, n.gradNorm)).toBeLessThan(1e-3);
    for (const k of ['student_logp', 'teacher_logp', 'token_divergence']) {
      const w = web.diagnostics[k].flat();
      const r = n.diagnostics[k].flat();
      expect(w.length, k).toBe(r.length);
      w.forEach((x: number, j: number) => expect(Math.abs(x - r[j]), `${k}[${j}]`).toBeLessThan(1e-4));
    }
  }
  expect(errors).toEqual([]);
});
