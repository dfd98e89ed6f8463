/**
 * `pmd-lab generate` at the shape, in one process: a Qwen3-0.6B-shaped model with seeded
 * random weights on onnxruntime-node (CPU), batch 4 prompts of 64 tokens, 32 greedy new tokens.
 * The first generate() call includes session creation, as the CLI's single call does; the
 * following calls are warm. Usage:
 *   npx tsx bench/generate-node.ts [--layers 28] [--batch 4] [--prompt 64] [--new 32] [--calls 2]
 *                                  [--threads N] [--temperature 0] [--constant-weights] [--dynamic-kv]
 *                                  [--out bench/out/generate-node.json]
 * --dynamic-kv turns the host KV cache of fixed capacity off (the cache concatenated every step).
 * Writes the tokens too, so two builds can be checked for identical output.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Args } from '../src/cli/args';
import { generate } from '../src/engine/runtime/generate';
import { ModelRunner } from '../src/engine/runtime/model-runner';
import { nodeCpuBackend } from '../src/engine/runtime/node-backend';
import { loadAvg, machineLine, procStatusMiB } from './proc';
import { qwen3_06bConfig, randomBenchWeights } from './shapes';

async function main() {
  const args = new Args(process.argv.slice(2), ['constant-weights', 'dynamic-kv']);
  const layers = args.integer('layers', 28, 1);
  const batch = args.integer('batch', 4, 1);
  const promptLen = args.integer('prompt', 64, 1);
  const newTokens = args.integer('new', 32, 1);
  const calls = args.integer('calls', 2, 1);
  const threads = args.integer('threads', 0);
  const temperature = args.number('temperature', 0);
  const constantWeights = args.has('constant-weights');
  const staticKv = !args.has('dynamic-kv');
  const outFile = args.string('out') ?? 'bench/out/generate-node.json';
  args.rejectUnknown();

  const loadBefore = loadAvg();
  const t0 = performance.now();
  const cfg = qwen3_06bConfig(layers);
  const runner = new ModelRunner(cfg, nodeCpuBackend({ ...(threads ? { threads } : {}), constantWeights, staticKv }));
  await runner.loadWeights(randomBenchWeights(cfg));
  const setupS = (performance.now() - t0) / 1000;
  const prompts = Array.from({ length: batch }, (_, b) => Array.from({ length: promptLen }, (_, i) => 100 + ((i * 7919 + b * 104729) % (cfg.vocabSize - 100))));
  const callS: number[] = [];
  let tokens: number[][] = [];
  for (let c = 0; c < calls; c++) {
    const tc = performance.now();
    const r = await generate(runner, prompts, { maxNewTokens: newTokens, temperature, topP: 1, topK: 0, seed: 0, stopAtEos: false, eosTokenIds: cfg.eosTokenIds, padTokenId: cfg.padTokenId! });
    callS.push((performance.now() - tc) / 1000);
    tokens = r.tokens;
    console.error(`call ${c + 1}: ${callS.at(-1)!.toFixed(2)} s (${((batch * newTokens) / callS.at(-1)!).toFixed(1)} new tok/s), load ${loadAvg().join(' ')}`);
  }
  await runner.release();
  const result = {
    bench: 'generate-node',
    date: new Date().toISOString(),
    machine: machineLine(),
    node: process.version,
    shape: { model: 'Qwen3-0.6B', layers, batch, promptLen, newTokens, temperature, threads: threads || 'default', constantWeights, staticKv },
    setupS,
    callS,
    processS: (performance.now() - t0) / 1000,
    peakRssMiB: procStatusMiB('VmHWM'),
    loadBefore,
    loadAfter: loadAvg(),
    tokens,
  };
  await mkdir(path.dirname(outFile), { recursive: true });
  await writeFile(outFile, JSON.stringify(result, null, 2));
  console.log(`generate ${batch} x ${promptLen} + ${newTokens}: setup ${setupS.toFixed(1)} s, calls ${callS.map((s) => s.toFixed(2)).join(', ')} s, peak RSS ${result.peakRssMiB.toFixed(0)} MiB, load ${loadBefore[0]} -> ${result.loadAfter[0]}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
