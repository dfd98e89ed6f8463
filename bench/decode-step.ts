/**
 * One prefill and the decode steps after it, timed one by one, on the Qwen3-0.6B shape with
 * seeded random weights (onnxruntime-node, CPU), with the weights as inputs or as pre-packed
 * constants. Reports medians and the rate at which a decode step reads the weights. Usage:
 *   npx tsx bench/decode-step.ts [--constant-weights] [--layers 28] [--batch 4] [--prompt 64]
 *                                [--steps 8] [--reps 4] [--out bench/out/decode-step.json]
 * The first repetition (session creation) is left out of the medians. The steps go through the
 * concatenating KV cache (graph mode `decode`); generate() uses the cache in place on this backend
 * (runtime/static-kv.ts), which bench/generate-node.ts measures against it (--dynamic-kv).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Args } from '../src/cli/args';
import { leftPadBatch, stepMask } from '../src/engine/runtime/batch';
import { ModelRunner } from '../src/engine/runtime/model-runner';
import { nodeCpuBackend } from '../src/engine/runtime/node-backend';
import { loadAvg, machineLine, procStatusMiB } from './proc';
import { qwen3_06bConfig, randomBenchWeights } from './shapes';

const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

async function main() {
  const args = new Args(process.argv.slice(2), ['constant-weights']);
  const constantWeights = args.has('constant-weights');
  const layers = args.integer('layers', 28, 1);
  const batch = args.integer('batch', 4, 1);
  const promptLen = args.integer('prompt', 64, 1);
  const steps = args.integer('steps', 8, 1);
  const reps = args.integer('reps', 4, 2);
  const outFile = args.string('out') ?? 'bench/out/decode-step.json';
  args.rejectUnknown();

  const loadBefore = loadAvg();
  const cfg = qwen3_06bConfig(layers);
  const runner = new ModelRunner(cfg, nodeCpuBackend({ constantWeights }));
  const weights = randomBenchWeights(cfg);
  let weightBytes = 0;
  for (const t of weights.values()) weightBytes += t.data.byteLength;
  await runner.loadWeights(weights);
  const prompts = Array.from({ length: batch }, (_, b) => Array.from({ length: promptLen }, (_, i) => 100 + ((i * 7919 + b * 104729) % (cfg.vocabSize - 100))));
  const padded = leftPadBatch(prompts, cfg.padTokenId ?? 0);
  const prefillMs: number[] = [];
  const decodeMs: number[] = [];
  for (let rep = 0; rep < reps; rep++) {
    let t = performance.now();
    const first = await runner.forward({ ...padded, logits: 'last', wantKv: true });
    if (rep > 0) prefillMs.push(performance.now() - t);
    let kv = first.kv!;
    for (let s = 0; s < steps; s++) {
      t = performance.now();
      const next = await runner.forward({
        ids: BigInt64Array.from({ length: batch }, () => 500n),
        positions: BigInt64Array.from({ length: batch }, () => BigInt(promptLen + s)),
        mask: stepMask(padded.pad, kv.length, 1),
        batch,
        seq: 1,
        past: kv,
        logits: 'last',
        wantKv: true,
      });
      if (rep > 0) decodeMs.push(performance.now() - t);
      ModelRunner.disposeKv(kv);
      kv = next.kv!;
    }
    ModelRunner.disposeKv(kv);
  }
  await runner.release();
  const decodeMedianMs = median(decodeMs);
  const result = {
    bench: 'decode-step',
    date: new Date().toISOString(),
    machine: machineLine(),
    node: process.version,
    shape: { model: 'Qwen3-0.6B', layers, batch, promptLen, steps, reps, constantWeights },
    weightBytes,
    prefillMedianMs: median(prefillMs),
    decodeMedianMs,
    weightGBPerS: weightBytes / decodeMedianMs / 1e6,
    peakRssMiB: procStatusMiB('VmHWM'),
    loadBefore,
    loadAfter: loadAvg(),
  };
  await mkdir(path.dirname(outFile), { recursive: true });
  await writeFile(outFile, JSON.stringify(result, null, 2));
  console.log(
    `decode-step (${constantWeights ? 'constant weights' : 'weights as inputs'}): ${(weightBytes / 2 ** 30).toFixed(2)} GiB of weights; prefill ${batch} x ${promptLen} median ${result.prefillMedianMs.toFixed(0)} ms; ` +
      `decode step median ${decodeMedianMs.toFixed(1)} ms = ${result.weightGBPerS.toFixed(1)} GB/s of weights; peak RSS ${result.peakRssMiB.toFixed(0)} MiB; load ${loadBefore.join(' ')} -> ${result.loadAfter.join(' ')}`,
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
