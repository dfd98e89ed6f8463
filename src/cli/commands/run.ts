/**
 * pmd-lab run --out <dir> [--config <run.json>] [--resume] [--variant <name>] [--steps <n>]
 *             [--seed <n>] [--model <dir>] [--tasks <tasks.jsonl>] [--no-progress]
 *
 * Runs the PMD loop headless with a progress display, the same driver the playground's worker
 * uses. Flags override the config file; with no model and no tasks the embedded default model
 * and task world run with the world's settings. The folder layout is in store/folder-store.ts.
 * Ctrl-C stops after the current effect; `--resume` continues an interrupted run and ends
 * exactly where the uninterrupted run would have.
 */
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PMD_FIELDS, resolvePmdConfig, type PmdConfig } from '../../pmd/config';
import { RunDriver } from '../../pmd/run/driver';
import type { RunRecord, RunState } from '../../pmd/run/state';
import { FolderRunStore } from '../../store/folder-store';
import { ConfigError, mergeConfig } from '../../util/config-fields';
import { isRecord } from '../../util/records';
import { Args, FileArgumentError, UsageError } from '../args';
import { requireWorld, WORLD, worldRunConfig } from '../embedded-world';
import { readTextInput } from '../inputs';
import { loadSuite, setUpLoop } from '../loop-setup';
import { CONSTANT_WEIGHTS_USAGE, runnerOptions } from '../node-model';
import { checkOutputPath, writeFolderAtomic } from '../outputs';

export const usage = `run       --out <dir> [--config <run.json>] [--resume] [--variant <name>] [--steps <n>] [--seed <n>]
            [--model <dir>] [--tasks <tasks.jsonl>] [--no-progress] ${CONSTANT_WEIGHTS_USAGE}`;

/** What the run folder records about where its model and tasks came from. */
interface RunMeta {
  model: string;
  tasks: string;
  created: string;
}

async function readJsonFile(flag: string, file: string): Promise<unknown> {
  const text = await readTextInput(flag, file);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new FileArgumentError(`--${flag} ${file}: not valid JSON (${(e as Error).message})`);
  }
}

function usageFromConfig(e: unknown): never {
  if (e instanceof ConfigError) throw new UsageError(e.problems.map((p) => `${p.path || 'config'}: ${p.message}`).join('; '));
  throw e;
}

function describeMetric(m: Extract<RunRecord, { kind: 'metric' }>['metric'], total: number): string {
  const parts = [`step ${m.step}/${total}${m.stage === 'memory-build' ? ' (memory build)' : ''}`, `reward ${m.reward_mean.toFixed(3)}`];
  if (m.loss !== null) parts.push(`loss ${m.loss.toFixed(4)}`);
  parts.push(`masked ${m.masked}`, `memory ${m.memory.experience}/${m.memory.insights}/${m.memory.behaviors}`);
  if (m.eval) parts.push(`eval avg@n ${m.eval.avg_at_n.toFixed(3)} pass@k ${m.eval.pass_at_k.toFixed(3)}${m.eval.with_memory ? ' (with memory)' : ''}`);
  return parts.join(' · ');
}

