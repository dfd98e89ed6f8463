/**
 * Training through the worker protocol (EngineHost driven directly, onnxruntime-node): the
 * worker's SFT is the CLI's SFT to the byte, imported adapters export unchanged, the trained
 * adapter can drive generation, and misuse gives clear errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeTinyCheckpoint, writeTinyCheckpoint } from '../../scripts/tiny-model';
import { Args } from '../../src/cli/args';
import * as sft from '../../src/cli/commands/sft';
import { MemorySource } from '../../src/engine/models/sources';
import { nodeCpuBackend } from '../../src/engine/runtime/node-backend';
import { EngineHost } from '../../src/worker/engine-host';
import { TRAIN_DEFAULTS, type EngineEvent, type EngineRequest, type TrainConfig } from '../../src/worker/protocol';
import { mergeConfig } from '../../src/util/config-fields';

const PAIRS = [
  { prompt: 'What is 2 + 3?', response: '5' },
  { prompt: 'Spell cat.', response: 'c a t' },
  { prompt: 'Opposite of up?', response: 'down' },
];
const JSONL = PAIRS.map((p) => JSON.stringify(p)).join('\n') + '\n';

let dir: string;
let modelDir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pmd-train-host-'));
  modelDir = path.join(dir, 'model');
  await writeTinyCheckpoint(modelDir, { family: 'qwen3', seed: 4 });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function makeHost() {
  const events: EngineEvent[] = [];
  const folders: Record<string, Map<string, Uint8Array>> = {
    model: makeTinyCheckpoint({ family: 'qwen3', seed: 4 }),
    other: makeTinyCheckpoint({ family: 'llama', seed: 5 }),
  };
  const host = new EngineHost(
    {
      init: async () => ({ backend: nodeCpuBackend(), info: { backend: 'node-cpu', adapterInfo: 'test', shaderF16: false, maxStorageBindingBytes: 1 << 20 } }),
      source: (spec) => {
        if (spec.kind !== 'embedded') throw new Error('test host only serves embedded folders');
        return new MemorySource(folders[spec.url], spec.url);
      },
    },
    (e) => events.push(e),
  );
  let id = 1;
  /** Send a request and return the last event that answers it. */
  const send = async (req: Record<string, unknown>): Promise<EngineEvent> => {
    const rid = id++;
    await host.handle({ ...req, id: rid } as EngineRequest);
    const mine = events.filter((e) => e.id === rid);
    return mine[mine.length - 1];
  };
  await send({ type: 'init', preferWebGpu: false });
  await send({ type: 'load', source: { kind: 'embedded', url: 'model' } });
  return { host, events, send };
}

/** A train-start request: rank 4, alpha 8, seed 5, lr 1e-2 unless `over` says otherwise. */
function start(over: Record<string, unknown> = {}, adapter?: Record<string, Uint8Array>) {
  const config: TrainConfig = mergeConfig(mergeConfig(TRAIN_DEFAULTS, { lora: { rank: 4, alpha: 8 }, seed: 5, optimizer: { lr: 1e-2 } }), over);
  return { type: 'train-start', config, baseModel: path.basename(modelDir), ...(adapter ? { adapter } : {}) };
}

