/**
 * Plain float64 reference implementations of the training losses, written from the definitions
 * (PMD-SPEC step 8, GRPO) and sharing nothing with src/engine/train: probabilities are formed
 * explicitly and divergences summed as p * log(p / q), so the graph's log-space formulation
 * (shifted log-sum-exp, Floor shifts, log M by log-sum-exp) is checked against the math, not
 * against itself.
 *
 * Layout: logits [B, S, V], per-position data [B, S], top-k data [B, S, k], row-major.
 */
import type { LoraAdapter, ModelConfig, WeightMap } from '../../src/engine/models/types';
import { referenceLogits } from './forward';

export interface RefBatch {
  B: number;
  S: number;
  V: number;
  logits: ArrayLike<number>;
  targets: ArrayLike<number | bigint>;
  mask: ArrayLike<number>;
  tokenCount: number;
}

/** log softmax of one row, in float64. */
export function refLogSoftmax(row: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) max = Math.max(max, row[i]);
  let z = 0;
  for (let i = 0; i < row.length; i++) z += Math.exp(row[i] - max);
  const c = max + Math.log(z);
  return Float64Array.from({ length: row.length }, (_, i) => row[i] - c);
}

/** Indices of the k largest entries, largest first; ties: lower index first (ONNX TopK). */
export function refTopk(row: ArrayLike<number>, k: number): number[] {
  return Array.from({ length: row.length }, (_, i) => i)
    .sort((a, b) => row[b] - row[a] || a - b)
    .slice(0, k);
}

function row(b: RefBatch, pos: number): ArrayLike<number> {
  const out = new Float64Array(b.V);
  for (let v = 0; v < b.V; v++) out[v] = b.logits[pos * b.V + v];
  return out;
}

/** Top-k ids of every position, [B * S * k]. */
export function refTopkAll(logits: ArrayLike<number>, positions: number, V: number, k: number): BigInt64Array {
  const out = new BigInt64Array(positions * k);
  for (let p = 0; p < positions; p++) {
    const ids = refTopk(Array.from({ length: V }, (_, v) => logits[p * V + v]), k);
    ids.forEach((id, j) => (out[p * k + j] = BigInt(id)));
  }
  return out;
}

export function refTokenLogp(b: RefBatch): Float64Array {
  const out = new Float64Array(b.B * b.S);
  for (let p = 0; p < b.B * b.S; p++) out[p] = refLogSoftmax(row(b, p))[Number(b.targets[p])];
  return out;
}

function maskedMean(b: RefBatch, tok: ArrayLike<number>): number {
  let s = 0;
  for (let p = 0; p < b.B * b.S; p++) if (b.mask[p] !== 0) s += b.mask[p] * tok[p];
  return s / b.tokenCount;
}

export function refCe(b: RefBatch): { loss: number; logp: Float64Array } {
  const logp = refTokenLogp(b);
  return { loss: maskedMean(b, logp.map((v) => -v)), logp };
}

/** Tail probability 1 - sum p, clamped below at eps (the documented convention). */
function tailProb(ps: number[], eps: number): number {
  return Math.max(1 - ps.reduce((a, c) => a + c, 0), eps);
}

/** KL(p || q) = sum p log(p / q) over buckets (0 log 0 = 0). */
function kl(p: number[], q: number[]): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) if (p[i] > 0) s += p[i] * Math.log(p[i] / q[i]);
  return s;
}

/** D_alpha between bucket distributions S (student) and T (teacher). */
export function refDivergence(S: number[], T: number[], alpha: number): number {
  if (alpha === 0) return kl(T, S);
  if (alpha === 1) return kl(S, T);
  const M = S.map((s, i) => (1 - alpha) * s + alpha * T[i]);
  return (1 - alpha) * kl(S, M) + alpha * kl(T, M);
}

export interface RefTeacher {
  /** [B*S*k] log-probs at the ids. */
  top: Float64Array;
  /** [B*S] log(tail). */
  tail: Float64Array;
  /** [B*S] log-prob of the target. */
  token: Float64Array;
}

/** Teacher scoring: log-probs at the given ids, the tail bucket, the target's log-prob. */
export function refTeacherScoring(b: Omit<RefBatch, 'mask' | 'tokenCount'>, ids: ArrayLike<bigint>, k: number, eps: number): RefTeacher {
  const n = b.B * b.S;
  const top = new Float64Array(n * k);
  const tail = new Float64Array(n);
  const token = new Float64Array(n);
  for (let p = 0; p < n; p++) {
    const ls = refLogSoftmax(Array.from({ length: b.V }, (_, v) => b.logits[p * b.V + v]));
    const ps: number[] = [];
    for (let j = 0; j < k; j++) {
      top[p * k + j] = ls[Number(ids[p * k + j])];
      ps.push(Math.exp(ls[Number(ids[p * k + j])]));
    }
    tail[p] = Math.log(tailProb(ps, eps));
    token[p] = ls[Number(b.targets[p])];
  }
  return { top, tail, token };
}

