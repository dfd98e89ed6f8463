/**
 * `npm run experiment:tiny`: the ablations of the paper on the embedded world, through the same
 * CLI a researcher uses. Runs `pmd-lab run` for pmd, pmd-transient, frozen-memory,
 * frozen-policy, sdpo and grpo with three seeds each, and pmd with the memory-level ablation
 * (experience / + insight / + behavior), then evaluates every run's student memory-free on the
 * held-out split (`pmd-lab eval --adapter`; the frozen policy with its memory in context) and
 * the base model. Writes docs/experiments/tiny.md (tables: mean and spread per variant) and
 * docs/experiments/tiny-curves.png (reward and evaluation curves, drawn by uPlot in headless
 * Chromium). Run folders go to .cache/experiment-tiny/ (resumable: finished runs are reused).
 *
 *   npm run experiment:tiny [-- --seeds 0,1,2] [-- --only pmd,sdpo] [-- --steps 10 --name tiny]
 * (--name: docs/experiments/<name>.md, <name>-curves.png and .cache/experiment-<name>/; e.g.
 *  --steps 40 --name tiny-40 for the comparison at the default run's length)
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { chromium } from '@playwright/test';
import { BASE_ARGS, CHROMIUM } from '../e2e/chromium';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
const BIN = path.join(ROOT, 'bin/pmd-lab.mjs');
const DOCS = path.join(ROOT, 'docs/experiments');

const arg = (name: string, d: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : d;
};
const SEEDS = arg('seeds', '0,1,2').split(',').map(Number);
const NAME = arg('name', 'tiny');
if (!/^[a-z0-9-]+$/.test(NAME)) throw new Error(`--name must be lower-case letters, digits and dashes, got ${NAME}`);
const OUT = path.join(ROOT, `.cache/experiment-${NAME}`);
const VARIANTS = ['pmd', 'pmd-transient', 'frozen-memory', 'frozen-policy', 'sdpo', 'grpo'];
const LEVELS: [string, string[]][] = [
  ['experience', ['experience']],
  ['experience + insight', ['experience', 'insight']],
  ['experience + insight + behavior', ['experience', 'insight', 'behavior']],
];
const only = arg('only', '').split(',').filter(Boolean);

/**
 * What every run of the experiment changes in the world's run.json, so that the 24 runs and
 * their evaluations fit in about an hour on a 2-core CPU: fewer steps, a small in-run
 * evaluation (for the curves; the table's numbers come from pmd-lab eval on the whole held-out
 * split), and frozen-memory building its memory for a few steps instead of a full pass.
 */
const EXPERIMENT_SETTINGS = {
  steps: Number(arg('steps', '10')),
  eval: { every: 5, n: 2, k: 2, maxProblems: 32 },
  memoryBuildSteps: 3,
};

interface Job {
  label: string;
  group: 'variant' | 'levels';
  variant: string;
  seed: number;
  dir: string;
  config: Record<string, unknown>;
}

async function cli(args: string[]): Promise<string> {
  const t0 = Date.now();
  const r = await run(process.execPath, [BIN, ...args], { cwd: ROOT, maxBuffer: 1 << 28 });
  process.stderr.write(`  ${args.slice(0, 1).join(' ')} ${args.find((a) => a.includes(`experiment-${NAME}`)) ?? ''}: ${((Date.now() - t0) / 1000).toFixed(0)}s\n`);
  return r.stdout;
}

async function runJob(j: Job): Promise<number> {
  const cfgFile = `${j.dir}.json`;
  if (!existsSync(path.join(j.dir, 'adapter/adapter_model.safetensors'))) {
    await writeFile(cfgFile, JSON.stringify(j.config));
    if (existsSync(path.join(j.dir, 'state.json'))) await cli(['run', '--out', j.dir, '--resume', '--no-progress']);
    else await cli(['run', '--config', cfgFile, '--out', j.dir, '--no-progress']);
  }
  const evalFile = path.join(j.dir, 'heldout.json');
  if (!existsSync(evalFile)) {
    const args = ['eval', '--adapter', path.join(j.dir, 'adapter'), '--seed', '1000', '--out', evalFile];
    if (j.variant === 'frozen-policy') args.push('--memory', path.join(j.dir, 'memory'));
    await cli(args);
  }
  return (JSON.parse(await readFile(evalFile, 'utf8')) as { avg_at_n: number }).avg_at_n;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) => (xs.length < 2 ? 0 : Math.sqrt(xs.reduce((a, x) => a + (x - mean(xs)) ** 2, 0) / (xs.length - 1)));
