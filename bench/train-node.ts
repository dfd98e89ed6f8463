/**
 * One LoRA training step (Trainer: forward, loss, backward, gradient accumulation over
 * micro-batches, clipping, AdamW, EMA teacher) on onnxruntime-node (CPU), on a
 * Qwen3-0.6B-shaped model with seeded random weights. LoRA rank 16 on all seven projections.
 * Usage:
 *   npx tsx bench/train-node.ts [--layers 28] [--batch 8] [--seq 512] [--micro 1,2,4]
 *                               [--steps 2] [--loss ce|distill] [--teacher-extra 128] [--threads N]
 *                               [--max-rss-gib 90% of RAM] [--trainer-options JSON]
 *                               [--out bench/out/train-node.json]
 * Each micro-batch size runs in its own child process (VmHWM, the peak resident memory, is a
 * per-process high-water mark): build the model and trainer, one warm-up step (creates the
 * sessions), then `--steps` timed steps. A child whose resident memory passes --max-rss-gib is
 * killed by the parent and the setting is recorded as such. Prints a markdown table and writes
 * the JSON.
 */
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Args } from '../src/cli/args';
import { nodeCpuBackend } from '../src/engine/runtime/node-backend';
import { Trainer } from '../src/engine/train/trainer';
import { initLoraState } from '../src/engine/train/lora-state';
import { loadAvg, machineLine, procStatusMiB } from './proc';
import { paramCount, qwen3_06bConfig, randomBenchWeights } from './shapes';
import { BENCH_LORA, LORA_SEED, PhaseTimer, benchSamples, runTimedSteps, lossFor, type TrainBenchRow, runDescription, failedBenchRow } from './pages/train-shared';

const RESULT_TAG = '@@train-node-result ';

const load = loadAvg;

interface Settings {
  layers: number;
  batch: number;
  seq: number;
  steps: number;
  loss: string;
  teacherExtra: number;
  threads: number;
  maxRssGiB: number;
  /** Extra Trainer options (JSON), e.g. {"recompute": "layers"}. */
  trainerOptions: string;
}

function failedRow(micro: number, loadBefore: number[], error: string): TrainBenchRow {
  return failedBenchRow(micro, 0, NaN, loadBefore, load(), error);
}

/** Child: one micro-batch size, result on one tagged stdout line. */
async function runOne(s: Settings, micro: number): Promise<TrainBenchRow> {
  const loadBefore = load();
  const cfg = qwen3_06bConfig(s.layers);
  const t0 = performance.now();
  const weights = randomBenchWeights(cfg);
  const backend = nodeCpuBackend(s.threads ? { threads: s.threads } : {});
  const phases = new PhaseTimer();
  const trainer = await Trainer.create({
    backend,
    config: cfg,
    weights,
    state: initLoraState(cfg, BENCH_LORA, LORA_SEED),
    padId: cfg.padTokenId!,
    microBatchSize: micro,
    onProgress: (p) => phases.mark(p.phase),
    ...(JSON.parse(s.trainerOptions) as Record<string, unknown>),
  });
  const setupRssMiB = procStatusMiB('VmRSS');
  console.error(`  [micro ${micro}] model ${(paramCount(weights) / 1e6).toFixed(0)}M params + trainer set up in ${((performance.now() - t0) / 1000).toFixed(1)} s, RSS ${setupRssMiB.toFixed(0)} MiB`);
  const loss = lossFor(s.loss);
  const samples = benchSamples({ batch: s.batch, seq: s.seq, vocabSize: cfg.vocabSize, teacherExtra: loss.kind === 'distill' ? s.teacherExtra : 0 });
  const { warmupS, stepS, losses, responseTokens } = await runTimedSteps(trainer, samples, loss, s.steps, phases, (what) =>
    console.error(`  [micro ${micro}] ${what}, load ${load().join(' ')}, peak RSS so far ${procStatusMiB('VmHWM').toFixed(0)} MiB`),
  );
  await trainer.release();
  const meanStepS = stepS.reduce((a, b) => a + b, 0) / stepS.length;
  return {
    micro,
    microBatches: Math.ceil(s.batch / micro),
    warmupS,
    stepS,
    meanStepS,
    tokPerS: (s.batch * s.seq) / meanStepS,
    responseTokPerS: responseTokens / meanStepS,
    responseTokens,
    loss: losses,
    peakRssMiB: procStatusMiB('VmHWM'),
    setupRssMiB,
    phaseS: phases.seconds,
    loadBefore,
    loadAfter: load(),
  };
}

/**
 * Parent: one child process per micro-batch size, one at a time. The parent also watches the
 * child's resident memory (onnxruntime-node runs a session on the JS thread, so the child
 * cannot watch itself during a step) and kills it past `maxRssGiB`, before the kernel's OOM
 * killer has to pick a process.
 */