describe('training in the worker (EngineHost)', () => {
  it('SFT through the protocol writes the same adapter bytes as `pmd-lab sft`', async () => {
    const data = path.join(dir, 'data.jsonl');
    await writeFile(data, JSONL);
    const cliOut = path.join(dir, 'cli-adapter');
    await sft.run(
      new Args(['--model', modelDir, '--data', data, '--out', cliOut, '--steps', '3', '--rank', '4', '--alpha', '8', '--lr', '1e-2', '--batch-size', '2', '--seed', '5', '--no-progress'], ['no-progress']),
    );

    const { send, events } = await makeHost();
    const ready = await send(start());
    expect(ready).toMatchObject({ type: 'train-ready', info: { rank: 4, modules: 2 * 7, step: 0 } });
    const done = await send({ type: 'train-sft', jsonl: JSONL, steps: 3, batchSize: 2, seed: 5 });
    expect(done.type).toBe('train-done');
    if (done.type !== 'train-done') return;
    expect(done.logs.map((l) => l.step)).toEqual([1, 2, 3]);
    expect(done.stopped).toBe(false);
    expect(events.filter((e) => e.type === 'train-log')).toHaveLength(3);
    expect(events.some((e) => e.type === 'train-progress' && e.phase === 'optimizer')).toBe(true);

    const exp = await send({ type: 'adapter-export', which: 'student' });
    expect(exp.type).toBe('adapter');
    if (exp.type !== 'adapter') return;
    for (const f of ['adapter_config.json', 'adapter_model.safetensors'] as const) {
      expect(Buffer.from(exp.files[f]).equals(await readFile(path.join(cliOut, f))), f).toBe(true);
    }

    // Continuing from the CLI's adapter: exporting it again changes nothing, byte for byte.
    const files = {
      'adapter_config.json': new Uint8Array(await readFile(path.join(cliOut, 'adapter_config.json'))),
      'adapter_model.safetensors': new Uint8Array(await readFile(path.join(cliOut, 'adapter_model.safetensors'))),
    };
    const again = await send(start({ lora: { rank: 2 } }, files));
    expect(again).toMatchObject({ type: 'train-ready', info: { rank: 4, step: 0 } });
    const exp2 = await send({ type: 'adapter-export', which: 'student' });
    if (exp2.type !== 'adapter') throw new Error(JSON.stringify(exp2));
    expect(Buffer.from(exp2.files['adapter_model.safetensors']).equals(Buffer.from(files['adapter_model.safetensors']))).toBe(true);
    expect(Buffer.from(exp2.files['adapter_config.json']).equals(Buffer.from(files['adapter_config.json']))).toBe(true);
  });

  it('generation and logits use the chosen adapter; "none" restores the base model exactly', async () => {
    const { send } = await makeHost();
    const ids = [[1, 2, 3, 4]];
    const logitsOf = async () => {
      const e = await send({ type: 'logits', ids });
      if (e.type !== 'logits') throw new Error(JSON.stringify(e));
      return Array.from(e.logits[0][3]);
    };
    const base = await logitsOf();
    await send(start({ optimizer: { lr: 5e-2 } }));
    await send({ type: 'train-sft', jsonl: JSONL, steps: 2, batchSize: 3, seed: 1 });
    expect(await logitsOf()).toEqual(base); // still 'none'
    expect(await send({ type: 'adapter-use', which: 'student' })).toMatchObject({ type: 'adapter-used', which: 'student' });
    const tuned = await logitsOf();
    expect(Math.max(...tuned.map((x, i) => Math.abs(x - base[i])))).toBeGreaterThan(1e-3);
    // A further step refreshes the adapter generation uses.
    await send({ type: 'train-sft', jsonl: JSONL, steps: 1, batchSize: 3, seed: 2 });
    const tuned2 = await logitsOf();
    expect(tuned2).not.toEqual(tuned);
    await send({ type: 'adapter-use', which: 'none' });
    expect(await logitsOf()).toEqual(base);
  });

  it('a choice made before training starts applies to the trainer started later', async () => {
    const { send } = await makeHost();
    const logitsOf = async () => {
      const e = await send({ type: 'logits', ids: [[1, 2, 3]] });
      if (e.type !== 'logits') throw new Error(JSON.stringify(e));
      return Array.from(e.logits[0][2]);
    };
    const base = await logitsOf();
    expect(await send({ type: 'adapter-use', which: 'student' })).toMatchObject({ type: 'adapter-used', which: 'student' });
    await send(start({ optimizer: { lr: 5e-2 } }));
    expect(await logitsOf()).toEqual(base); // B = 0: the fresh adapter changes nothing yet
    await send({ type: 'train-sft', jsonl: JSONL, steps: 1, batchSize: 3, seed: 1 });
    expect(await logitsOf()).not.toEqual(base);
  });

  it('a distillation step reports loss, gradient norm and per-token student/teacher log-probs and divergence', async () => {
    const { send } = await makeHost();
    await send(start({ teacher: 'ema' }));
    const samples = [
      { ids: [5, 6, 7, 8, 9, 10], response_start: 3, teacher_ids: [20, 21, 5, 6, 7, 8, 9, 10], teacher_response_start: 5 },
      { ids: [11, 12, 13, 14], response_start: 2, teacher_ids: [22, 11, 12, 13, 14], teacher_response_start: 3 },
    ];
    const r = await send({ type: 'train-step', samples, loss: { kind: 'distill', alpha: 0.5, topk: 4 } });
    expect(r.type).toBe('train-stepped');
    if (r.type !== 'train-stepped') return;
    expect(r.log.step).toBe(1);
    expect(Number.isFinite(r.log.loss)).toBe(true);
    expect(r.log.gradNorm).toBeGreaterThan(0);
    expect(r.log.tokenCount).toBe(5);
    for (const k of ['student_logp', 'teacher_logp', 'token_divergence']) {
      expect(r.log.diagnostics[k].map((row) => row.length), k).toEqual([3, 2]);
    }
  });

  it('misuse gives clear errors and loses nothing', async () => {
    const { send } = await makeHost();
    expect(await send({ type: 'train-step', samples: [{ ids: [1, 2], response_start: 1 }], loss: { kind: 'ce' } })).toMatchObject({
      type: 'error',
      message: expect.stringMatching(/training has not started/),
    });
    expect(await send(start({ lora: { alpha: 0 } }))).toMatchObject({ type: 'error', message: expect.stringMatching(/lora\.alpha: must be a number > 0/) });
    expect(await send(start({ lora: { targets: ['c_attn'] } }))).toMatchObject({ type: 'error', message: expect.stringMatching(/unknown target module "c_attn"/) });
    expect(
      await send(start({}, { 'adapter_config.json': new TextEncoder().encode('{"r": 4, "lora_alpha": 0, "target_modules": ["q_proj"]}') })),
    ).toMatchObject({ type: 'error', message: expect.stringMatching(/adapter_model\.safetensors/) });
    await send(start());
    const bad = await send({ type: 'train-sft', jsonl: '{"prompt": "a", "response": "b"}\n{"prompt": 3}\n', steps: 2, batchSize: 1, seed: 0 });
    expect(bad).toMatchObject({ type: 'error', message: expect.stringMatching(/line 2/) });
    const outside = await send({ type: 'train-step', samples: [{ ids: [1, 99999], response_start: 1 }], loss: { kind: 'ce' } });
    expect(outside).toMatchObject({ type: 'error', message: expect.stringMatching(/99999/) });
    // Still usable afterwards.
    expect(await send({ type: 'train-step', samples: [{ ids: [1, 2, 3], response_start: 1 }], loss: { kind: 'ce' } })).toMatchObject({ type: 'train-stepped', log: { step: 1 } });
    // Loading another model ends the training session.
    await send({ type: 'load', source: { kind: 'embedded', url: 'other' } });
    expect(await send({ type: 'adapter-export', which: 'student' })).toMatchObject({ type: 'error', message: expect.stringMatching(/training has not started/) });
  });

  it('stop ends SFT after the current step and keeps what was learned', async () => {
    const { host, events, send } = await makeHost();
    await send(start());
    const run = host.handle({ type: 'train-sft', id: 900, jsonl: JSONL, steps: 50, batchSize: 1, seed: 0 });
    // Stop once the first step has been logged.
    while (!events.some((e) => e.type === 'train-log' && e.id === 900)) await new Promise((r) => setTimeout(r, 1));
    await host.handle({ type: 'stop', id: 901 });
    await run;
    const done = events.find((e) => e.type === 'train-done' && e.id === 900);
    expect(done).toMatchObject({ stopped: true });
    if (done?.type !== 'train-done') return;
    expect(done.logs.length).toBeGreaterThan(0);
    expect(done.logs.length).toBeLessThan(50);
    const exp = await send({ type: 'adapter-export', which: 'teacher' });
    expect(exp.type).toBe('adapter');
  });
});
