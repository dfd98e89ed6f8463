/**
 * What static inference knows of a value: its dtype, its shape as symbolic dimensions, and for
 * small int tensors their element values.
 *
 * A dimension is a monomial `c * s1 * s2 ...` over the symbolic names of the graph inputs
 * ("batch", "seq"), so that Reshape(x [batch, seq, D], [-1, D]) gives `batch*seq` and a later
 * Reshape(v [batch*seq, H*hd], [-1, H, hd]) gives `batch*seq` again: two values built from the
 * same inputs get provably equal dims. `null` means unknown (a dim) or unknown rank (a shape).
 * The same symbol always means the same size (the usual ONNX convention for graph inputs).
 */
import type { DType } from '../onnx/graph';

export interface Mono {
  /** Numeric coefficient (a positive integer). */
  c: number;
  /** Sorted symbol names; empty for a plain number. */
  s: string[];
}

export type SDim = Mono | null;

export interface ValueMeta {
  dtype: DType | null;
  /** null: rank unknown. */
  shape: SDim[] | null;
  /** Element values of a small int tensor (rank 0 or 1), when known. */
  ints?: SDim[] | null;
}

export const num = (c: number): Mono => ({ c, s: [] });
export const sym = (name: string): Mono => ({ c: 1, s: [name] });

/** A mono that may be negative: ints of constants are stored as numbers including negatives. */
export function intConst(v: number): Mono {
  return { c: v, s: [] };
}

export function monoKey(m: SDim): string | null {
  return m ? `${m.c}|${m.s.join('*')}` : null;
}

export function monoEq(a: SDim, b: SDim): boolean {
  return !!a && !!b && a.c === b.c && a.s.length === b.s.length && a.s.every((x, i) => x === b.s[i]);
}

export function isNum(a: SDim | undefined, v?: number): a is Mono {
  return !!a && a.s.length === 0 && (v === undefined || a.c === v);
}

export function monoMul(a: SDim, b: SDim): SDim {
  if (!a || !b) return null;
  return { c: a.c * b.c, s: [...a.s, ...b.s].sort() };
}

/** a / b when it divides exactly, else null. */
export function monoDiv(a: SDim, b: SDim): SDim {
  if (!a || !b || b.c === 0 || a.c % b.c !== 0) return null;
  const rest = [...a.s];
  for (const x of b.s) {
    const i = rest.indexOf(x);
    if (i < 0) return null;
    rest.splice(i, 1);
  }
  return { c: a.c / b.c, s: rest };
}

export function monoAdd(a: SDim, b: SDim): SDim {
  if (!a || !b) return null;
  if (b.s.length === 0 && b.c === 0) return a;
  if (a.s.length === 0 && a.c === 0) return b;
  if (a.s.length === b.s.length && a.s.every((x, i) => x === b.s[i])) return { c: a.c + b.c, s: a.s };
  return null;
}

export function monoProd(ds: SDim[]): SDim {
  let p: SDim = num(1);
  for (const d of ds) p = monoMul(p, d);
  return p;
}

export function fmtShape(s: SDim[] | null): string {
  if (!s) return '?';
  return `[${s.map((d) => (d ? (d.s.length ? `${d.c === 1 ? '' : `${d.c}*`}${d.s.join('*')}` : String(d.c)) : '?')).join(',')}]`;
}

export function isFloat(dt: DType | null | undefined): boolean {
  return dt === 'float32' || dt === 'float16' || dt === 'float64';
}

/** Broadcast shapes numpy-style; a dim is null when two differing non-1 dims meet (not provable). */
export function broadcastShapes(shapes: (SDim[] | null)[]): SDim[] | null {
  if (shapes.some((s) => s === null)) return null;
  const ss = shapes as SDim[][];
  const r = Math.max(0, ...ss.map((s) => s.length));
  const out: SDim[] = [];
  for (let i = 0; i < r; i++) {
    const ds = ss.map((s) => (i - (r - s.length) >= 0 ? s[i - (r - s.length)] : num(1)));
    const nonOne = ds.filter((d) => !isNum(d, 1));
    if (nonOne.length === 0) out.push(num(1));
    else if (nonOne.every((d) => monoEq(d, nonOne[0]))) out.push(nonOne[0]);
    else out.push(null); // unknown, or two different symbols: not provable statically
  }
  return out;
}

/** Values of an int tensor as plain numbers when all are known. */
export function intsNum(m: ValueMeta | undefined): number[] | null {
  if (!m || !m.ints) return null;
  const out: number[] = [];
  for (const d of m.ints) {
    if (!isNum(d)) return null;
    out.push(d.c);
  }
  return out;
}

/** Clamp slice bounds for a known dim (ONNX Slice semantics). */
export function clampSlice(start: number, end: number, step: number, dim: number): [number, number] {
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  if (step > 0) {
    s = Math.min(Math.max(s, 0), dim);
    e = Math.min(Math.max(e, 0), dim);
  } else {
    s = Math.min(Math.max(s, 0), dim - 1);
    e = Math.min(Math.max(e, -1), dim - 1);
  }
  return [s, e];
}

export function metaOfConst(dtype: DType, dims: number[], data: ArrayLike<number | bigint>): ValueMeta {
  const meta: ValueMeta = { dtype, shape: dims.map((d) => num(d)) };
  if ((dtype === 'int64' || dtype === 'int32') && dims.length <= 1 && data.length <= 64) {
    meta.ints = Array.from(data, (v) => intConst(Number(v)));
  }
  return meta;
}