export async function run(args: Args): Promise<void> {
  const out = args.required('out');
  const resume = args.has('resume');
  const configFile = args.string('config');
  const modelFlag = args.string('model');
  const tasksFlag = args.string('tasks');
  const progress = !args.has('no-progress');
  const runner = runnerOptions(args);
  let overrides: Record<string, unknown> = {};
  try {
    overrides = args.config(PMD_FIELDS, {});
  } catch (e) {
    usageFromConfig(e);
  }
  args.rejectUnknown();

  const store = new FolderRunStore(out);
  let config: PmdConfig | null = null;
  let meta: RunMeta;
  if (resume) {
    if (!(await store.hasRun())) throw new FileArgumentError(`--out ${out}: holds no run to resume (no state.json)`);
    if (configFile || Object.keys(overrides).length) throw new UsageError('--resume continues the run as it was configured; leave out --config, --variant, --steps and --seed');
    meta = (await readJsonFile('out', path.join(out, 'run.json'))) as RunMeta;
    if (!isRecord(meta) || typeof meta.model !== 'string' || typeof meta.tasks !== 'string') throw new FileArgumentError(`--out ${out}: run.json does not say which model and tasks the run uses`);
    if (modelFlag && path.resolve(modelFlag) !== meta.model) throw new UsageError(`--model ${modelFlag} differs from the run's model (${meta.model})`);
  } else {
    await checkOutputPath('out', out, 'folder', { inputs: [configFile ?? '', tasksFlag ?? ''].filter(Boolean) });
    const world = !modelFlag && !tasksFlag;
    if (world || !modelFlag || !tasksFlag) requireWorld();
    let partial: unknown = configFile ? await readJsonFile('config', configFile) : {};
    if (!isRecord(partial)) throw new FileArgumentError(`--config ${configFile}: must be a JSON object`);
    if (!modelFlag) partial = mergeConfig(await worldRunConfig(), partial);
    try {
      config = resolvePmdConfig(mergeConfig(partial, overrides));
    } catch (e) {
      usageFromConfig(e);
    }
    const tasksSource = tasksFlag ?? WORLD.tasks;
    await mkdir(out, { recursive: true });
    await copyFile(tasksSource, path.join(out, 'tasks.jsonl'));
    meta = { model: path.resolve(modelFlag ?? WORLD.model), tasks: 'tasks.jsonl', created: new Date().toISOString() };
    await writeFile(path.join(out, 'run.json'), JSON.stringify(meta, null, 2) + '\n');
  }

  const suite = await loadSuite('tasks', path.join(out, meta.tasks));
  if (suite.ctx.trainIds.length === 0) throw new FileArgumentError(`the task suite has no train problems`);
  const saved: RunState | null = resume ? await store.load() : null;
  const runConfig = saved?.config ?? config!;
  const setup = await setUpLoop(meta.model, suite.ctx, runConfig, { runner });
  let stop = false;
  const onSigint = () => {
    if (stop) process.exit(130);
    stop = true;
    process.stderr.write('\npmd-lab run: stopping after the current piece of work; continue later with --resume (Ctrl-C again quits now)\n');
  };
  process.on('SIGINT', onSigint);
  const tty = Boolean(process.stderr.isTTY) && progress;
  const t0 = Date.now();
  try {
    const driver = await RunDriver.open(suite.ctx, store, setup.services, resume ? null : config, {
      onTransition: (s, records) => {
        if (!progress) return;
        for (const r of records) if (r.kind === 'metric') process.stderr.write(`${tty ? '\r\u001b[K' : ''}${describeMetric(r.metric, s.totalSteps)}\n`);
      },
      onProgress: (p) => {
        if (!tty) return;
        const secs = (Date.now() - t0) / 1000;
        process.stderr.write(`\r\u001b[Kstep ${p.step} · ${p.phase} · ${p.what} ${p.done}/${p.total} · ${secs.toFixed(0)}s`);
      },
    });
    if (resume && progress) process.stderr.write(`resuming at step ${driver.state.step}, phase ${driver.state.phase}\n`);
    const end = await driver.advance('end', () => stop);
    const files = await setup.policy.exportAdapter('student', path.basename(meta.model));
    await writeFolderAtomic(path.join(out, 'adapter'), files);
    if (tty) process.stderr.write('\r\u001b[K');
    if (end.phase === 'done') {
      if (progress) process.stderr.write(`run complete: ${end.totalSteps} steps in ${((Date.now() - t0) / 1000).toFixed(1)}s; adapter in ${path.join(out, 'adapter')}\n`);
    } else {
      process.stderr.write(`pmd-lab run: stopped at step ${end.step}, phase ${end.phase}; continue with: pmd-lab run --out ${out} --resume\n`);
      process.exitCode = 130;
    }
  } finally {
    process.off('SIGINT', onSigint);
    await setup.close();
  }
}

/** The config a run folder was started with (for tools and tests). */
export async function runFolderConfig(dir: string): Promise<PmdConfig> {
  return JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8')) as PmdConfig;
}
