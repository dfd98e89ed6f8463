/// <reference lib="webworker" />
/**
 * Benchmark worker: one LoRA training step setting on onnxruntime-web (WebGPU, or wasm), set
 * up the way src/worker/engine.worker.ts sets up the engine (initOrtWeb + webEngineBackend).
 *
 * The Qwen3-0.6B-shaped weights are generated here from the same seed as bench/shapes.ts
 * (nothing is downloaded or served), uploaded in ~256 MiB chunks by a ModelRunner (on WebGPU
 * they then live in GPU buffers), and shared with the Trainer through runnerWeightFeeds, as
 * the app shares its loaded model with training.
 */
import { initOrtWeb, webEngineBackend } from '../../src/engine/runtime/ort-web';
import { ModelRunner } from '../../src/engine/runtime/model-runner';
import { Trainer, runnerWeightFeeds } from '../../src/engine/train/trainer';
import { initLoraState } from '../../src/engine/train/lora-state';
import { paramCount, qwen3_06bConfig, randomBenchWeights } from '../shapes';
import { BENCH_LORA, LORA_SEED, PhaseTimer, benchSamples, runTimedSteps, lossFor } from './train-shared';

export interface TrainRunParams {
  backend: 'webgpu' | 'wasm';
  layers: number;
  batch: number;
  seq: number;
  micro: number;
  steps: number;
  loss: string;
  teacherExtra: number;
  /** wasm threads (0: the engine's default). */
  threads: number;
  /** Extra Trainer options, e.g. {"recompute": "layers"}. */
  trainerOptions: Record<string, unknown>;
}

export interface TrainRunResult {
  backend: string;
  adapterInfo: string;
  weightDtype: string;
  fallbackReason?: string;
  params: number;
  setupS: number;
  warmupS: number;
  stepS: number[];
  loss: number[];
  responseTokens: number;
  phaseS: Record<string, number>;
  wasmThreads: number;
}

export type TrainWorkerMessage = { type: 'log'; text: string } | { type: 'result'; result: TrainRunResult } | { type: 'error'; message: string };

const scope = self as unknown as DedicatedWorkerGlobalScope;
const t00 = performance.now();
const log = (text: string) => scope.postMessage({ type: 'log', text: `[${((performance.now() - t00) / 1000).toFixed(1)} s] ${text}` } satisfies TrainWorkerMessage);

async function run(p: TrainRunParams): Promise<TrainRunResult> {
  const rt = await initOrtWeb({ preferWebGpu: p.backend === 'webgpu', threads: p.threads || undefined });
  if (p.backend === 'webgpu' && rt.backend !== 'webgpu') throw new Error(`WebGPU was asked for but not available: ${rt.fallbackReason}`);
  const backend = await webEngineBackend(rt);
  log(`backend ${rt.backend} (${rt.adapterInfo}), weights ${backend.weightDtype}, wasm threads ${rt.wasmThreads} (cross-origin isolated: ${self.crossOriginIsolated})`);
  const cfg = qwen3_06bConfig(p.layers);
  const t0 = performance.now();
  let weights: ReturnType<typeof randomBenchWeights> | null = randomBenchWeights(cfg);
  const params = paramCount(weights);
  log(`generated ${(params / 1e6).toFixed(0)}M seeded parameters`);
  const runner = new ModelRunner(cfg, backend);
  await runner.loadWeights(weights);
  weights = null; // on WebGPU the runner's tensors are GPU buffers now; on wasm they keep the arrays alive
  const phases = new PhaseTimer();
  const trainer = await Trainer.create({
    backend,
    config: cfg,
    weights: runnerWeightFeeds(runner),
    state: initLoraState(cfg, BENCH_LORA, LORA_SEED),
    padId: cfg.padTokenId!,
    microBatchSize: p.micro,
    onProgress: (e) => {
      phases.mark(e.phase);
      log(`  ${e.phase} ${e.microBatch + 1}/${e.microBatches}`);
    },
    ...p.trainerOptions,
  });
  const setupS = (performance.now() - t0) / 1000;
  log(`model and trainer set up in ${setupS.toFixed(1)} s`);
  const loss = lossFor(p.loss);
  const samples = benchSamples({ batch: p.batch, seq: p.seq, vocabSize: cfg.vocabSize, teacherExtra: loss.kind === 'distill' ? p.teacherExtra : 0 });
  const { warmupS, stepS, losses, responseTokens } = await runTimedSteps(trainer, samples, loss, p.steps, phases, log);
  await trainer.release();
  await runner.release();
  return {
    backend: rt.backend,
    adapterInfo: rt.adapterInfo,
    weightDtype: backend.weightDtype ?? 'float32',
    fallbackReason: rt.fallbackReason,
    params,
    setupS,
    warmupS,
    stepS,
    loss: losses,
    responseTokens,
    phaseS: phases.seconds as Record<string, number>,
    wasmThreads: rt.wasmThreads,
  };
}

scope.onmessage = (ev: MessageEvent<TrainRunParams>) => {
  run(ev.data).then(
    (result) => scope.postMessage({ type: 'result', result } satisfies TrainWorkerMessage),
    (e: unknown) => scope.postMessage({ type: 'error', message: e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e) } satisfies TrainWorkerMessage),
  );
};