const pct = (x: number) => (100 * x).toFixed(1);

async function curves(jobs: Job[]): Promise<Record<string, { step: number[]; reward: number[]; evalStep: number[]; evalAvg: number[] }>> {
  const out: Record<string, { step: number[]; reward: number[]; evalStep: number[]; evalAvg: number[] }> = {};
  for (const v of VARIANTS) {
    const runs = jobs.filter((j) => j.group === 'variant' && j.variant === v);
    const lines = await Promise.all(runs.map(async (j) => (await readFile(path.join(j.dir, 'metrics.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { step: number; stage: string; reward_mean: number; eval?: { avg_at_n: number } })));
    const train = lines.map((ls) => ls.filter((m) => m.stage === 'train'));
    const n = Math.min(...train.map((t) => t.length));
    const step = Array.from({ length: n }, (_, i) => i + 1);
    const reward = step.map((_, i) => mean(train.map((t) => t[i].reward_mean)));
    const evals = train.map((t) => t.map((m, i) => ({ i, e: m.eval })).filter((x) => x.e));
    const evalStep = evals[0]?.map((x) => x.i + 1) ?? [];
    const evalAvg = evalStep.map((_, k) => mean(evals.map((es) => es[k]?.e?.avg_at_n ?? NaN)));
    out[v] = { step, reward, evalStep, evalAvg };
  }
  return out;
}

async function plot(data: Awaited<ReturnType<typeof curves>>, file: string): Promise<void> {
  const lib = await readFile(path.join(ROOT, 'node_modules/uplot/dist/uPlot.iife.min.js'), 'utf8');
  const css = await readFile(path.join(ROOT, 'node_modules/uplot/dist/uPlot.min.css'), 'utf8');
  const colors = ['#1b6ac9', '#2a9d8f', '#e9a23b', '#8d5fd3', '#d1495b', '#6c757d'];
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: BASE_ARGS, headless: true });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 480 } });
    await page.setContent(`<html><head><style>${css} body{font:13px sans-serif;margin:8px;display:flex;gap:16px} h3{margin:4px 0}</style></head><body><div><h3>Rollout reward (mean over seeds)</h3><div id="a"></div></div><div><h3>Held-out avg@n, memory-free (mean over seeds)</h3><div id="b"></div></div><script>${lib}</script></body></html>`);
    // tsx keeps function names with an __name helper that the page does not have.
    await page.evaluate('globalThis.__name = (f) => f');
    await page.evaluate(
      ([d, cols]) => {
        const names = Object.keys(d);
        const U = (window as unknown as { uPlot: new (o: unknown, data: unknown, el: HTMLElement) => unknown }).uPlot;
        const mk = (el: string, xs: number[], ys: (number | null)[][], title: string) =>
          new U(
            { width: 580, height: 400, title, scales: { x: { time: false } }, series: [{ label: 'step' }, ...names.map((n, i) => ({ label: n, stroke: cols[i], width: 2, points: { show: true } }))], axes: [{ label: 'step' }, {}] },
            [xs, ...ys],
            document.getElementById(el)!,
          );
        const steps = d[names[0]].step;
        mk('a', steps, names.map((n) => steps.map((_: number, i: number) => d[n].reward[i] ?? null)), '');
        const es = d[names[0]].evalStep;
        mk('b', es, names.map((n) => es.map((_: number, i: number) => d[n].evalAvg[i] ?? null)), '');
      },
      [data, colors] as const,
    );
    await page.screenshot({ path: file, fullPage: true });
  } finally {
    await browser.close();
  }
}

