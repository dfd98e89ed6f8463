/**
 * The embedded default through the CLI: `pmd-lab run` with no model and no tasks runs one PMD
 * step on the shipped world model and suite, the world's rule reflector writes the insights
 * (and every item says so), and `pmd-lab eval` with no model evaluates the shipped model.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from './run-cli';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pmd-world-run-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const lines = async (f: string) => (await readFile(f, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('the embedded world through the CLI', () => {
  it('one PMD step on the shipped model: rollouts verified, rule reflections, a distillation update', async () => {
    const out = path.join(dir, 'run');
    // The world's settings, with a small final evaluation to keep the test short.
    const small = path.join(dir, 'small.json');
    await writeFile(small, JSON.stringify({ eval: { n: 2, k: 2, maxProblems: 8 } }));
    const r = await runCli(['run', '--out', out, '--config', small, '--steps', '1', '--no-progress']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const cfg = JSON.parse(await readFile(path.join(out, 'config.json'), 'utf8'));
    const world = JSON.parse(await readFile('public/world/run.json', 'utf8'));
    expect(cfg).toMatchObject({ ...world, steps: 1, eval: { ...world.eval, n: 2, k: 2, maxProblems: 8 } });
    const [m] = await lines(path.join(out, 'metrics.jsonl'));
    expect(m).toMatchObject({ step: 1, stage: 'train' });
    expect(m.loss).toEqual(expect.any(Number));
    const rollouts = await lines(path.join(out, 'rollouts.jsonl'));
    expect(rollouts).toHaveLength(cfg.problemsPerStep * cfg.rolloutsPerProblem);
    // The shipped student solves some training problems and fails others: both kinds of evidence.
    const rewards = rollouts.map((x) => x.reward as number);
    expect(rewards.some((x) => x === 1)).toBe(true);
    expect(rewards.some((x) => x === 0)).toBe(true);
    const reflections = await lines(path.join(out, 'reflections.jsonl'));
    expect(reflections.length).toBeGreaterThan(0);
    for (const x of reflections) expect(x).toMatchObject({ reflector: 'rule:procedures-world', status: 'ok' });
    const insights = Object.values(JSON.parse(await readFile(path.join(out, 'memory/insights.json'), 'utf8')) as Record<string, { source: { reflector: string } }[]>).flat();
    expect(insights.length).toBeGreaterThan(0);
    for (const x of insights) expect(x.source.reflector).toBe('rule:procedures-world');
  });

  it('eval with no model evaluates the shipped model on the held-out split', async () => {
    const out = path.join(dir, 'eval.json');
    const r = await runCli(['eval', '--max-problems', '8', '--n', '2', '--k', '2', '--out', out]);
    expect(r.code).toBe(0);
    const e = JSON.parse(await readFile(out, 'utf8'));
    expect(e.n).toBe(2);
    expect(e.avg_at_n).toEqual(expect.any(Number));
  });
});
