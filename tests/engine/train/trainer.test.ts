import { describe, expect, it } from 'vitest';
import { nodeCpuBackend } from '../../../src/engine/runtime/node-backend';
import { ModelRunner } from '../../../src/engine/runtime/model-runner';
import { Trainer, runnerWeightFeeds, type TrainProgress } from '../../../src/engine/train/trainer';
import { fullState, initLoraState } from '../../../src/engine/train/lora-state';
import { LORA_TARGETS, type LoraAdapter } from '../../../src/engine/models/types';
import { makeLoraAdapter } from '../../../src/engine/lora/peft';
import { loraStateFromAdapter } from '../../../src/engine/train/lora-state';
import type { TrainSample } from '../../../src/engine/train/batching';
import { Prng } from '../../../src/util/prng';
import { randomWeights, tinyConfig } from '../../support/random-model';

const cfg = tinyConfig('llama', { vocabSize: 61 });
const weights = randomWeights(cfg, 3);
const lora = { r: 4, alpha: 8, targetModules: [...LORA_TARGETS], useRslora: false };

function samplesFor(seed: number, n: number, teacher: boolean): TrainSample[] {
  const rng = new Prng(seed);
  const rand = (k: number) => Array.from({ length: k }, () => 2 + Math.floor(rng.next() * (cfg.vocabSize - 2)));
  return Array.from({ length: n }, (_, i) => {
    const p = rand(2 + (i % 3));
    const r = rand(3 + (i % 2));
    const s: TrainSample = { ids: [...p, ...r], response_start: p.length };
    if (teacher) {
      const t = [...rand(1 + (i % 2)), ...p];
      s.teacher_ids = [...t, ...r];
      s.teacher_response_start = t.length;
    }
    return s;
  });
}

function maxDiff(a: LoraAdapter, b: LoraAdapter): number {
  let d = 0;
  for (const [m, { A, B }] of a.modules) {
    const o = b.modules.get(m)!;
    A.data.forEach((x, i) => (d = Math.max(d, Math.abs(x - o.A.data[i]))));
    B.data.forEach((x, i) => (d = Math.max(d, Math.abs(x - o.B.data[i]))));
  }
  return d;
}

