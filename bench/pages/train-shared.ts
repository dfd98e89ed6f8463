/**
 * What the LoRA training-step benchmarks train on, shared by bench/train-node.ts (Node) and
 * bench/pages/train.worker.ts (Chromium), so both measure the same step.
 *
 *  - LoRA rank 16, alpha 32, no rsLoRA, on all seven projections (q/k/v/o/gate/up/down).
 *  - `batch` rows of exactly `seq` seeded random token ids (no padding); the response is the
 *    last `seq * responseFraction` tokens of each row, so the loss covers the positions that
 *    predict them.
 *  - Distillation: the teacher sees `teacherExtra` more random context tokens in front of the
 *    same prompt, followed by the same response (the PMD setup: the teacher's prompt carries
 *    the memory, the student's does not).
 */
import type { LossSpec } from '../../src/engine/train/losses';
import type { TrainSample } from '../../src/engine/train/batching';
import { LORA_TARGETS, type LoraConfig } from '../../src/engine/models/types';
import { Prng } from '../../src/util/prng';

export const BENCH_LORA: LoraConfig = { r: 16, alpha: 32, targetModules: [...LORA_TARGETS], useRslora: false };
export const LORA_SEED = 7;
export const DATA_SEED = 11;
/** Distillation settings of the benchmark (alpha 0.5: the mixture form; top-k 20 as in the CLI's example). */
export const DISTILL: LossSpec = { kind: 'distill', alpha: 0.5, topk: 20 };

export interface SampleOptions {
  batch: number;
  seq: number;
  vocabSize: number;
  /** Fraction of each row that is response (default 0.5). */
  responseFraction?: number;
  /** Distillation: extra teacher context tokens (0: no teacher rows). */
  teacherExtra?: number;
  seed?: number;
}

/** Seeded random token ids (ids 0..99 left out, so no special or pad ids by accident). */
export function benchSamples(o: SampleOptions): TrainSample[] {
  const rng = new Prng(o.seed ?? DATA_SEED);
  const tok = () => 100 + Math.floor(rng.next() * (o.vocabSize - 100));
  const respLen = Math.max(1, Math.round(o.seq * (o.responseFraction ?? 0.5)));
  const promptLen = o.seq - respLen;
  if (promptLen < 1) throw new Error(`seq ${o.seq} leaves no prompt before a ${respLen}-token response`);
  return Array.from({ length: o.batch }, () => {
    const prompt = Array.from({ length: promptLen }, tok);
    const response = Array.from({ length: respLen }, tok);
    const s: TrainSample = { ids: [...prompt, ...response], response_start: promptLen };
    if (o.teacherExtra) {
      const ctx = [...Array.from({ length: o.teacherExtra }, tok), ...prompt];
      s.teacher_ids = [...ctx, ...response];
      s.teacher_response_start = ctx.length;
    }
    return s;
  });
}

export function lossFor(kind: string): LossSpec {
  if (kind === 'ce') return { kind: 'ce' };
  if (kind === 'distill') return DISTILL;
  throw new Error(`--loss must be ce or distill, got "${kind}"`);
}

/** One measured training-step setting, as both benchmarks report it. */
export interface TrainBenchRow {
  micro: number;
  microBatches: number;
  /** Seconds of the warm-up step (creates the sessions: graph build, serialization, compile). */
  warmupS: number;
  /** Seconds of each timed step. */
  stepS: number[];
  /** Mean of stepS. */
  meanStepS: number;
  /** batch * seq / meanStepS: every token of the rows goes through forward and backward. */
  tokPerS: number;
  /** Loss (response) tokens per second. */
  responseTokPerS: number;
  responseTokens: number;
  loss: number[];
  peakRssMiB: number;
  /** Resident memory after the model and trainer were set up, before any step. */
  setupRssMiB: number;
  /** Wall seconds per Trainer phase, summed over the timed steps. */
  phaseS: Partial<Record<TrainPhase, number>>;
  loadBefore: number[];
  loadAfter: number[];
  error?: string;
}

export type TrainPhase = 'student-topk' | 'teacher' | 'train' | 'optimizer' | 'ema';

/** Sums wall time per Trainer phase (from one onProgress event to the next, or to `stop`). */
export class PhaseTimer {
  readonly seconds: Partial<Record<TrainPhase, number>> = {};
  private current: { phase: TrainPhase; t0: number } | null = null;
  enabled = false;

  mark(phase: TrainPhase): void {
    const now = performance.now();
    this.close(now);
    if (this.enabled) this.current = { phase, t0: now };
  }

  stop(): void {
    this.close(performance.now());
  }

  private close(now: number): void {
    if (this.current) this.seconds[this.current.phase] = (this.seconds[this.current.phase] ?? 0) + (now - this.current.t0) / 1000;
    this.current = null;
  }
}

export interface TimedSteps {
  warmupS: number;
  stepS: number[];
  /** Loss of the warm-up step, then of every timed step. */
  losses: number[];
  responseTokens: number;
}

/**
 * One untimed warm-up step (session creation), then `steps` timed steps with the phase timer
 * on. `log` reports each step as it finishes.
 */
export async function runTimedSteps(
  trainer: { step(s: TrainSample[], l: LossSpec): Promise<{ loss: number; tokenCount: number }> },
  samples: TrainSample[],
  loss: LossSpec,
  steps: number,
  phases: PhaseTimer,
  log: (what: string) => void,
): Promise<TimedSteps> {
  const tw = performance.now();
  const warm = await trainer.step(samples, loss);
  const warmupS = (performance.now() - tw) / 1000;
  log(`warm-up step ${warmupS.toFixed(1)} s, loss ${warm.loss.toFixed(4)}`);
  phases.enabled = true;
  const stepS: number[] = [];
  const losses = [warm.loss];
  let responseTokens = warm.tokenCount;
  for (let i = 0; i < steps; i++) {
    const ts = performance.now();
    const r = await trainer.step(samples, loss);
    phases.stop();
    stepS.push((performance.now() - ts) / 1000);
    losses.push(r.loss);
    responseTokens = r.tokenCount;
    log(`step ${i + 1}: ${stepS.at(-1)!.toFixed(1)} s, loss ${r.loss.toFixed(4)}`);
  }
  return { warmupS, stepS, losses, responseTokens };
}

/** The fields every training-bench JSON records about what was trained. */
export function runDescription(s: { loss: string; batch: number; seq: number; teacherExtra: number; steps: number }) {
  return {
    lora: BENCH_LORA,
    loss: lossFor(s.loss),
    batch: s.batch,
    seq: s.seq,
    teacherExtra: s.loss === 'distill' ? s.teacherExtra : 0,
    timedSteps: s.steps,
  };
}

/** The row of a setting that did not produce a timed step (out of memory, error, time limit). */
export function failedBenchRow(micro: number, microBatches: number, peakRssMiB: number, loadBefore: number[], loadAfter: number[], error: string): TrainBenchRow {
  return {
    micro,
    microBatches,
    warmupS: NaN,
    stepS: [],
    meanStepS: NaN,
    tokPerS: NaN,
    responseTokPerS: NaN,
    responseTokens: 0,
    loss: [],
    peakRssMiB,
    setupRssMiB: NaN,
    phaseS: {},
    loadBefore,
    loadAfter,
    error,
  };
}
