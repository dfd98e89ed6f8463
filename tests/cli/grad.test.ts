/**
 * `pmd-lab grad` against finite differences of an independent float64 loss (reference forward
 * pass + plain TS losses), for cross-entropy and for top-k distillation under a different
 * teacher context (teacher = same model and adapter, no gradient).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeTinyCheckpoint } from '../../scripts/tiny-model';
import { loadCheckpoint, type LoadedCheckpoint } from '../../src/engine/models/checkpoint';
import { NodeFolderSource } from '../../src/engine/models/node-source';
import { exportPeftAdapter, makeLoraAdapter } from '../../src/engine/lora/peft';
import { readSafetensors } from '../../src/engine/models/safetensors';
import type { LoraAdapter } from '../../src/engine/models/types';
import { Args } from '../../src/cli/args';
import * as grad from '../../src/cli/commands/grad';
import { Prng } from '../../src/util/prng';
import { distillFixed, refCeLoss, refDistillLoss, type RefSample } from '../reference/losses';

let dir: string;
let modelDir: string;
let adapterDir: string;
let ckpt: LoadedCheckpoint;
let adapter: LoraAdapter;
let samples: RefSample[];

const PREFIX = 'base_model.model.';

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pmd-grad-'));
  modelDir = path.join(dir, 'model');
  await writeTinyCheckpoint(modelDir, { family: 'qwen3', seed: 21 });
  ckpt = await loadCheckpoint(new NodeFolderSource(modelDir));
  // Non-zero B so every factor has a gradient.
  adapter = makeLoraAdapter(ckpt.config, { r: 4, alpha: 8, targetModules: ['q_proj', 'v_proj', 'o_proj', 'up_proj', 'down_proj'], useRslora: false }, 5, { bScale: 0.05 });
  adapterDir = path.join(dir, 'adapter');
  await mkdir(adapterDir);
  for (const [n, d] of Object.entries(exportPeftAdapter(adapter, 'tiny'))) await writeFile(path.join(adapterDir, n), d);
  const rng = new Prng(8);
  const rand = (n: number) => Array.from({ length: n }, () => Math.floor(rng.next() * 320));
  // Different lengths (padding), teacher contexts of different lengths than the student's.
  samples = [
    { p: 5, r: 4, t: 8 },
    { p: 2, r: 6, t: 3 },
    { p: 7, r: 2, t: 1 },
  ].map(({ p, r, t }) => {
    const prompt = rand(p);
    const resp = rand(r);
    const teacher = [...rand(t), ...prompt];
    return { ids: [...prompt, ...resp], response_start: p, teacher_ids: [...teacher, ...resp], teacher_response_start: teacher.length };
  });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function runGrad(name: string, batch: unknown, extra: string[] = []): Promise<{ loss: number; grads: Map<string, Float32Array> }> {
  const batchFile = path.join(dir, `${name}.json`);
  const out = path.join(dir, `out-${name}`);
  await writeFile(batchFile, JSON.stringify(batch));
  await grad.run(new Args(['--model', modelDir, '--adapter', adapterDir, '--batch', batchFile, '--out', out, ...extra]));
  const { loss } = JSON.parse(await readFile(path.join(out, 'loss.json'), 'utf8')) as { loss: number };
  const { tensors } = readSafetensors(await readFile(path.join(out, 'grads.safetensors')), 'grads.safetensors');
  return { loss, grads: new Map([...tensors].map(([k, t]) => [k, t.data])) };
}

/** Coordinates to check: a few per tensor, over A and B of several modules and layers. */
function coords(): { tensor: string; module: string; half: 'A' | 'B'; index: number }[] {
  const rng = new Prng(3);
  const out: { tensor: string; module: string; half: 'A' | 'B'; index: number }[] = [];
  for (const module of ['model.layers.0.self_attn.q_proj', 'model.layers.1.self_attn.v_proj', 'model.layers.0.mlp.down_proj', 'model.layers.1.mlp.up_proj']) {
    for (const half of ['A', 'B'] as const) {
      const n = adapter.modules.get(module)![half].data.length;
      for (let i = 0; i < 4; i++) out.push({ tensor: `${PREFIX}${module}.lora_${half}.weight`, module, half, index: Math.floor(rng.next() * n) });
    }
  }
  return out;
}

