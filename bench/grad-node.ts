/**
 * `pmd-lab grad` at the shape, in one process: a Qwen3-0.6B-shaped model with seeded
 * random weights on onnxruntime-node (CPU), a LoRA adapter of rank 16 on all seven projections
 * (A as PEFT draws it, B seeded random so every gradient is non-zero), 2 rows of 256 tokens,
 * cross-entropy on the second half of each row. The Trainer is set up as the CLI sets it up
 * (teacher 'student', optimizer state on the host, no micro-batching). The first call includes
 * session creation, as the CLI's single call does. Usage:
 *   npx tsx bench/grad-node.ts [--layers 28] [--batch 2] [--seq 256] [--calls 2] [--threads N]
 *                              [--trainer-options JSON] [--session-options JSON]
 *                              [--out bench/out/grad-node.json]
 * --trainer-options and --session-options are merged into the Trainer's options and the
 * onnxruntime session options (to try settings without editing code).
 * Writes the loss and a fingerprint of the gradients, so two builds can be compared.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Args } from '../src/cli/args';
import { nodeCpuBackend } from '../src/engine/runtime/node-backend';
import { initLoraState } from '../src/engine/train/lora-state';
import { Trainer } from '../src/engine/train/trainer';
import { Prng } from '../src/util/prng';
import { BENCH_LORA, LORA_SEED, benchSamples } from './pages/train-shared';
import { loadAvg, machineLine, procStatusMiB } from './proc';
import { qwen3_06bConfig, randomBenchWeights } from './shapes';

/** Extra Trainer options a later build may understand (ignored by older ones). */
export type ExtraTrainerOptions = Record<string, unknown>;

export async function gradBench(o: { layers: number; batch: number; seq: number; calls: number; threads: number; extra?: ExtraTrainerOptions; session?: Record<string, unknown> }) {
  const loadBefore = loadAvg();
  const t0 = performance.now();
  const cfg = qwen3_06bConfig(o.layers);
  const state = initLoraState(cfg, BENCH_LORA, LORA_SEED);
  const rng = new Prng(3);
  for (const s of state.specs) if (s.name.endsWith('.lora_B')) state.tensors.get(s.name)!.data.forEach((_, i, a) => (a[i] = (rng.next() - 0.5) * 0.02));
  const backend = nodeCpuBackend(o.threads ? { threads: o.threads } : {});
  Object.assign(backend.sessionOptions, o.session);
  const trainer = await Trainer.create({
    backend,
    config: cfg,
    weights: randomBenchWeights(cfg),
    state,
    teacher: 'student',
    stateOn: 'host',
    padId: cfg.padTokenId!,
    ...o.extra,
  });
  const setupS = (performance.now() - t0) / 1000;
  const setupRssMiB = procStatusMiB('VmRSS');
  const samples = benchSamples({ batch: o.batch, seq: o.seq, vocabSize: cfg.vocabSize });
  const callS: number[] = [];
  let loss = NaN;
  let gradNorm = NaN;
  const fingerprint: Record<string, number[]> = {};
  for (let c = 0; c < o.calls; c++) {
    const tc = performance.now();
    const r = await trainer.evaluateGrad(samples, { kind: 'ce' });
    callS.push((performance.now() - tc) / 1000);
    loss = r.loss;
    gradNorm = r.gradNorm;
    for (const [name, g] of r.grads) if (/layers\.(0|\d*7)\.(self_attn\.q_proj|mlp\.down_proj)/.test(name)) fingerprint[name] = Array.from(g.data.subarray(0, 4));
    console.error(`call ${c + 1}: ${callS.at(-1)!.toFixed(2)} s, loss ${loss.toFixed(6)}, grad norm ${gradNorm.toExponential(6)}, load ${loadAvg().join(' ')}`);
  }
  await trainer.release();
  return {
    bench: 'grad-node',
    date: new Date().toISOString(),
    machine: machineLine(),
    node: process.version,
    shape: { model: 'Qwen3-0.6B', layers: o.layers, batch: o.batch, seq: o.seq, loss: 'ce on the second half', lora: BENCH_LORA, threads: o.threads || 'default', extra: o.extra ?? {}, session: o.session ?? {} },
    setupS,
    setupRssMiB,
    callS,
    processS: (performance.now() - t0) / 1000,
    peakRssMiB: procStatusMiB('VmHWM'),
    loadBefore,
    loadAfter: loadAvg(),
    loss,
    gradNorm,
    fingerprint,
  };
}

async function main() {
  const args = new Args(process.argv.slice(2));
  const o = {
    layers: args.integer('layers', 28, 1),
    batch: args.integer('batch', 2, 1),
    seq: args.integer('seq', 256, 2),
    calls: args.integer('calls', 2, 1),
    threads: args.integer('threads', 0),
    extra: JSON.parse(args.string('trainer-options') ?? '{}') as ExtraTrainerOptions,
    session: JSON.parse(args.string('session-options') ?? '{}') as Record<string, unknown>,
  };
  const outFile = args.string('out') ?? 'bench/out/grad-node.json';
  args.rejectUnknown();
  const r = await gradBench(o);
  await mkdir(path.dirname(outFile), { recursive: true });
  await writeFile(outFile, JSON.stringify(r, null, 2));
  console.log(
    `grad ${o.batch} x ${o.seq}: setup ${r.setupS.toFixed(1)} s, calls ${r.callS.map((s) => s.toFixed(2)).join(', ')} s, loss ${r.loss.toFixed(6)}, peak RSS ${r.peakRssMiB.toFixed(0)} MiB (after set-up ${r.setupRssMiB.toFixed(0)}), load ${r.loadBefore[0]} -> ${r.loadAfter[0]}`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
