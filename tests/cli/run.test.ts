/**
 * `pmd-lab run` and `pmd-lab eval` on a tiny seeded model and the shipped arithmetic suite:
 * the files of the contract with their fields, a run killed with SIGKILL and resumed ends with
 * the same state and logs as an uninterrupted one, and eval's report.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeTinyCheckpoint } from '../../scripts/tiny-model';
import { runCli } from './run-cli';

let dir: string;
let model: string;
let config: string;
const TASKS = path.resolve('public/tasks/arithmetic.jsonl');

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pmd-run-'));
  model = path.join(dir, 'model');
  await writeTinyCheckpoint(model, { family: 'qwen3', seed: 3 });
  config = path.join(dir, 'run.json');
  await writeFile(
    config,
    JSON.stringify({ steps: 3, problemsPerStep: 2, rolloutsPerProblem: 2, rollout: { maxNewTokens: 6, chunk: 2 }, eval: { every: 3, n: 2, k: 2, maxProblems: 2 }, reflector: { maxNewTokens: 16 }, behavior: { every: 2 } }),
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const lines = async (f: string) => (await readFile(f, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

async function snapshot(out: string) {
  const logs: Record<string, unknown[]> = {};
  for (const f of ['metrics.jsonl', 'rollouts.jsonl', 'reflections.jsonl', 'evals.jsonl', 'memory/events.jsonl']) logs[f] = existsSync(path.join(out, f)) ? await lines(path.join(out, f)) : [];
  return { state: JSON.parse(await readFile(path.join(out, 'state.json'), 'utf8')), logs, adapter: (await readFile(path.join(out, 'adapter/adapter_model.safetensors'))).toString('base64') };
}

describe('pmd-lab run', () => {
  it('writes the contract files with their fields', async () => {
    const out = path.join(dir, 'full');
    const r = await runCli(['run', '--config', config, '--model', model, '--tasks', TASKS, '--out', out, '--no-progress']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const cfg = JSON.parse(await readFile(path.join(out, 'config.json'), 'utf8'));
    expect(cfg).toMatchObject({ variant: 'pmd', seed: 0, steps: 3, problemsPerStep: 2, rolloutsPerProblem: 2, memoryLevels: ['experience', 'insight', 'behavior'] });
    const metrics = await lines(path.join(out, 'metrics.jsonl'));
    expect(metrics.map((m) => m.step)).toEqual([1, 2, 3]);
    for (const m of metrics) {
      expect(typeof m.reward_mean).toBe('number');
      expect(m.loss === null || typeof m.loss === 'number').toBe(true);
      expect(typeof m.masked).toBe('number');
    }
    expect(metrics[2].eval).toMatchObject({ avg_at_n: expect.any(Number) });
    const rollouts = await lines(path.join(out, 'rollouts.jsonl'));
    expect(rollouts).toHaveLength(3 * 2 * 2);
    for (const x of rollouts) {
      expect(x).toMatchObject({ step: expect.any(Number), problem_id: expect.any(String), index: expect.any(Number), response: expect.any(String), reward: expect.any(Number), feedback: expect.any(String) });
      expect(typeof x.teacher_context).toBe('string');
    }
    const exp = JSON.parse(await readFile(path.join(out, 'memory/experience.json'), 'utf8')) as Record<string, { kind: string }[]>;
    expect(Object.values(exp).flat().every((e) => e.kind === 'success' || e.kind === 'failure')).toBe(true);
    expect(Array.isArray(JSON.parse(await readFile(path.join(out, 'memory/behaviors.json'), 'utf8')))).toBe(true);
    JSON.parse(await readFile(path.join(out, 'memory/insights.json'), 'utf8'));
    const events = await lines(path.join(out, 'memory/events.jsonl'));
    expect(events.length).toBeGreaterThan(0);
    for (const e of events) expect(e).toMatchObject({ step: expect.any(Number), level: expect.any(String), op: expect.any(String) });
    expect((await readdir(path.join(out, 'adapter'))).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
  });

  it('a run killed with SIGKILL resumes with --resume and ends exactly where the uninterrupted run did', async () => {
    const full = await snapshot(path.join(dir, 'full'));
    const out = path.join(dir, 'killed');
    // Kill once the first step's metrics are written (mid-run: step 2 is under way).
    await new Promise<void>((resolve) => {
      const child = spawn(process.execPath, [path.resolve('bin/pmd-lab.mjs'), 'run', '--config', config, '--model', model, '--tasks', TASKS, '--out', out, '--no-progress'], { stdio: 'ignore' });
      const timer = setInterval(() => {
        if (existsSync(path.join(out, 'metrics.jsonl'))) {
          clearInterval(timer);
          child.kill('SIGKILL');
        }
      }, 20);
      child.on('exit', () => {
        clearInterval(timer);
        resolve();
      });
    });
    const partial = JSON.parse(await readFile(path.join(out, 'state.json'), 'utf8')) as { step: number; phase: string };
    expect(partial.phase).not.toBe('done');
    const r = await runCli(['run', '--out', out, '--resume', '--no-progress']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const resumed = await snapshot(out);
    expect(resumed.state).toEqual(full.state);
    expect(resumed.logs).toEqual(full.logs);
    expect(resumed.adapter).toBe(full.adapter);
  });

  it('--constant-weights (a speed setting) leaves the run as it was', async () => {
    const out = path.join(dir, 'constant');
    const r = await runCli(['run', '--config', config, '--model', model, '--tasks', TASKS, '--out', out, '--no-progress', '--constant-weights']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const [got, want] = [await snapshot(out), await snapshot(path.join(dir, 'full'))];
    // The rollouts' log-probabilities may differ in the last float bits (a packed weight is
    // multiplied by another kernel for a single row; constant-weights.test.ts); all else is equal.
    const split = (s: typeof got) => s.logs['rollouts.jsonl'].map((x) => {
      const { logprobs, ...rest } = x as { logprobs: number[] };
      return { rest, logprobs };
    });
    expect(split(got).map((x) => x.rest)).toEqual(split(want).map((x) => x.rest));
    const lp = [split(got).flatMap((x) => x.logprobs), split(want).flatMap((x) => x.logprobs)];
    expect(lp[0]).toHaveLength(lp[1].length);
    expect(Math.max(...lp[0].map((v, i) => Math.abs(v - lp[1][i])))).toBeLessThan(1e-5);
    expect({ ...got, logs: { ...got.logs, 'rollouts.jsonl': [] } }).toEqual({ ...want, logs: { ...want.logs, 'rollouts.jsonl': [] } });
  });

  it('refuses a folder that holds other work, a resume of nothing, and bad configs, before any work', async () => {
    const busy = path.join(dir, 'busy');
    await writeFile(path.join(dir, 'note.txt'), 'x');
    const other = await runCli(['run', '--config', config, '--model', model, '--tasks', TASKS, '--out', dir]);
    expect(other.code).not.toBe(0);
    expect(other.stderr).toMatch(/already holds other files/);
    const nothing = await runCli(['run', '--out', busy, '--resume']);
    expect(nothing.stderr).toMatch(/holds no run to resume/);
    const bad = await runCli(['run', '--model', model, '--tasks', TASKS, '--out', path.join(dir, 'b1'), '--variant', 'magic']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/variant: must be one of "pmd"/);
    await writeFile(path.join(dir, 'bad.json'), JSON.stringify({ rolloutsPerProblem: 0, eval: { k: 9, n: 2 }, nope: 1 }));
    const many = await runCli(['run', '--config', path.join(dir, 'bad.json'), '--model', model, '--tasks', TASKS, '--out', path.join(dir, 'b2')]);
    expect(many.stderr).toMatch(/nope: unknown field/);
    expect(many.stderr).toMatch(/rolloutsPerProblem: must be a whole number >= 1/);
  });
});

describe('pmd-lab eval', () => {
  it('reports avg@n, pass@k, maj@k, best@k and per-problem samples, memory-free and with a run\'s memory', async () => {
    const out = path.join(dir, 'eval.json');
    const r = await runCli(['eval', '--model', model, '--tasks', TASKS, '--split', 'test', '--n', '2', '--k', '2', '--max-new-tokens', '6', '--max-problems', '3', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const e = JSON.parse(await readFile(out, 'utf8'));
    expect(e).toMatchObject({ avg_at_n: expect.any(Number), pass_at_k: expect.any(Number), maj_at_k: expect.any(Number), best_at_k: expect.any(Number), n: 2, k: 2 });
    expect(e.problems).toHaveLength(3);
    for (const p of e.problems) {
      expect(typeof p.id).toBe('string');
      expect(p.samples).toHaveLength(2);
      for (const s of p.samples) expect(s).toMatchObject({ reward: expect.any(Number) });
    }
    expect(JSON.parse(r.stdout)).toMatchObject({ avg_at_n: e.avg_at_n, n: 2, k: 2 });
    const withMem = await runCli(['eval', '--model', model, '--tasks', TASKS, '--memory', path.join(dir, 'full', 'memory'), '--n', '2', '--k', '2', '--max-new-tokens', '6', '--max-problems', '2', '--out', path.join(dir, 'eval-mem.json')]);
    expect(withMem.code).toBe(0);
    expect(JSON.parse(await readFile(path.join(dir, 'eval-mem.json'), 'utf8')).with_memory).toBe(true);
  });

  it("retrieves a run's memory with that run's settings: a broken config.json next to it is named, before any work", async () => {
    const runDir = path.join(dir, 'copied-run');
    await cp(path.join(dir, 'full', 'memory'), path.join(runDir, 'memory'), { recursive: true });
    await writeFile(path.join(runDir, 'config.json'), JSON.stringify({ retrieval: { lexicalWeight: 7 } }));
    const out = path.join(dir, 'eval-bad-run.json');
    const r = await runCli(['eval', '--model', model, '--tasks', TASKS, '--memory', path.join(runDir, 'memory'), '--n', '1', '--k', '1', '--max-problems', '1', '--out', out]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/config\.json is not a valid run config/);
    expect(r.stderr).toMatch(/retrieval\.lexicalWeight/);
    await expect(readFile(out)).rejects.toThrow();
  });
});
