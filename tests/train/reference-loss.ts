/**
 * Plain float64 losses over the reference forward pass (tests/reference/forward.ts), written
 * from the definitions (PMD-SPEC step 8) and sharing no code with src/engine/train:
 *  - ce: mean over every response token of the batch of -log p(next token);
 *  - distill: per response position, the student's top-k ids select k buckets plus a tail
 *    bucket log(1 - sum p) (clamped at 1e-7 like the engine); D_alpha between student and
 *    teacher bucket distributions (alpha 0: KL(T||S), 1: KL(S||T), else
 *    (1-a) KL(S||M) + a KL(T||M) with M = (1-a) S + a T); mean over response tokens.
 * The teacher's log-probs and the student's top-k ids are inputs (held fixed: no gradient),
 * exactly what the trainer treats as constants.
 */
import type { LoraAdapter, ModelConfig, WeightMap } from '../../src/engine/models/types';
import { referenceLogits } from '../reference/forward';

export interface RefSample {
  ids: number[];
  response_start: number;
  teacher_ids?: number[];
  teacher_response_start?: number;
}

export function logSoftmax64(row: ArrayLike<number>): Float64Array {
  let m = -Infinity;
  for (let i = 0; i < row.length; i++) m = Math.max(m, row[i]);
  let s = 0;
  for (let i = 0; i < row.length; i++) s += Math.exp(row[i] - m);
  const lse = m + Math.log(s);
  return Float64Array.from(row, (x) => x - lse);
}

export function topkIds(row: ArrayLike<number>, k: number): number[] {
  return Array.from(row, (_, i) => i)
    .sort((a, b) => row[b] - row[a] || a - b)
    .slice(0, k);
}

/** Log-probs of the student rows (one per response position) of a sample. */
export function responseLogp(cfg: ModelConfig, w: WeightMap, ids: number[], start: number, lora: LoraAdapter | null): Float64Array[] {
  const logits = referenceLogits(cfg, w, ids, lora);
  const rows: Float64Array[] = [];
  for (let p = start - 1; p + 1 < ids.length; p++) rows.push(logSoftmax64(logits[p]));
  return rows;
}

export function refCeLoss(cfg: ModelConfig, w: WeightMap, samples: RefSample[], lora: LoraAdapter | null): number {
  let sum = 0;
  let n = 0;
  for (const s of samples) {
    const rows = responseLogp(cfg, w, s.ids, s.response_start, lora);
    rows.forEach((lp, i) => {
      sum -= lp[s.ids[s.response_start + i]];
      n++;
    });
  }
  return sum / n;
}

const TAIL_EPS = 1e-7;

function buckets(lp: Float64Array, ids: number[]): Float64Array {
  const out = new Float64Array(ids.length + 1);
  let mass = 0;
  ids.forEach((id, i) => {
    out[i] = lp[id];
    mass += Math.exp(lp[id]);
  });
  out[ids.length] = Math.log(Math.max(1 - mass, TAIL_EPS));
  return out;
}

export function alphaDivergence(lS: Float64Array, lT: Float64Array, alpha: number): number {
  const kl = (lp: Float64Array, lq: Float64Array) => lp.reduce((a, x, i) => a + Math.exp(x) * (x - lq[i]), 0);
  if (alpha === 0) return kl(lT, lS);
  if (alpha === 1) return kl(lS, lT);
  const lM = lS.map((x, i) => Math.log((1 - alpha) * Math.exp(x) + alpha * Math.exp(lT[i])));
  return (1 - alpha) * kl(lS, lM) + alpha * kl(lT, lM);
}

/** What the teacher pass and the student's top-k selection fix before differentiation. */
export interface DistillFixed {
  /** Per sample, per response position: the student's top-k ids. */
  ids: number[][][];
  /** Per sample, per response position: the teacher's full log-probs. */
  teacher: Float64Array[][];
}

export function distillFixed(cfg: ModelConfig, w: WeightMap, samples: RefSample[], student: LoraAdapter | null, teacher: LoraAdapter | null, k: number): DistillFixed {
  return {
    ids: samples.map((s) => responseLogp(cfg, w, s.ids, s.response_start, student).map((lp) => topkIds(lp, k))),
    teacher: samples.map((s) => responseLogp(cfg, w, s.teacher_ids!, s.teacher_response_start!, teacher)),
  };
}

export function refDistillLoss(cfg: ModelConfig, w: WeightMap, samples: RefSample[], lora: LoraAdapter | null, fixed: DistillFixed, alpha: number): number {
  let sum = 0;
  let n = 0;
  samples.forEach((s, si) => {
    const rows = responseLogp(cfg, w, s.ids, s.response_start, lora);
    rows.forEach((lp, i) => {
      const ids = fixed.ids[si][i];
      sum += alphaDivergence(buckets(lp, ids), buckets(fixed.teacher[si][i], ids), alpha);
      n++;
    });
  });
  return sum / n;
}
