/**
 * The engine and training benchmarks on a GPU, with the numbers that say how close they come to
 * the hardware: decode tokens/s against the memory-bandwidth roofline (every weight read once
 * per step, plus the KV cache) and the LoRA step's share of peak FLOP/s. Runs
 * bench/engine-webgpu.ts and bench/train-webgpu.ts in Chromium on WebGPU (fp16 weights where the
 * adapter has shader-f16, as the app does) and reads their JSON. Usage:
 *   BENCH_GPU=hardware npx tsx bench/gpu/gpu-bench.ts [--layers 28] [--prompt 128] [--new 32]
 *       [--batches 1,8] [--train-batch 1] [--train-seq 512] [--bandwidth-gbs 4800]
 *       [--peak-tflops-fp32 67] [--peak-tflops-fp16 990] [--skip-train] [--out bench/out/gpu-bench.json]
 * Defaults for bandwidth and peak are an H200's (HBM3e 4.8 TB/s; 67 TFLOP/s fp32, 990 dense
 * fp16). Without BENCH_GPU=hardware it runs on SwiftShader, which checks the script (use tiny
 * sizes: --layers 1 --prompt 8 --new 3 --batches 1 --train-seq 16), not a GPU.
 * bench/gpu/run.sh checks the machine (Chromium, Vulkan, node_modules) first.
 *
 * Browser only: both benchmarks run the app's own worker code in Chromium. A Node path through
 * the `webgpu` npm package (Dawn) driving onnxruntime-web is not written: it could not be tested
 * on a machine without a GPU, and Chromium is what the app runs in. The script says so when that
 * package is installed.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Args } from '../../src/cli/args';
import { qwen3_06bConfig } from '../shapes';
import { machineLine } from '../proc';

function run(script: string, argv: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...process.execArgv, script, ...argv], { stdio: 'inherit' });
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${script} exited with ${code}`))));
  });
}

interface EngineRow {
  batch: number;
  promptLen: number;
  newTokens: number;
  decodeTokPerS: number;
  decodeMsPerStep: number;
  prefillTokPerS: number;
}

async function main() {
  const args = new Args(process.argv.slice(2), ['skip-train']);
  const layers = args.integer('layers', 28, 1);
  const prompt = args.integer('prompt', 128, 1);
  const newTokens = args.integer('new', 32, 2);
  const batches = args.string('batches') ?? '1,8';
  const trainBatch = args.integer('train-batch', 1, 1);
  const trainSeq = args.integer('train-seq', 512, 2);
  const bandwidth = args.number('bandwidth-gbs', 4800) * 1e9;
  const peak32 = args.number('peak-tflops-fp32', 67) * 1e12;
  const peak16 = args.number('peak-tflops-fp16', 990) * 1e12;
  const skipTrain = args.has('skip-train');
  const outFile = args.string('out') ?? 'bench/out/gpu-bench.json';
  args.rejectUnknown();

  const hardware = process.env.BENCH_GPU === 'hardware';
  try {
    createRequire(import.meta.url).resolve('webgpu');
    console.error('note: the `webgpu` package is installed, but this script runs Chromium only (see its header)');
  } catch {
    // not installed: Chromium, as always
  }

  const engineOut = 'bench/out/engine-webgpu.json';
  await run('bench/engine-webgpu.ts', ['--backend', 'webgpu', '--layers', String(layers), '--prompt', String(prompt), '--new', String(newTokens), '--batches', batches]);
  const engine = JSON.parse(await readFile(engineOut, 'utf8')) as { backend: string; model: { params: number }; rows: EngineRow[] };
  const fp16 = /weights fp16/.test(engine.backend);
  const cfg = qwen3_06bConfig(layers);
  const params = engine.model.params;
  const wBytes = params * (fp16 ? 2 : 4);
  const decode = engine.rows.map((r) => {
    // Per step: every weight once, and the KV cache (fp32) of all rows at the mean length.
    const meanT = r.promptLen + r.newTokens / 2;
    const kvBytes = 2 * cfg.numLayers * r.batch * cfg.numKvHeads * meanT * cfg.headDim * 4;
    const bytesPerStep = wBytes + kvBytes;
    const achieved = bytesPerStep / (r.decodeMsPerStep / 1000);
    return { ...r, bytesPerStep, achievedGBs: achieved / 1e9, rooflineTokPerS: (r.batch * bandwidth) / bytesPerStep, fractionOfBandwidth: achieved / bandwidth };
  });

  let train: Record<string, unknown> | null = null;
  if (!skipTrain) {
    const trainOut = 'bench/out/train-gpu.json';
    await run('bench/train-webgpu.ts', ['--backend', 'webgpu', '--layers', String(layers), '--batch', String(trainBatch), '--seq', String(trainSeq), '--micro', String(trainBatch), '--steps', '2', '--out', trainOut]);
    const t = JSON.parse(await readFile(trainOut, 'utf8')) as { rows: { meanStepS: number; weightDtype?: string; error?: string }[] };
    const row = t.rows[0];
    // Matrix-product FLOPs of one LoRA step: the layers' products forward and backward (to the
    // activations; the frozen weights get no gradient), the LM head on the loss tokens (half of
    // each row) forward and backward, and attention (QK^T and PV, forward and backward).
    const D = cfg.hiddenSize;
    const perLayer = D * cfg.numHeads * cfg.headDim * 2 + D * cfg.numKvHeads * cfg.headDim * 2 + 3 * D * cfg.intermediateSize;
    const tokens = trainBatch * trainSeq;
    const layersFlop = 2 * 2 * perLayer * cfg.numLayers * tokens;
    const headFlop = 2 * 2 * cfg.vocabSize * D * (tokens / 2);
    const attnFlop = 3 * cfg.numLayers * trainBatch * 4 * trainSeq * trainSeq * cfg.numHeads * cfg.headDim;
    const flop = layersFlop + headFlop + attnFlop;
    const peak = row.weightDtype === 'float16' ? peak16 : peak32;
    train = { stepS: row.meanStepS, error: row.error, flopPerStep: flop, tflops: flop / row.meanStepS / 1e12, fractionOfPeak: flop / row.meanStepS / peak, peakTflops: peak / 1e12 };
  }

  const result = { bench: 'gpu-bench', date: new Date().toISOString(), machine: machineLine(), adapter: hardware ? 'hardware' : 'swiftshader', backend: engine.backend, fp16, bandwidthGBs: bandwidth / 1e9, decode, train };
  await mkdir(path.dirname(outFile), { recursive: true });
  await writeFile(outFile, JSON.stringify(result, null, 2));
  console.log(`${engine.backend}; weights ${(wBytes / 2 ** 30).toFixed(2)} GiB; roofline at ${bandwidth / 1e9} GB/s`);
  if (!hardware) console.log('SwiftShader (BENCH_GPU is not "hardware"): this checks the script end to end; the shares of bandwidth and peak below are against the GPU figures given and say nothing about a GPU.');
  console.log('| batch | decode tok/s | ms/step | achieved GB/s | roofline tok/s | share of bandwidth |\n|---|---|---|---|---|---|');
  for (const d of decode) console.log(`| ${d.batch} | ${d.decodeTokPerS.toFixed(2)} | ${d.decodeMsPerStep.toFixed(1)} | ${d.achievedGBs.toPrecision(3)} | ${d.rooflineTokPerS.toFixed(0)} | ${(100 * d.fractionOfBandwidth).toPrecision(3)}% |`);
  if (train) console.log(`LoRA step ${trainBatch} x ${trainSeq}: ${(train.stepS as number).toFixed(2)} s, ${(train.tflops as number).toPrecision(3)} TFLOP/s = ${(100 * (train.fractionOfPeak as number)).toPrecision(3)}% of ${train.peakTflops} TFLOP/s`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