/** Central difference of a float64 loss; the step is what float32 storage actually applied. */
function finiteDiff(loss: (a: LoraAdapter) => number, c: { module: string; half: 'A' | 'B'; index: number }, h = 1e-3): number {
  const data = adapter.modules.get(c.module)![c.half].data;
  const x = data[c.index];
  data[c.index] = x + h;
  const up = data[c.index] - x;
  const lp = loss(adapter);
  data[c.index] = x - h;
  const down = x - data[c.index];
  const lm = loss(adapter);
  data[c.index] = x;
  return (lp - lm) / (up + down);
}

function compare(grads: Map<string, Float32Array>, loss: (a: LoraAdapter) => number): { rel: number; maxAbs: number; scale: number } {
  let num = 0;
  let den = 0;
  let maxAbs = 0;
  let scale = 0;
  for (const c of coords()) {
    const fd = finiteDiff(loss, c);
    const g = grads.get(c.tensor)![c.index];
    num += (g - fd) ** 2;
    den += fd ** 2;
    maxAbs = Math.max(maxAbs, Math.abs(g - fd));
    scale = Math.max(scale, Math.abs(fd));
  }
  return { rel: Math.sqrt(num / den), maxAbs, scale };
}

function expectPeftNames(grads: Map<string, Float32Array>): void {
  const expected = [...adapter.modules.keys()].flatMap((m) => [`${PREFIX}${m}.lora_A.weight`, `${PREFIX}${m}.lora_B.weight`]).sort();
  expect([...grads.keys()].sort()).toEqual(expected);
  for (const [m, { A, B }] of adapter.modules) {
    expect(grads.get(`${PREFIX}${m}.lora_A.weight`)!.length).toBe(A.data.length);
    expect(grads.get(`${PREFIX}${m}.lora_B.weight`)!.length).toBe(B.data.length);
  }
}

