/**
 * A short PMD run (`pmd-lab run`, the shipped arithmetic suite) on a tiny model or on the
 * Qwen3-0.6B shape, timed by phase from the run's own timings.jsonl. Usage:
 *   npx tsx bench/pmd-run.ts [--model tiny|qwen3] [--layers 28] [--steps 1] [--problems 8]
 *                            [--rollouts 4] [--max-new 48] [--config JSON] [--root DIR]
 *                            [--constant-weights] [--out bench/out/pmd-run-<model>.json]
 * The run's settings are PMD's defaults except B (--problems), G (--rollouts), the rollout
 * length (--max-new) and a minimal evaluation (1 problem, n = k = 1, after the last step);
 * --config lays more settings (a partial run config as JSON) on top. --root runs the CLI of
 * another checkout (to compare builds on the same settings). The qwen3 model is a bf16
 * checkpoint with seeded random weights and Qwen3's tokenizer (bench/checkpoints.ts).
 *
 * Reports, per phase and effect, the summed wall time, and the rollout throughput: rollouts
 * (and generated tokens) per second of the rollout phase's generation.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Args } from '../src/cli/args';
import { isRecord } from '../src/util/records';
import { ensureQwen3Checkpoint, ensureTinyCheckpoint } from './checkpoints';
import { phaseSplit, phaseTable } from './phases';
import { loadAvg, machineLine, procStatusMiB } from './proc';

const TASKS = 'public/tasks/arithmetic.jsonl';

async function jsonl(file: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Run the CLI to the end, watching the child's peak resident memory. */
function runCli(root: string, argv: string[]): Promise<{ code: number | null; seconds: number; peakRssMiB: number; stderr: string }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(root, 'bin/pmd-lab.mjs'), ...argv], { cwd: root, stdio: ['ignore', 'inherit', 'pipe'] });
    let peak = 0;
    const watch = setInterval(() => child.pid && (peak = Math.max(peak, procStatusMiB('VmHWM', child.pid))), 250);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      process.stderr.write(d);
    });
    child.on('close', (code) => {
      clearInterval(watch);
      resolve({ code, seconds: (performance.now() - t0) / 1000, peakRssMiB: peak, stderr });
    });
  });
}

async function main() {
  const args = new Args(process.argv.slice(2), ['constant-weights']);
  const constantWeights = args.has('constant-weights');
  const model = args.string('model') ?? 'tiny';
  if (model !== 'tiny' && model !== 'qwen3') throw new Error(`--model must be tiny or qwen3, got "${model}"`);
  const layers = args.integer('layers', 28, 1);
  const steps = args.integer('steps', 1, 1);
  const B = args.integer('problems', 8, 1);
  const G = args.integer('rollouts', 4, 1);
  const maxNew = args.integer('max-new', 48, 1);
  const extra = JSON.parse(args.string('config') ?? '{}') as Record<string, unknown>;
  const root = path.resolve(args.string('root') ?? '.');
  const outFile = args.string('out') ?? `bench/out/pmd-run-${model}.json`;
  args.rejectUnknown();

  const modelDir = path.resolve(model === 'tiny' ? 'bench/out/models/tiny-qwen3' : 'bench/out/models/qwen3-0.6b-random');
  if (model === 'tiny') await ensureTinyCheckpoint(modelDir);
  else await ensureQwen3Checkpoint(modelDir, layers, true);
  const work = await mkdtemp(path.join(os.tmpdir(), 'pmd-run-bench-'));
  const config = {
    steps,
    problemsPerStep: B,
    rolloutsPerProblem: G,
    rollout: { maxNewTokens: maxNew },
    eval: { every: steps, n: 1, k: 1, maxProblems: 1 },
    ...extra,
  };
  const cfgFile = path.join(work, 'config.json');
  await writeFile(cfgFile, JSON.stringify(config));
  const runDir = path.join(work, 'run');
  const loadBefore = loadAvg();
  console.error(`pmd-lab run: ${model}${model === 'qwen3' ? ` (${layers} layers)` : ''}, ${steps} step(s), B ${B} x G ${G}, ${maxNew} new tokens, load ${loadBefore.join(' ')}`);
  const r = await runCli(root, ['run', '--out', runDir, '--model', modelDir, '--tasks', path.resolve(TASKS), '--config', cfgFile, '--no-progress', ...(constantWeights ? ['--constant-weights'] : [])]);
  if (r.code !== 0) throw new Error(`pmd-lab run exited with ${r.code}:\n${r.stderr.slice(-2000)}`);

  const timings = await jsonl(path.join(runDir, 'timings.jsonl'));
  const rollouts = (await jsonl(path.join(runDir, 'rollouts.jsonl'))).filter((x) => typeof x.step === 'number');
  const split = phaseSplit(timings);
  const { effectS, phaseS, effectsS } = split;
  const genS = effectS.rollout?.generate ?? NaN;
  const tokens = rollouts.reduce((a, x) => a + (Array.isArray(x.tokens) ? x.tokens.length : 0), 0);
  const result = {
    bench: 'pmd-run',
    date: new Date().toISOString(),
    machine: machineLine(),
    node: process.version,
    root,
    model: model === 'tiny' ? 'tiny qwen3 (scripts/tiny-model.ts, seed 1)' : `Qwen3-0.6B shape, ${layers} layers, seeded random bf16 weights, Qwen3 tokenizer`,
    config,
    constantWeights,
    processS: r.seconds,
    peakRssMiB: r.peakRssMiB,
    effectsS,
    phaseS,
    effectS,
    rollouts: rollouts.length,
    rolloutTokens: tokens,
    rolloutsPerS: rollouts.length / genS,
    rolloutTokPerS: tokens / genS,
    loadBefore,
    loadAfter: loadAvg(),
  };
  await mkdir(path.dirname(outFile), { recursive: true });
  await writeFile(outFile, JSON.stringify(result, null, 2));
  await rm(work, { recursive: true, force: true });
  console.log(phaseTable(split));
  console.log(
    `process ${r.seconds.toFixed(1)} s (effects ${effectsS.toFixed(1)} s), peak RSS ${r.peakRssMiB.toFixed(0)} MiB; rollouts: ${rollouts.length} (${tokens} tokens) in ${genS.toFixed(1)} s = ${result.rolloutsPerS.toFixed(2)} rollouts/s, ${result.rolloutTokPerS.toFixed(1)} tok/s; load ${loadBefore[0]} -> ${result.loadAfter[0]}`,
  );
  if (!isRecord(result.phaseS)) throw new Error('no timings recorded');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
