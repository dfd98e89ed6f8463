/**
 * The PMD state machine with a scripted model: a run goes through every phase, each variant
 * keeps its invariants, a run killed after any transition resumes to the identical state and
 * records, and bad reflector output or live switches behave as documented.
 */
import { describe, expect, it } from 'vitest';
import { resolvePmdConfig, type PmdConfig } from '../../../src/pmd/config';
import { RunDriver } from '../../../src/pmd/run/driver';
import { MemoryRunStore } from '../../../src/pmd/run/memory-store';
import type { RunRecord, RunState } from '../../../src/pmd/run/state';
import { fakeContext, fakeServices, goodReflector, type ReflectScript } from '../../support/fake-loop';

const SMALL = { steps: 4, problemsPerStep: 2, rolloutsPerProblem: 3, behavior: { every: 2 }, eval: { every: 2, n: 2, k: 2 }, rollout: { chunk: 4 } };

function config(over: Record<string, unknown> = {}): PmdConfig {
  return resolvePmdConfig({ ...SMALL, ...over });
}

async function runAll(cfg: PmdConfig, script?: ReflectScript) {
  const ctx = fakeContext();
  const store = new MemoryRunStore();
  const f = fakeServices(script);
  const phases: string[] = [];
  const d = await RunDriver.open(ctx, store, f.services, cfg, { onTransition: (s) => phases.push(`${s.step}:${s.phase}`) });
  const end = await d.advance('end');
  return { end, store, ...f, phases };
}

const kinds = (store: MemoryRunStore, kind: RunRecord['kind']) => store.records.filter((r) => r.kind === kind);