export function refDistill(
  b: RefBatch,
  ids: ArrayLike<bigint>,
  k: number,
  teacherTop: ArrayLike<number>,
  teacherTail: ArrayLike<number>,
  alpha: number,
  eps: number,
): { loss: number; div: Float64Array; logp: Float64Array } {
  const n = b.B * b.S;
  const div = new Float64Array(n);
  for (let p = 0; p < n; p++) {
    const ls = refLogSoftmax(row(b, p));
    const S: number[] = [];
    const T: number[] = [];
    for (let j = 0; j < k; j++) {
      S.push(Math.exp(ls[Number(ids[p * k + j])]));
      T.push(Math.exp(teacherTop[p * k + j]));
    }
    S.push(tailProb(S.slice(), eps));
    T.push(Math.exp(teacherTail[p]));
    div[p] = refDivergence(S, T, alpha);
  }
  return { loss: maskedMean(b, div), div, logp: refTokenLogp(b) };
}

export function refGrpo(
  b: RefBatch,
  advantages: ArrayLike<number>,
  oldLogp: ArrayLike<number>,
  clipLow: number,
  clipHigh: number,
): { loss: number; logp: Float64Array; ratio: Float64Array; clipped: boolean[] } {
  const logp = refTokenLogp(b);
  const n = b.B * b.S;
  const ratio = new Float64Array(n);
  const obj = new Float64Array(n);
  const clipped: boolean[] = [];
  for (let p = 0; p < n; p++) {
    const A = advantages[Math.floor(p / b.S)];
    const r = Math.exp(logp[p] - oldLogp[p]);
    const rc = Math.min(Math.max(r, 1 - clipLow), 1 + clipHigh);
    ratio[p] = r;
    obj[p] = Math.min(r * A, rc * A);
    clipped.push(rc * A < r * A);
  }
  return { loss: -maskedMean(b, obj), logp, ratio, clipped };
}

/**
 * Central finite differences of a float64 function of a float32 tensor, Richardson-combined
 * over steps h and h/2. The perturbation actually applied is what float32 can represent.
 */
export function refFd(f: () => number, x: Float32Array, idx: number[], h: number): number[] {
  const at = (i: number, step: number): number => {
    const old = x[i];
    const up = Math.fround(old + step) - old;
    const dn = old - Math.fround(old - step);
    x[i] = old + up;
    const fu = f();
    x[i] = old - dn;
    const fdn = f();
    x[i] = old;
    return (fu - fdn) / (up + dn);
  };
  return idx.map((i) => {
    const d1 = at(i, h);
    const d2 = at(i, h / 2);
    return (4 * d2 - d1) / 3;
  });
}

// ---------------------------------------------------------------------------------------------
// Losses of whole samples over the reference forward pass (tests/reference/forward.ts):
//  - ce: mean over every response token of the batch of -log p(next token);
//  - distill: per response position, the student's top-k ids select k buckets plus a tail
//    bucket log(1 - sum p) (clamped at 1e-7 like the engine); D_alpha between the student's and
//    the teacher's bucket distributions; mean over response tokens.
// The teacher's log-probs and the student's top-k ids are inputs (held fixed: no gradient),
// exactly what the trainer treats as constants.

export interface RefSample {
  ids: number[];
  response_start: number;
  teacher_ids?: number[];
  teacher_response_start?: number;
}

/** Log-probs of the student rows (one per response position) of a sample. */
export function responseLogp(cfg: ModelConfig, w: WeightMap, ids: number[], start: number, lora: LoraAdapter | null): Float64Array[] {
  const logits = referenceLogits(cfg, w, ids, lora);
  const rows: Float64Array[] = [];
  for (let p = start - 1; p + 1 < ids.length; p++) rows.push(refLogSoftmax(logits[p]));
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

/** What the teacher pass and the student's top-k selection fix before differentiation. */
export interface DistillFixed {
  /** Per sample, per response position: the student's top-k ids. */
  ids: number[][][];
  /** Per sample, per response position: the teacher's full log-probs. */
  teacher: Float64Array[][];
}

export function distillFixed(cfg: ModelConfig, w: WeightMap, samples: RefSample[], student: LoraAdapter | null, teacher: LoraAdapter | null, k: number): DistillFixed {
  return {
    ids: samples.map((s) => responseLogp(cfg, w, s.ids, s.response_start, student).map((lp) => refTopk(lp, k))),
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
      sum += refDivergence(Array.from(buckets(lp, ids), Math.exp), Array.from(buckets(fixed.teacher[si][i], ids), Math.exp), alpha);
      n++;
    });
  });
  return sum / n;
}