describe('Trainer', () => {
  it('graph-resident state (AdamW, accumulation, EMA graphs) matches the host state over 3 distillation steps', async () => {
    const backend = nodeCpuBackend();
    const state = initLoraState(cfg, lora, 2);
    const opts = { backend, config: cfg, weights, state, padId: 0, optimizer: { lr: 5e-3 }, microBatchSize: 2 } as const;
    const phases = new Set<string>();
    const g = await Trainer.create({ ...opts, stateOn: 'graph', onProgress: (p: TrainProgress) => phases.add(p.phase) });
    const h = await Trainer.create({ ...opts, stateOn: 'host' });
    const batch = samplesFor(1, 5, true);
    for (let i = 0; i < 3; i++) {
      const rg = await g.step(batch, { kind: 'distill', alpha: 0.5, topk: 4 });
      const rh = await h.step(batch, { kind: 'distill', alpha: 0.5, topk: 4 });
      expect(rg.step).toBe(i + 1);
      expect(Math.abs(rg.loss - rh.loss)).toBeLessThan(1e-6);
      expect(Math.abs(rg.gradNorm - rh.gradNorm) / rh.gradNorm).toBeLessThan(1e-5);
      expect(rg.diagnostics.token_divergence).toHaveLength(5);
      expect(rg.diagnostics.token_divergence[4]).toHaveLength(batch[4].ids.length - batch[4].response_start);
    }
    expect(maxDiff(await g.exportAdapter(), await h.exportAdapter())).toBeLessThan(1e-6);
    expect(maxDiff(await g.exportTeacherAdapter(), await h.exportTeacherAdapter())).toBeLessThan(1e-6);
    // The teacher trails the student: after 3 steps from the same start, it moved less.
    const start = makeLoraAdapter(cfg, lora, 2);
    expect(maxDiff(await g.exportTeacherAdapter(), start)).toBeLessThan(maxDiff(await g.exportAdapter(), start));
    expect([...phases].sort()).toEqual(['ema', 'optimizer', 'student-topk', 'teacher', 'train']);
    await g.release();
    await h.release();
  });

  it('padding is excluded: a sample scores the same alone and beside longer samples', async () => {
    const backend = nodeCpuBackend();
    const adapter = makeLoraAdapter(cfg, lora, 4, { bScale: 0.1 });
    const t = await Trainer.create({ backend, config: cfg, weights, state: loraStateFromAdapter(cfg, adapter), padId: 0, teacher: 'student' });
    const batch = samplesFor(7, 4, false);
    batch[0] = { ids: batch[0].ids.slice(0, 4), response_start: 2 }; // the shortest: most padding
    const together = await t.evaluateGrad(batch, { kind: 'ce' });
    const alone = await t.evaluateGrad([batch[0]], { kind: 'ce' });
    const a = alone.diagnostics.student_logp[0];
    const b = together.diagnostics.student_logp[0];
    expect(b).toHaveLength(2);
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-5);
    // The batch loss is the mean over all response tokens.
    const all = together.diagnostics.student_logp.flat();
    expect(together.tokenCount).toBe(all.length);
    expect(Math.abs(together.loss + all.reduce((x, y) => x + y, 0) / all.length)).toBeLessThan(1e-5);
    await t.release();
  });

  it('GRPO on-policy: ratio 1, loss = -(token-weighted mean advantage); weights can be borrowed from a ModelRunner', async () => {
    const backend = nodeCpuBackend();
    const runner = new ModelRunner(cfg, backend);
    await runner.loadWeights(weights);
    const t = await Trainer.create({ backend, config: cfg, weights: runnerWeightFeeds(runner), state: initLoraState(cfg, lora, 1), padId: 0, teacher: 'student' });
    const batch = samplesFor(3, 3, false).map((s, i) => ({ ...s, advantage: [1, -0.5, 2][i] }));
    const r = await t.step(batch, { kind: 'grpo', clipEps: 0.2 });
    let num = 0;
    let n = 0;
    batch.forEach((s) => {
      const k = s.ids.length - s.response_start;
      num += s.advantage * k;
      n += k;
    });
    expect(r.loss).toBeCloseTo(-num / n, 5);
    for (const row of r.diagnostics.token_ratio) for (const x of row) expect(x).toBeCloseTo(1, 5);
    await t.release();
    await runner.release();
  });

  it('full fine-tuning lowers the loss; norms and biases are left out of weight decay', async () => {
    const backend = nodeCpuBackend();
    const c2 = tinyConfig('qwen2', { vocabSize: 37, numLayers: 1 });
    const w2 = randomWeights(c2, 5);
    const t = await Trainer.create({ backend, config: c2, weights: w2, state: fullState(c2, w2), padId: 0, optimizer: { lr: 1e-2 } });
    const batch = samplesFor(9, 3, false).map((s) => ({ ...s, ids: s.ids.map((x) => x % c2.vocabSize) }));
    const losses: number[] = [];
    for (let i = 0; i < 4; i++) losses.push((await t.step(batch, { kind: 'ce' })).loss);
    expect(losses[3]).toBeLessThan(losses[0]);
    await t.syncState();
    expect(t.state.tensors.get('model.layers.0.self_attn.q_proj.weight')!.data[0]).not.toBe(w2.get('model.layers.0.self_attn.q_proj.weight')!.data[0]);
    await t.release();
  });

  it('distillation reports the teacher log-prob of each response token, scored under the teacher context', async () => {
    const backend = nodeCpuBackend();
    const runner = new ModelRunner(cfg, backend);
    await runner.loadWeights(weights);
    // B = 0 at initialisation, so the teacher (the student here) is the base model the runner computes.
    const t = await Trainer.create({ backend, config: cfg, weights: runnerWeightFeeds(runner), state: initLoraState(cfg, lora, 4), teacher: 'student', padId: 0, microBatchSize: 2 });
    const batch = samplesFor(6, 3, true);
    const r = await t.evaluateGrad(batch, { kind: 'distill', alpha: 0, topk: 3 });
    expect(r.diagnostics.teacher_logp).toHaveLength(3);
    for (let i = 0; i < batch.length; i++) {
      const s = batch[i];
      const ids = s.teacher_ids!;
      const T = ids.length;
      const out = await runner.forward({
        ids: BigInt64Array.from(ids.map(BigInt)),
        positions: BigInt64Array.from(ids.map((_, j) => BigInt(j))),
        mask: Float32Array.from({ length: T * T }, (_, q) => (q % T <= Math.floor(q / T) ? 0 : -1e9)),
        batch: 1,
        seq: T,
        logits: 'all',
        wantKv: false,
      });
      const V = cfg.vocabSize;
      const expected: number[] = [];
      for (let p = s.teacher_response_start! - 1; p < T - 1; p++) {
        const row = Array.from(out.logits.subarray(p * V, (p + 1) * V));
        const m = Math.max(...row);
        const lse = m + Math.log(row.reduce((a, x) => a + Math.exp(x - m), 0));
        expected.push(row[ids[p + 1]] - lse);
      }
      const got = r.diagnostics.teacher_logp[i];
      expect(got).toHaveLength(expected.length);
      got.forEach((x, j) => expect(Math.abs(x - expected[j])).toBeLessThan(1e-4));
    }
    await t.release();
    await runner.release();
  });

  it('full fine-tuning on an fp16-weight backend trains fp32 master weights, exactly as on an fp32 backend', async () => {
    const c2 = tinyConfig('qwen3', { vocabSize: 41, numLayers: 1 });
    const w2 = randomWeights(c2, 8);
    const batch = samplesFor(3, 3, false).map((s) => ({ ...s, ids: s.ids.map((x) => x % c2.vocabSize) }));
    const run = async (weightDtype: 'float32' | 'float16') => {
      const t = await Trainer.create({ backend: nodeCpuBackend({ weightDtype }), config: c2, weights: w2, state: fullState(c2, w2), padId: 0, optimizer: { lr: 1e-2 } });
      const losses: number[] = [];
      for (let i = 0; i < 2; i++) losses.push((await t.step(batch, { kind: 'ce' })).loss);
      await t.release();
      return losses;
    };
    expect(await run('float16')).toEqual(await run('float32'));
  });

  it('reports unusable inputs clearly', async () => {
    const backend = nodeCpuBackend();
    const t = await Trainer.create({ backend, config: cfg, weights, state: initLoraState(cfg, lora, 1), padId: 0 });
    await expect(t.step(samplesFor(1, 2, false), { kind: 'distill', alpha: 0.5, topk: 3 })).rejects.toThrow(/sample 0: needs "teacher_ids"/);
    await expect(t.step(samplesFor(1, 2, false), { kind: 'grpo', clipEps: 0.2 })).rejects.toThrow(/advantage/);
    await expect(t.step(samplesFor(1, 2, false), { kind: 'kl' } as never)).rejects.toThrow(/unknown loss kind "kl"/);
    await t.release();
  });
});