function runChild(argv: string[], micro: number, maxRssGiB: number): Promise<TrainBenchRow> {
  const loadBefore = load();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, process.argv[1], ...argv, '--micro', String(micro), '--child', '1'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let guardHit = 0;
    let seenPeak = 0;
    const guard = setInterval(() => {
      if (!child.pid) return;
      const rss = procStatusMiB('VmRSS', child.pid);
      seenPeak = Math.max(seenPeak, procStatusMiB('VmHWM', child.pid));
      if (rss > maxRssGiB * 1024 && !guardHit) {
        guardHit = rss;
        child.kill('SIGKILL');
      }
    }, 100);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code, signal) => {
      clearInterval(guard);
      const line = out.split('\n').find((l) => l.startsWith(RESULT_TAG));
      if (line) return resolve(JSON.parse(line.slice(RESULT_TAG.length)) as TrainBenchRow);
      const why = guardHit
        ? `stopped by the memory guard: resident memory reached ${(guardHit / 1024).toFixed(1)} GiB (--max-rss-gib ${maxRssGiB})`
        : signal
          ? `child killed by ${signal}${signal === 'SIGKILL' ? ' (the kernel OOM killer?)' : ''}`
          : `child exited with code ${code}`;
      const row = failedRow(micro, loadBefore, why);
      row.peakRssMiB = seenPeak || NaN;
      resolve(row);
    });
  });
}

function phaseSummary(p: TrainBenchRow['phaseS']): string {
  return Object.entries(p)
    .map(([k, v]) => `${k} ${v!.toFixed(1)} s`)
    .join(', ');
}

const fmt = (x: number, d: number) => (Number.isFinite(x) ? x.toFixed(d) : '-');

async function main() {
  const args = new Args(process.argv.slice(2));
  const s: Settings = {
    layers: args.integer('layers', 28, 1),
    batch: args.integer('batch', 8, 1),
    seq: args.integer('seq', 512, 2),
    steps: args.integer('steps', 2, 1),
    loss: args.string('loss') ?? 'ce',
    teacherExtra: args.integer('teacher-extra', 128, 1),
    threads: args.integer('threads', 0),
    maxRssGiB: args.number('max-rss-gib', Math.floor((os.totalmem() / 2 ** 30) * 0.9)),
    trainerOptions: args.string('trainer-options') ?? '{}',
  };
  const micros = (args.string('micro') ?? '1,2,4').split(',').map(Number);
  if (micros.some((m) => !Number.isInteger(m) || m < 1)) throw new Error('--micro must list whole numbers >= 1, e.g. 1,2,4');
  const outFile = args.string('out') ?? 'bench/out/train-node.json';
  const child = args.has('child') && args.string('child') === '1';
  args.rejectUnknown();
  lossFor(s.loss);

  if (child) {
    const row = await runOne(s, micros[0]);
    process.stdout.write(`${RESULT_TAG}${JSON.stringify(row)}\n`);
    return;
  }

  const passOn = ['--layers', s.layers, '--batch', s.batch, '--seq', s.seq, '--steps', s.steps, '--loss', s.loss, '--teacher-extra', s.teacherExtra, '--threads', s.threads, '--trainer-options', s.trainerOptions].map(String);
  console.error(`LoRA step, onnxruntime-node CPU: qwen3-0.6B shape, ${s.layers} layers, batch ${s.batch} x ${s.seq} tokens, loss ${s.loss}, r=${BENCH_LORA.r} on ${BENCH_LORA.targetModules.join('/')}`);
  const rows: TrainBenchRow[] = [];
  for (const m of micros) {
    console.error(`micro-batch ${m}: starting (load ${load().join(' ')})`);
    const r = await runChild(passOn, m, s.maxRssGiB);
    if (r.error) console.error(`micro-batch ${m}: ${r.error}`);
    rows.push(r);
  }
  const result = {
    bench: 'train-node',
    date: new Date().toISOString(),
    machine: machineLine(),
    node: process.version,
    backend: 'onnxruntime-node 1.30 CPU EP, fp32 weights',
    model: { shape: 'Qwen3-0.6B', layers: s.layers, seed: 1 },
    ...runDescription(s),
    trainerOptions: JSON.parse(s.trainerOptions) as unknown,
    note: 'tokPerS = batch*seq / mean step time; responseTokPerS counts loss tokens only; peak RSS = VmHWM of the child process that ran the setting',
    rows,
  };
  await mkdir(path.dirname(outFile), { recursive: true });
  await writeFile(outFile, JSON.stringify(result, null, 2));
  console.log(`| micro-batch | micro-batches | warm-up s | step s | tok/s | response tok/s | peak RSS MiB | load avg before → after |\n|---|---|---|---|---|---|---|---|`);
  for (const r of rows) {
    const note = r.error ? ` (${r.error})` : '';
    console.log(
      `| ${r.micro} | ${r.microBatches || '-'} | ${fmt(r.warmupS, 1)} | ${fmt(r.meanStepS, 1)} | ${fmt(r.tokPerS, 1)} | ${fmt(r.responseTokPerS, 1)} | ${fmt(r.peakRssMiB, 0)}${note} | ${r.loadBefore[0]} → ${r.loadAfter[0]} |`,
    );
  }
  for (const r of rows) if (!r.error) console.log(`micro ${r.micro}: steps ${r.stepS.map((x) => x.toFixed(1)).join(', ')} s; per phase over ${r.stepS.length} steps: ${phaseSummary(r.phaseS)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
