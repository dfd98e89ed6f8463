/**
 * `npm run build:world`: builds the embedded world (task suite + a tiny qwen3 model trained
 * from scratch on the CPU), measures it, and writes public/world/:
 *   model/           the Hugging Face model folder
 *   tasks.jsonl      the task suite (train and test splits)
 *   build.json       seed, settings, machine, date, timings, loss curve and metrics
 *
 *   npx tsx scripts/build-world.ts [--out public/world] [--seed 1] [--threads n]
 *     (--threads 1: the same floats on every run, about 1.4x slower; default: all cores, whose
 *      multi-threaded sums vary in the last bits from run to run, so the weights drift apart)
 *   npx tsx scripts/build-world.ts --init <built world> --stages '<json>'   (continue a built world: one phase of these stages)
 *   npx tsx scripts/build-world.ts --measure-only [--out public/world]   (re-measure a built world, rewrite build.json's metrics)
 */
import { readFile, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { NodeFolderSource } from '../src/engine/models/node-source';
import { openModel } from '../src/engine/models/open-model';
import { loadTokenizer } from '../src/engine/models/tokenizer';

import { ModelRunner } from '../src/engine/runtime/model-runner';
import { nodeCpuBackend } from '../src/engine/runtime/node-backend';
import type { WorldTask } from '../src/pmd/world/suite';
import { makeWorld } from '../src/pmd/world/world';
import { buildWorld, MODEL_DIR, TASKS_FILE, WORLD_BUILD_DEFAULTS, type WorldBuildSettings } from './world/build';
import { HiddenStateEmbedder } from './world/embedder';
import { measureWorld, MEASURE_DEFAULTS, type WorldMetrics } from './world/measure';
import type { PretrainLog } from './world/pretrain';

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** Mean loss per kind over windows of `every` steps. */
function lossCurve(log: readonly PretrainLog[], every: number) {
  const out: { step: number; plain: number | null; memory: number | null }[] = [];
  for (let i = 0; i < log.length; i += every) {
    const win = log.slice(i, i + every);
    const mean = (k: string) => {
      const xs = win.filter((l) => l.kind === k).map((l) => l.loss);
      return xs.length ? Number((xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(4)) : null;
    };
    out.push({ step: win[win.length - 1].step, plain: mean('plain'), memory: mean('memory') });
  }
  return out;
}

/** Open the built model and measure it on the suite (build.json's `metrics`). */
async function measureBuilt(out: string, suite: readonly WorldTask[], seed: number) {
  const world = makeWorld(seed, WORLD_BUILD_DEFAULTS.world);
  const ck = await openModel(new NodeFolderSource(join(out, MODEL_DIR)));
  const tok = loadTokenizer(ck.tokenizerJson, ck.tokenizerConfig, { vocabSize: ck.config.vocabSize });
  const runner = new ModelRunner(ck.config, nodeCpuBackend());
  await runner.loadWeights(ck.weights);
  const embedder = new HiddenStateEmbedder(runner, tok);
  try {
    return await measureWorld({ runner, tok }, embedder, world, suite, { seed });
  } finally {
    await embedder.release();
    await runner.release();
  }
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
const summary = (m: WorldMetrics) =>
  `held-out memory-free: greedy ${pct(m.memoryFree.greedy.all.acc)}, avg@${MEASURE_DEFAULTS.samples} ${pct(m.memoryFree.avg.all.acc)}; ` +
  `with memory: greedy ${pct(m.withMemory.greedy.all.acc)}, avg@${MEASURE_DEFAULTS.samples} ${pct(m.withMemory.avg.all.acc)}; ` +
  `with its own facts: greedy ${pct(m.withOwnFacts.greedy.all.acc)}, avg@${MEASURE_DEFAULTS.samples} ${pct(m.withOwnFacts.avg.all.acc)}`;

async function measureOnly(out: string): Promise<void> {
  const file = join(out, 'build.json');
  const report = JSON.parse(await readFile(file, 'utf8')) as { seed: number; seconds: Record<string, number>; metrics: WorldMetrics; measuredAt?: string };
  const suite = (await readFile(join(out, TASKS_FILE), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as WorldTask);
  const t0 = performance.now();
  report.metrics = await measureBuilt(out, suite, report.seed);
  report.seconds.measure = Number(((performance.now() - t0) / 1000).toFixed(1));
  report.measuredAt = new Date().toISOString();
  await writeFile(file, JSON.stringify(report, null, 2) + '\n');
  console.log(summary(report.metrics));
}

async function main(): Promise<void> {
  const out = argValue('out') ?? 'public/world';
  if (process.argv.includes('--measure-only')) return measureOnly(out);
  const settings: WorldBuildSettings = { ...WORLD_BUILD_DEFAULTS, seed: Number(argValue('seed') ?? WORLD_BUILD_DEFAULTS.seed) };
  const threadsFlag = argValue('threads');
  const threads = threadsFlag === undefined ? undefined : Number(threadsFlag);
  if (threads !== undefined && !(Number.isInteger(threads) && threads >= 1)) throw new Error(`--threads must be a whole number >= 1, got ${threadsFlag}`);
  const initDir = argValue('init');
  const stages = argValue('stages');
  if (stages) settings.pretrain = { ...settings.pretrain, phases: [JSON.parse(stages) as WorldBuildSettings['pretrain']['phases'][number]] };
  const previous = initDir ? (JSON.parse(await readFile(join(initDir, 'build.json'), 'utf8')) as Record<string, unknown>) : null;
  const init = initDir ? (await openModel(new NodeFolderSource(join(initDir, MODEL_DIR)))).weights : undefined;
  const t0 = performance.now();
  let last = performance.now();
  const recent: PretrainLog[] = [];
  const b = await buildWorld(
    settings,
    out,
    (l) => {
      recent.push(l);
      if (l.step % 100 === 0) {
        const now = performance.now();
        const [c] = lossCurve(recent.splice(0), 100);
        console.log(`step ${l.step} (stage ${l.stage}) loss plain ${c.plain ?? '-'} memory ${c.memory ?? '-'}, ${((now - last) / 100).toFixed(0)} ms/step`);
        last = now;
      }
    },
    init,
    threads,
  );
  console.log(`trained ${b.parameters} parameters in ${b.pretrainSeconds.toFixed(0)} s; measuring`);
  const tm = performance.now();
  const metrics = await measureBuilt(out, b.suite, settings.seed);
  const report = {
    seed: settings.seed,
    settings,
    // A continued build: the build its training started from (its own record, metrics left out).
    continuedFrom: previous ? { ...previous, metrics: undefined } : null,
    measure: { ...MEASURE_DEFAULTS, seed: settings.seed },
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', node: process.version, platform: process.platform, threads: threads ?? 'all cores' },
    date: new Date().toISOString(),
    model: { family: 'qwen3', parameters: b.parameters, tokenizerTokens: b.tokenizerSize, vocabSize: b.vocabSize },
    suite: { train: b.suite.filter((t) => t.split === 'train').length, test: b.suite.filter((t) => t.split === 'test').length },
    procedures: b.world.procedures.map((p) => ({ name: p.name, operation: p.operation.id, taught: p.taught })),
    seconds: { pretrain: Number(b.pretrainSeconds.toFixed(1)), measure: Number(((performance.now() - tm) / 1000).toFixed(1)), total: Number(((performance.now() - t0) / 1000).toFixed(1)) },
    loss: lossCurve(b.log, 100),
    metrics,
    files: [...b.files, 'build.json'],
  };
  await writeFile(join(out, 'build.json'), JSON.stringify(report, null, 2) + '\n');
  console.log(`${summary(metrics)}; total ${report.seconds.total} s`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