async function main(): Promise<void> {
  await mkdir(OUT, { recursive: true });
  await mkdir(DOCS, { recursive: true });
  const jobs: Job[] = [];
  for (const v of VARIANTS) for (const seed of SEEDS) jobs.push({ label: v, group: 'variant', variant: v, seed, dir: path.join(OUT, `${v}-s${seed}`), config: { ...EXPERIMENT_SETTINGS, variant: v, seed } });
  for (const [label, levels] of LEVELS) for (const seed of SEEDS) jobs.push({ label, group: 'levels', variant: 'pmd', seed, dir: path.join(OUT, `levels-${levels.length}-s${seed}`), config: { ...EXPERIMENT_SETTINGS, variant: 'pmd', seed, memoryLevels: levels } });
  const todo = jobs.filter((j) => !only.length || only.includes(j.variant));
  const started = Date.now();
  const scores = new Map<Job, number>();
  for (const j of todo) {
    process.stderr.write(`${j.label} seed ${j.seed}\n`);
    // The full-memory level ablation is the PMD run itself.
    const same = j.group === 'levels' && j.config.memoryLevels && (j.config.memoryLevels as string[]).length === 3 ? jobs.find((x) => x.group === 'variant' && x.variant === 'pmd' && x.seed === j.seed) : undefined;
    scores.set(j, same ? await runJob(same) : await runJob(j));
  }
  const baseFile = path.join(OUT, 'base.json');
  if (!existsSync(baseFile)) await cli(['eval', '--seed', '1000', '--out', baseFile]);
  const base = (JSON.parse(await readFile(baseFile, 'utf8')) as { avg_at_n: number }).avg_at_n;
  const rows = VARIANTS.map((v) => {
    const xs = todo.filter((j) => j.group === 'variant' && j.variant === v).map((j) => scores.get(j)!);
    return { v, xs };
  }).filter((r) => r.xs.length);
  const order = [...rows].sort((a, b) => mean(b.xs) - mean(a.xs)).map((r) => r.v);
  const paper = ['pmd', 'pmd-transient', 'sdpo', 'grpo', 'frozen-memory', 'frozen-policy'];
  const levelRows = LEVELS.map(([label]) => ({ label, xs: todo.filter((j) => j.group === 'levels' && j.label === label).map((j) => scores.get(j)!) })).filter((r) => r.xs.length);
  const minutes = ((Date.now() - started) / 60000).toFixed(1);
  // A "## Discussion" section written by hand below the generated part survives a rerun.
  const old = existsSync(path.join(DOCS, `${NAME}.md`)) ? await readFile(path.join(DOCS, `${NAME}.md`), 'utf8') : '';
  const discussion = old.includes('\n## Discussion') ? old.slice(old.indexOf('\n## Discussion') + 1) : '';
  const md = [
    '# The ablations on the embedded world',
    '',
    `Produced by \`npm run experiment:tiny${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}\` (${new Date().toISOString().slice(0, 10)}; this invocation ${minutes} min on this machine: AMD EPYC, 2 cores, onnxruntime-node CPU; runs already in .cache/experiment-${NAME} are reused, not rerun). Each run is \`pmd-lab run\` with the world's default settings (public/world/run.json) changed by \`${JSON.stringify(EXPERIMENT_SETTINGS)}\` and the given variant and seed; its student is then evaluated memory-free on the held-out split by \`pmd-lab eval --adapter\` (avg@n; the frozen-policy row evaluates the unchanged model with the run's memory in the prompt, \`--memory\`). Seeds: ${SEEDS.join(', ')}.`,
    '',
    '| variant | held-out avg@n, mean ± sd (%) | per seed (%) |',
    '|---|---|---|',
    `| base model (no training) | ${pct(base)} | |`,
    ...rows.map((r) => `| ${r.v}${r.v === 'frozen-policy' ? ' (memory in context)' : ''} | ${pct(mean(r.xs))} ± ${pct(sd(r.xs))} | ${r.xs.map(pct).join(', ')} |`),
    '',
    '## Memory levels (PMD)',
    '',
    '| teacher sees | held-out avg@n, mean ± sd (%) | per seed (%) |',
    '|---|---|---|',
    ...levelRows.map((r) => `| ${r.label} | ${pct(mean(r.xs))} ± ${pct(sd(r.xs))} | ${r.xs.map(pct).join(', ')} |`),
    '',
    '## Order',
    '',
    `Measured (best first): ${order.join(' > ')} (base ${pct(base)}).`,
    '',
    `The paper's order: ${paper.join(' > ')} > base.`,
    '',
    `![Curves](${NAME}-curves.png)`,
    '',
    discussion,
  ];
  await writeFile(path.join(DOCS, `${NAME}.md`), md.join('\n'));
  if (rows.length === VARIANTS.length) await plot(await curves(todo), path.join(DOCS, `${NAME}-curves.png`));
  process.stderr.write(`wrote ${path.join(DOCS, `${NAME}.md`)}\n`);
}

await main();
