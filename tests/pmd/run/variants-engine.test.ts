/**
 * Every variant on a real (tiny, seeded) model through the engine's Policy on onnxruntime-node,
 * with the shipped arithmetic suite and the policy as its own reflector: the invariant each
 * variant promises holds on real rollouts, real teacher scoring and real updates.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { makeTinyCheckpoint } from '../../../scripts/tiny-model';
import { openModel } from '../../../src/engine/models/open-model';
import { MemorySource } from '../../../src/engine/models/sources';
import { loadTokenizer } from '../../../src/engine/models/tokenizer';
import { createPolicy } from '../../../src/engine/policy';
import { ModelRunner } from '../../../src/engine/runtime/model-runner';
import { nodeCpuBackend } from '../../../src/engine/runtime/node-backend';
import { resolvePmdConfig, trainConfigOf, type Variant } from '../../../src/pmd/config';
import { buildServices } from '../../../src/pmd/run/build-services';
import { RunDriver } from '../../../src/pmd/run/driver';
import { MemoryRunStore } from '../../../src/pmd/run/memory-store';
import type { RunRecord } from '../../../src/pmd/run/state';
import { suiteContext } from '../../../src/pmd/run/suite';
import { parseTaskSuite } from '../../../src/pmd/tasks/validate';

async function runVariant(variant: Variant, extra: Record<string, unknown> = {}) {
  const ckpt = await openModel(new MemorySource(makeTinyCheckpoint({ family: 'qwen3', seed: 7 }), 'tiny'));
  const runner = new ModelRunner(ckpt.config, nodeCpuBackend());
  await runner.loadWeights(ckpt.weights);
  const tokenizer = loadTokenizer(ckpt.tokenizerJson, ckpt.tokenizerConfig, { vocabSize: ckpt.config.vocabSize });
  const suite = parseTaskSuite(await readFile('public/tasks/arithmetic.jsonl', 'utf8'));
  const ctx = suiteContext(suite.tasks);
  const config = resolvePmdConfig({
    variant,
    steps: 2,
    problemsPerStep: 2,
    rolloutsPerProblem: 2,
    rollout: { maxNewTokens: 6, chunk: 4 },
    reflector: { maxNewTokens: 16 },
    behavior: { every: 1 },
    eval: { every: 2, n: 1, k: 1, maxProblems: 2 },
    memoryBuildSteps: 1,
    ...extra,
  });
  const policy = await createPolicy({ runner, tokenizer, label: 'tiny', train: trainConfigOf(config) });
  const initial = await policy.exportAdapter('student');
  const store = new MemoryRunStore();
  const driver = await RunDriver.open(ctx, store, buildServices({ policy, tasks: ctx.tasks, config }), config);
  const end = await driver.advance('end');
  const final = await policy.exportAdapter('student');
  await policy.release();
  await runner.release();
  const of = <K extends RunRecord['kind']>(k: K) => store.records.filter((r): r is Extract<RunRecord, { kind: K }> & { seq: number } => r.kind === k);
  return { end, store, of, changed: !Buffer.from(final['adapter_model.safetensors']).equals(Buffer.from(initial['adapter_model.safetensors'])) };
}

describe('variants on a real tiny model', () => {
  it('pmd: every step trains on teacher-scored rollouts; per-token teacher and student log-probs are recorded', async () => {
    const r = await runVariant('pmd');
    expect(r.end.phase).toBe('done');
    expect(r.changed).toBe(true);
    const m = r.of('metric').map((x) => x.metric);
    expect(m.every((x) => x.loss !== null && Number.isFinite(x.loss))).toBe(true);
    const rolled = r.of('rollout').map((x) => x.rollout).filter((x) => x.tokensView);
    expect(rolled.length).toBeGreaterThan(0);
    for (const x of rolled) {
      expect(x.tokensView!.teacherLogp).toHaveLength(x.tokens.length);
      expect(x.tokensView!.divergence.every((d) => d >= -1e-6)).toBe(true);
    }
  });

  it('frozen-policy: the adapter is unchanged, memory still evolves', async () => {
    const r = await runVariant('frozen-policy');
    expect(r.changed).toBe(false);
    expect(r.end.trainerVersion).toBe(0);
    expect(r.of('memory-event').length).toBeGreaterThan(0);
  });

  it('frozen-memory: no memory change after the build step', async () => {
    const r = await runVariant('frozen-memory');
    expect(r.end.totalSteps).toBe(3);
    expect(r.of('memory-event').every((e) => e.event.step === 1)).toBe(true);
    expect(r.changed).toBe(true);
  });

  it('pmd-transient: nothing carries over (memory is empty at the end)', async () => {
    const r = await runVariant('pmd-transient');
    expect(Object.keys(r.end.memory.problems)).toHaveLength(0);
    expect(r.end.memory.behaviors).toHaveLength(0);
    expect(r.of('memory-event').filter((e) => e.event.op === 'clear')).toHaveLength(2);
  });

  it('sdpo: teacher contexts contain no memory blocks', async () => {
    const r = await runVariant('sdpo');
    for (const x of r.of('rollout').map((y) => y.rollout)) {
      expect(x.teacher!.blocks.every((b) => ['problem', 'solution', 'feedback', 'closing'].includes(b.kind))).toBe(true);
    }
    expect(r.of('memory-event')).toHaveLength(0);
  });

  it('grpo: no teacher; the policy still updates', async () => {
    const r = await runVariant('grpo');
    expect(r.of('rollout').every((x) => x.rollout.teacher === null)).toBe(true);
    // All rewards are 0 for a random model, so every advantage is 0: the update is a no-op step of AdamW.
    expect(r.end.trainerVersion).toBe(2);
  });
});