describe('PMD machine', () => {
  it('a PMD run visits every phase and records rollouts, memory, reflections, metrics and evaluations', async () => {
    const { end, store, phases, log } = await runAll(config());
    expect(end.phase).toBe('done');
    for (const p of ['rollout', 'verify', 'experience', 'insight', 'behavior', 'teacher', 'update', 'evaluate']) expect(phases.some((x) => x.endsWith(`:${p}`)), p).toBe(true);
    expect(kinds(store, 'rollout')).toHaveLength(4 * 2 * 3);
    const metrics = kinds(store, 'metric').map((r) => (r as Extract<RunRecord, { kind: 'metric' }>).metric);
    expect(metrics.map((m) => m.step)).toEqual([1, 2, 3, 4]);
    expect(metrics.filter((m) => m.eval).map((m) => m.step)).toEqual([2, 4]);
    expect(log.trains).toHaveLength(4);
    expect(log.trains.every((t) => t.loss.kind === 'distill')).toBe(true);
    expect(end.memory.behaviors.length).toBeGreaterThan(0);
    expect(Object.values(end.memory.problems).some((p) => p.insights.length > 0)).toBe(true);
    const events = kinds(store, 'memory-event').map((r) => (r as Extract<RunRecord, { kind: 'memory-event' }>).event);
    expect(new Set(events.map((e) => e.level))).toEqual(new Set(['experience', 'insight', 'behavior']));
    // Bounds hold.
    for (const pm of Object.values(end.memory.problems)) {
      expect(pm.experience.filter((x) => x.kind === 'success').length).toBeLessThanOrEqual(5);
      expect(pm.experience.filter((x) => x.kind === 'failure').length).toBeLessThanOrEqual(3);
    }
    // Consolidation every 2 steps: steps 2 and 4.
    expect(end.memory.consolidations).toBe(2);
  });

  it('a run killed after any transition resumes to the identical state and records', async () => {
    const cfg = config({ steps: 3 });
    const full = await runAll(cfg);
    const total = full.store.commits;
    const reference = JSON.stringify(full.end);
    // Timing records hold wall-clock times: everything else must be identical.
    const noTimes = (rs: MemoryRunStore['records']) => JSON.stringify(rs.filter((r) => r.kind !== 'timing'));
    const refRecords = noTimes(full.store.records);
    for (let k = 1; k < total; k++) {
      const ctx = fakeContext();
      const store = new MemoryRunStore();
      const a = fakeServices();
      const d = await RunDriver.open(ctx, store, a.services, cfg);
      let n = 1;
      await d.advance('end', () => n++ >= k);
      // "Kill": drop the driver and the model; only the store survives.
      const disk = store.clone();
      const b = fakeServices();
      const resumed = await RunDriver.open(ctx, disk, b.services, null);
      const end = await resumed.advance('end');
      expect(JSON.stringify(end), `killed after transition ${k}`).toBe(reference);
      expect(noTimes(disk.records), `records after a kill at ${k}`).toBe(refRecords);
    }
  });

  it('sdpo: teacher contexts hold a solution or feedback only; no memory is built', async () => {
    const { end, store } = await runAll(config({ variant: 'sdpo' }));
    expect(Object.keys(end.memory.problems)).toHaveLength(0);
    expect(kinds(store, 'memory-event')).toHaveLength(0);
    const rollouts = kinds(store, 'rollout').map((r) => (r as Extract<RunRecord, { kind: 'rollout' }>).rollout);
    for (const r of rollouts) {
      const blocks = r.teacher!.blocks.map((b) => b.kind);
      expect(blocks.every((b) => ['problem', 'solution', 'feedback', 'closing'].includes(b))).toBe(true);
      if (blocks.includes('solution')) expect(blocks).not.toContain('feedback'); // feedback only without a solution
    }
  });

  it('grpo: no teacher, group-normalised advantages', async () => {
    const { store, log } = await runAll(config({ variant: 'grpo' }));
    const rollouts = kinds(store, 'rollout').map((r) => (r as Extract<RunRecord, { kind: 'rollout' }>).rollout);
    expect(rollouts.every((r) => r.teacher === null)).toBe(true);
    expect(log.trains.every((t) => t.loss.kind === 'grpo' && t.samples.every((s) => s.teacher_ids === undefined && Number.isFinite(s.advantage)))).toBe(true);
    for (const t of log.trains) {
      // Advantages of each group of 3 sum to zero.
      for (let i = 0; i < t.samples.length; i += 3) expect(Math.abs(t.samples.slice(i, i + 3).reduce((a, s) => a + s.advantage!, 0))).toBeLessThan(1e-9);
    }
  });

  it('frozen-policy: no update ever; memory evolves; evaluation has memory in context', async () => {
    const { end, store, log } = await runAll(config({ variant: 'frozen-policy' }));
    expect(log.trains).toHaveLength(0);
    expect(end.trainerVersion).toBe(0);
    expect(kinds(store, 'memory-event').length).toBeGreaterThan(0);
    const evals = kinds(store, 'eval').map((r) => (r as Extract<RunRecord, { kind: 'eval' }>).eval);
    expect(evals.length).toBeGreaterThan(0);
    expect(evals.every((e) => e.withMemory)).toBe(true);
  });

  it('frozen-memory: memory is built in the first steps with no update, then never changes', async () => {
    const cfg = config({ variant: 'frozen-memory', memoryBuildSteps: 2 });
    const { end, store, log } = await runAll(cfg);
    expect(end.totalSteps).toBe(6);
    const metrics = kinds(store, 'metric').map((r) => (r as Extract<RunRecord, { kind: 'metric' }>).metric);
    expect(metrics.map((m) => m.stage)).toEqual(['memory-build', 'memory-build', 'train', 'train', 'train', 'train']);
    const events = kinds(store, 'memory-event').map((r) => (r as Extract<RunRecord, { kind: 'memory-event' }>).event);
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.step <= 2)).toBe(true);
    expect(log.trains).toHaveLength(4);
  });

  it('pmd-transient: memory lasts one step (cleared at every step end), behaviors consolidated every step', async () => {
    const cfg = config({ variant: 'pmd-transient' });
    const ctx = fakeContext();
    const store = new MemoryRunStore();
    const f = fakeServices();
    const d = await RunDriver.open(ctx, store, f.services, cfg);
    const seenAtRollout: number[] = [];
    while (d.state.phase !== 'done') {
      if (d.state.phase === 'rollout' && d.state.cursor === 1) seenAtRollout.push(Object.keys(d.state.memory.problems).length + d.state.memory.behaviors.length);
      await d.advance('effect');
    }
    expect(seenAtRollout.every((n) => n === 0)).toBe(true);
    const clears = kinds(store, 'memory-event').filter((r) => (r as Extract<RunRecord, { kind: 'memory-event' }>).event.op === 'clear');
    expect(clears).toHaveLength(4);
    expect(f.log.reflections.filter((r) => r.purpose.startsWith('behavior')).length).toBeGreaterThanOrEqual(4);
  });

  it('garbage from the reflector is repaired, retried once, then recorded as a failed reflection; the run goes on', async () => {
    const script: ReflectScript = (e, attempt) => (e.evidence.purpose === 'insight' && attempt === 1 ? 'I think {"strategies": [{"title": "Broken' : e.evidence.purpose === 'insight' ? 'no json here at all' : goodReflector(e, attempt));
    const { end, store } = await runAll(config({ steps: 2 }), script);
    expect(end.phase).toBe('done');
    const refl = kinds(store, 'reflection').map((r) => (r as Extract<RunRecord, { kind: 'reflection' }>).reflection);
    const insight = refl.filter((r) => r.purpose === 'insight');
    expect(insight.length).toBeGreaterThan(0);
    // The first reply is repairable JSON; it parses (repaired) but has no complete item.
    for (const r of insight) expect(r.status).toBe('repaired');
    const always = (e: Parameters<ReflectScript>[0]) => (e.evidence.purpose === 'insight' ? 'nonsense' : goodReflector(e, 1));
    const bad = await runAll(config({ steps: 2 }), always);
    const failed = kinds(bad.store, 'reflection').map((r) => (r as Extract<RunRecord, { kind: 'reflection' }>).reflection).filter((r) => r.purpose === 'insight');
    expect(failed.every((r) => r.status === 'failed' && r.attempts.length === 2 && r.attempts.every((a) => a.status === 'invalid'))).toBe(true);
    expect(Object.values(bad.end.memory.problems).every((p) => p.insights.length === 0)).toBe(true);
    expect(bad.end.phase).toBe('done');
  });

  it('insight reflections asked for together (reflector.batch) write the same memory and records as one at a time', async () => {
    // Unusable replies for about half the attempts (by seed, so either way gets the same ones).
    const flaky: ReflectScript = (e, attempt) => (e.evidence.purpose === 'insight' && e.seed % 2 === 0 ? 'not json' : goodReflector(e, attempt));
    const run = async (batch: number, script: ReflectScript = goodReflector) => {
      const ctx = fakeContext();
      const store = new MemoryRunStore();
      const f = fakeServices(script);
      const pending: string[] = [];
      const d = await RunDriver.open(ctx, store, f.services, config({ steps: 3, problemsPerStep: 5, reflector: { batch } }), { onTransition: (s) => s.pending && pending.push(s.pending.kind) });
      const end = await d.advance('end');
      const reflections = kinds(store, 'reflection').map((r) => (r as Extract<RunRecord, { kind: 'reflection' }>).reflection);
      return { end, pending, reflections, seeds: f.log.reflections.map((e) => e.seed) };
    };
    const one = await run(1);
    const four = await run(4);
    expect(one.pending).not.toContain('reflect-batch');
    // 5 problems with experience per step: a batch of 4, then one of 1 is a single reflect.
    expect(four.pending.filter((k) => k === 'reflect-batch').length).toBeGreaterThanOrEqual(3);
    expect(four.reflections).toEqual(one.reflections);
    expect(four.end.memory).toEqual(one.end.memory);
    expect([...four.seeds].sort()).toEqual([...one.seeds].sort());
    expect(four.end.work).toBeNull();
    const flakyOne = await run(1, flaky);
    const flakyFour = await run(4, flaky);
    expect(flakyOne.reflections.some((r) => r.attempts.length === 2)).toBe(true);
    expect(flakyFour.reflections).toEqual(flakyOne.reflections);
    expect(flakyFour.end.memory).toEqual(flakyOne.end.memory);
  });

  it('live switches: freezing the policy stops updates, freezing memory stops memory changes', async () => {
    const ctx = fakeContext();
    const store = new MemoryRunStore();
    const f = fakeServices();
    const d = await RunDriver.open(ctx, store, f.services, config({ steps: 4 }));
    await d.advance('step');
    expect(f.log.trains).toHaveLength(1);
    await d.setFreeze({ policy: true, memory: true });
    const before = JSON.stringify(d.state.memory);
    const version = d.state.trainerVersion;
    await d.advance('end');
    expect(f.log.trains).toHaveLength(1);
    expect(d.state.trainerVersion).toBe(version);
    expect(JSON.stringify(d.state.memory)).toBe(before);
    expect(kinds(store, 'control')).toHaveLength(1);
  });

  it('the state is plain JSON', async () => {
    const { end } = await runAll(config({ steps: 1 }));
    expect(JSON.parse(JSON.stringify(end)) as RunState).toEqual(end);
  });
});
