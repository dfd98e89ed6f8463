/**
 * Prefill and decode throughput of the engine on onnxruntime-node (CPU), on a Qwen3-0.6B-shaped
 * model with seeded random weights. Usage:
 *   npx tsx bench/engine-node.ts [--layers 28] [--prompt 128] [--new 16] [--batches 1,8] [--threads N]
 * Prints a markdown table and writes bench/out/engine-node.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { ModelRunner } from '../src/engine/runtime/model-runner';
import { nodeCpuBackend } from '../src/engine/runtime/node-backend';
import { leftPadBatch, stepMask } from '../src/engine/runtime/batch';
import { Args } from '../src/cli/args';
import { machineLine, procStatusMiB } from './proc';
import { paramCount, qwen3_06bConfig, randomBenchWeights } from './shapes';

async function main() {
  const args = new Args(process.argv.slice(2));
  const layers = args.integer('layers', 28, 1);
  const promptLen = args.integer('prompt', 128, 1);
  const newTokens = args.integer('new', 16, 2);
  const batches = (args.string('batches') ?? '1,8').split(',').map(Number);
  const threads = args.integer('threads', 0);
  args.rejectUnknown();

  const cfg = qwen3_06bConfig(layers);
  const t0 = performance.now();
  const weights = randomBenchWeights(cfg);
  const runner = new ModelRunner(cfg, nodeCpuBackend(threads ? { threads } : {}));
  await runner.loadWeights(weights);
  const params = paramCount(weights);
  console.error(`model: qwen3-0.6B shape, ${layers} layers, ${(params / 1e6).toFixed(0)}M params fp32, set up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const rows = [];
  for (const B of batches) {
    const prompts = Array.from({ length: B }, (_, b) => Array.from({ length: promptLen }, (_, i) => (i * 7919 + b * 104729) % cfg.vocabSize));
    const batch = leftPadBatch(prompts, cfg.padTokenId!);
    // Warm-up: create both session variants (prefill and decode, with KV) and touch their
    // allocations, so neither measured phase includes graph compilation.
    const warm = await runner.forward({ ...batch, logits: 'last', wantKv: true });
    const warmDecode = await runner.forward({
      ids: BigInt64Array.from({ length: B }, () => 17n),
      positions: BigInt64Array.from({ length: B }, () => BigInt(promptLen)),
      mask: stepMask(batch.pad, warm.kv!.length, 1),
      batch: B,
      seq: 1,
      past: warm.kv,
      logits: 'last',
      wantKv: true,
    });
    ModelRunner.disposeKv(warm.kv);
    ModelRunner.disposeKv(warmDecode.kv);
    const tp = performance.now();
    const pre = await runner.forward({ ...batch, logits: 'last', wantKv: true });
    const prefillMs = performance.now() - tp;
    let kv = pre.kv!;
    const td = performance.now();
    for (let s = 0; s < newTokens; s++) {
      const out = await runner.forward({
        ids: BigInt64Array.from({ length: B }, () => 17n),
        positions: BigInt64Array.from({ length: B }, () => BigInt(promptLen + s)),
        mask: stepMask(batch.pad, kv.length, 1),
        batch: B,
        seq: 1,
        past: kv,
        logits: 'last',
        wantKv: true,
      });
      kv = out.kv!;
    }
    const decodeMs = performance.now() - td;
    rows.push({
      batch: B,
      promptLen,
      newTokens,
      prefillTokPerS: (B * promptLen) / (prefillMs / 1000),
      prefillMs,
      decodeTokPerS: (B * newTokens) / (decodeMs / 1000),
      decodeMsPerStep: decodeMs / newTokens,
      peakRssMiB: procStatusMiB('VmHWM'),
    });
    console.error(`batch ${B}: prefill ${rows.at(-1)!.prefillTokPerS.toFixed(1)} tok/s, decode ${rows.at(-1)!.decodeTokPerS.toFixed(2)} tok/s`);
  }
  await runner.release();
  const result = {
    bench: 'engine-node',
    date: new Date().toISOString(),
    machine: machineLine(),
    backend: 'onnxruntime-node 1.30 CPU EP, fp32',
    model: { shape: 'Qwen3-0.6B', layers, params },
    rows,
  };
  await mkdir('bench/out', { recursive: true });
  await writeFile('bench/out/engine-node.json', JSON.stringify(result, null, 2));
  console.log(`| batch | prompt | prefill tok/s | decode tok/s | decode ms/step | peak RSS MiB |\n|---|---|---|---|---|---|`);
  for (const r of rows) console.log(`| ${r.batch} | ${r.promptLen} | ${r.prefillTokPerS.toFixed(1)} | ${r.decodeTokPerS.toFixed(2)} | ${r.decodeMsPerStep.toFixed(0)} | ${r.peakRssMiB.toFixed(0)} |`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