describe('pmd-lab grad', () => {
  it('cross-entropy: loss and gradients match finite differences of the reference loss', async () => {
    const plain = samples.map(({ ids, response_start }) => ({ ids, response_start }));
    const r = await runGrad('ce', { loss: { kind: 'ce' }, samples: plain });
    expectPeftNames(r.grads);
    const ref = (a: LoraAdapter) => refCeLoss(ckpt.config, ckpt.weights, plain, a);
    expect(Math.abs(r.loss - ref(adapter)) / ref(adapter)).toBeLessThan(1e-5);
    const e = compare(r.grads, ref);
    console.log(`grad ce: loss ${r.loss.toFixed(6)}, gradient vs finite differences: rel ${e.rel.toExponential(2)}, max abs ${e.maxAbs.toExponential(2)} (scale ${e.scale.toExponential(2)})`);
    expect(e.rel).toBeLessThan(1e-4);
    // Micro-batching (one sample each, different padding) gives the same loss and gradients.
    const m = await runGrad('ce-micro', { loss: { kind: 'ce' }, samples: plain }, ['--micro-batch', '1']);
    expect(Math.abs(m.loss - r.loss)).toBeLessThan(1e-5);
    let d = 0;
    for (const [k, g] of r.grads) g.forEach((x, i) => (d = Math.max(d, Math.abs(x - m.grads.get(k)![i]))));
    expect(d).toBeLessThan(1e-5);
  });

  it.each([0.5, 0, 1])('distill alpha=%s, top-5, teacher context differs: loss and gradients match finite differences', async (alpha) => {
    const r = await runGrad(`distill-${alpha}`, { loss: { kind: 'distill', alpha, topk: 5 }, samples });
    expectPeftNames(r.grads);
    const fixed = distillFixed(ckpt.config, ckpt.weights, samples, adapter, adapter, 5);
    const ref = (a: LoraAdapter) => refDistillLoss(ckpt.config, ckpt.weights, samples, a, fixed, alpha);
    const l0 = ref(adapter);
    expect(l0).toBeGreaterThan(1e-3); // the contexts really differ
    expect(Math.abs(r.loss - l0) / l0).toBeLessThan(1e-4);
    const e = compare(r.grads, ref);
    console.log(`grad distill alpha=${alpha}: loss ${r.loss.toFixed(6)}, gradient vs finite differences: rel ${e.rel.toExponential(2)}, max abs ${e.maxAbs.toExponential(2)} (scale ${e.scale.toExponential(2)})`);
    expect(e.rel).toBeLessThan(1e-4);
  });

  it('rejects malformed batch files with clear messages', async () => {
    const bad = async (batch: unknown) => {
      const f = path.join(dir, 'bad.json');
      await writeFile(f, typeof batch === 'string' ? batch : JSON.stringify(batch));
      try {
        await grad.run(new Args(['--model', modelDir, '--adapter', adapterDir, '--batch', f, '--out', path.join(dir, 'bad-out')]));
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    const ok = samples[0];
    expect(await bad('{')).toMatch(/bad\.json: not valid JSON/);
    expect(await bad({ loss: { kind: 'mse' }, samples: [ok] })).toMatch(/"loss\.kind" unknown loss kind "mse"/);
    expect(await bad({ loss: { kind: 'distill', alpha: 2, topk: 5 }, samples: [ok] })).toMatch(/alpha" must be a number in \[0, 1\]/);
    expect(await bad({ loss: { kind: 'distill', alpha: 0.5, topk: 0 }, samples: [ok] })).toMatch(/topk" must be a whole number >= 1/);
    expect(await bad({ loss: { kind: 'ce' }, samples: [] })).toMatch(/"samples" must be a non-empty list/);
    expect(await bad({ loss: { kind: 'ce' }, samples: [{ ids: [1, 2, 'x'], response_start: 1 }] })).toMatch(/samples\[0\]\.ids must be/);
    expect(await bad({ loss: { kind: 'ce' }, samples: [{ ids: [1, 2, 3], response_start: 3 }] })).toMatch(/samples\[0\]: "response_start" 3 leaves no response tokens/);
    expect(await bad({ loss: { kind: 'ce' }, samples: [{ ids: [1, 2, 3], response_start: 0 }] })).toMatch(/response_start" must be >= 1/);
    expect(await bad({ loss: { kind: 'ce' }, samples: [{ ids: [1, 99999], response_start: 1 }] })).toMatch(/samples\[0\]: ids\[1\] = 99999 is outside the vocabulary/);
    expect(await bad({ loss: { kind: 'distill', alpha: 0.5, topk: 5 }, samples: [{ ids: [1, 2, 3], response_start: 1 }] })).toMatch(/samples\[0\] needs "teacher_ids"/);
    expect(await bad({ loss: { kind: 'distill', alpha: 0.5, topk: 5 }, samples: [{ ids: [1, 2, 3], response_start: 1, teacher_ids: [4, 2, 4], teacher_response_start: 1 }] })).toMatch(
      /samples\[0\]: response token 1 differs: ids\[2\] = 3 but teacher_ids\[2\] = 4/,
    );
    expect(await bad({ loss: { kind: 'ce' }, samples: [{ ids: [1, 2], response_start: 1, extra: 1 }] })).toMatch(/unknown field "extra"/);
  });

  // Through the real executable once main.ts registers the training commands.
  const registered = existsSync('src/cli/main.ts') && /\bgrad\b/.test(readFileSync('src/cli/main.ts', 'utf8'));
  it.skipIf(!registered)('runs as `pmd-lab grad` through bin/pmd-lab.mjs', async () => {
    const batchFile = path.join(dir, 'bin.json');
    await writeFile(batchFile, JSON.stringify({ loss: { kind: 'ce' }, samples: [samples[0]] }));
    const out = path.join(dir, 'out-bin');
    await promisify(execFile)(process.execPath, [path.resolve('bin/pmd-lab.mjs'), 'grad', '--model', modelDir, '--adapter', adapterDir, '--batch', batchFile, '--out', out]);
    const { loss } = JSON.parse(await readFile(path.join(out, 'loss.json'), 'utf8')) as { loss: number };
    expect(Math.abs(loss - refCeLoss(ckpt.config, ckpt.weights, [samples[0]], adapter))).toBeLessThan(1e-4);
  });
});
