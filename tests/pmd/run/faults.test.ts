/**
 * Faults inside a run leave it going and its data intact: a program that never ends is stopped
 * by the sandbox's time limit and verified as a failure with feedback saying so, and the run
 * completes; a reflector that returns garbage is recorded as failed reflections (machine.test.ts).
 */
import { readFile } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { resolvePmdConfig } from '../../../src/pmd/config';
import { buildServices } from '../../../src/pmd/run/build-services';
import { RunDriver } from '../../../src/pmd/run/driver';
import { MemoryRunStore } from '../../../src/pmd/run/memory-store';
import type { RunRecord } from '../../../src/pmd/run/state';
import { suiteContext } from '../../../src/pmd/run/suite';
import { createNodeSandbox } from '../../../src/pmd/sandbox/node-host';
import type { Sandbox } from '../../../src/pmd/sandbox/protocol';
import { parseTaskSuite } from '../../../src/pmd/tasks/validate';
import { FakePolicy } from '../../support/fake-loop';

/** A model whose every answer is a Python function that never returns. */
class LoopingPolicy extends FakePolicy {
  override decode(): string {
    return '```python\ndef sum_even(nums):\n    while True:\n        pass\n```';
  }
}

let sandbox: Sandbox | null = null;
afterAll(async () => {
  await (sandbox as unknown as { close(): Promise<void> } | null)?.close();
});

describe('faults in a run', () => {
  it('a hung program is stopped at its time limit, scored 0 with feedback, and the run completes', async () => {
    const suite = parseTaskSuite(await readFile('public/tasks/python-functions.jsonl', 'utf8'));
    const ctx = suiteContext(suite.tasks.filter((t) => t.id === 'py-01' || t.split === 'test'));
    const config = resolvePmdConfig({ variant: 'sdpo', steps: 1, problemsPerStep: 1, rolloutsPerProblem: 1, eval: { every: 10, n: 1, k: 1, maxProblems: 1 } });
    const policy = new LoopingPolicy({ trains: [], reflections: [] });
    const services = buildServices({
      policy,
      tasks: ctx.tasks,
      config,
      sandbox: async () => (sandbox = createNodeSandbox()),
    });
    const store = new MemoryRunStore();
    const d = await RunDriver.open(ctx, store, services, config);
    const t0 = Date.now();
    const end = await d.advance('end');
    expect(end.phase).toBe('done');
    const rollouts = store.records.filter((r): r is Extract<RunRecord, { kind: 'rollout' }> & { seq: number } => r.kind === 'rollout');
    expect(rollouts).toHaveLength(1);
    expect(rollouts[0].rollout.reward).toBe(0);
    expect(rollouts[0].rollout.feedback).toMatch(/time limit/);
    expect(Date.now() - t0).toBeLessThan(60_000);
  });
});
