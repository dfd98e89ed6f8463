/**
 * Plain-JS (float64) reference implementations of the ONNX ops the smoke worker exercises, with
 * numpy-style broadcasting. Row-major, dims + flat data, like the tensors the worker posts back.
 */

export interface Nd {
  dims: number[];
  data: number[];
}

export const size = (dims: readonly number[]): number => dims.reduce((a, b) => a * b, 1);

function strides(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1] * dims[i + 1];
  return s;
}

function broadcastDims(a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`cannot broadcast [${a}] with [${b}]`);
    out.push(Math.max(da, db));
  }
  return out;
}

/** Flat index into a tensor of `dims` for a multi-index over broadcast `outDims`. */
function broadcastIndex(idx: readonly number[], dims: readonly number[], st: readonly number[]): number {
  const off = idx.length - dims.length;
  let flat = 0;
  for (let i = 0; i < dims.length; i++) flat += (dims[i] === 1 ? 0 : idx[off + i]) * st[i];
  return flat;
}

function unravel(i: number, dims: readonly number[]): number[] {
  const idx = new Array<number>(dims.length);
  for (let d = dims.length - 1; d >= 0; d--) {
    idx[d] = i % dims[d];
    i = Math.floor(i / dims[d]);
  }
  return idx;
}

export function binary(a: Nd, b: Nd, f: (x: number, y: number) => number): Nd {
  const dims = broadcastDims(a.dims, b.dims);
  const sa = strides(a.dims);
  const sb = strides(b.dims);
  const data = new Array<number>(size(dims));
  for (let i = 0; i < data.length; i++) {
    const idx = unravel(i, dims);
    data[i] = f(a.data[broadcastIndex(idx, a.dims, sa)], b.data[broadcastIndex(idx, b.dims, sb)]);
  }
  return { dims, data };
}

export const add = (a: Nd, b: Nd): Nd => binary(a, b, (x, y) => x + y);
export const mul = (a: Nd, b: Nd): Nd => binary(a, b, (x, y) => x * y);
export const div = (a: Nd, b: Nd): Nd => binary(a, b, (x, y) => x / y);
export const unary = (a: Nd, f: (x: number) => number): Nd => ({ dims: [...a.dims], data: a.data.map(f) });
export const scalar = (v: number): Nd => ({ dims: [], data: [v] });

/** MatMul with broadcast batch dimensions (both operands at least 2-D). */
export function matmul(a: Nd, b: Nd): Nd {
  const [m, k] = a.dims.slice(-2);
  const [k2, n] = b.dims.slice(-2);
  if (k !== k2) throw new Error(`matmul inner dims differ: [${a.dims}] x [${b.dims}]`);
  const batchA = a.dims.slice(0, -2);
  const batchB = b.dims.slice(0, -2);
  const batch = broadcastDims(batchA, batchB);
  const sa = strides(batchA);
  const sb = strides(batchB);
  const out: number[] = new Array(size(batch) * m * n);
  for (let bi = 0; bi < size(batch); bi++) {
    const idx = unravel(bi, batch);
    const oa = broadcastIndex(idx, batchA, sa) * m * k;
    const ob = broadcastIndex(idx, batchB, sb) * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let t = 0; t < k; t++) s += a.data[oa + i * k + t] * b.data[ob + t * n + j];
        out[bi * m * n + i * n + j] = s;
      }
    }
  }
  return { dims: [...batch, m, n], data: out };
}

/** Gemm with transB=1: a [M,K] x b[N,K]^T (+ c broadcast). */
export function gemmTransB(a: Nd, b: Nd, c?: Nd): Nd {
  const bt = transpose(b, [1, 0]);
  const y = matmul(a, bt);
  return c ? add(y, c) : y;
}

export function transpose(a: Nd, perm: number[]): Nd {
  const dims = perm.map((p) => a.dims[p]);
  const sa = strides(a.dims);
  const data = new Array<number>(a.data.length);
  for (let i = 0; i < data.length; i++) {
    const idx = unravel(i, dims);
    let src = 0;
    for (let d = 0; d < perm.length; d++) src += idx[d] * sa[perm[d]];
    data[i] = a.data[src];
  }
  return { dims, data };
}

/** ONNX Reshape semantics: 0 copies the input dim, -1 is inferred. */
export function reshape(a: Nd, shape: number[]): Nd {
  const dims = shape.map((d, i) => (d === 0 ? a.dims[i] : d));
  const known = dims.filter((d) => d !== -1).reduce((x, y) => x * y, 1);
  const out = dims.map((d) => (d === -1 ? a.data.length / known : d));
  if (size(out) !== a.data.length) throw new Error(`cannot reshape [${a.dims}] to [${shape}]`);
  return { dims: out, data: [...a.data] };
}

export function unsqueeze(a: Nd, axes: number[]): Nd {
  const dims = [...a.dims];
  for (const ax of [...axes].sort((x, y) => x - y)) dims.splice(ax, 0, 1);
  return { dims, data: [...a.data] };
}

/** Slice along one axis, with ONNX clamping of negative / oversized bounds. */
export function slice(a: Nd, start: number, end: number, axis: number): Nd {
  const n = a.dims[axis];
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
  const s = clamp(start);
  const e = clamp(end);
  const dims = [...a.dims];
  dims[axis] = Math.max(0, e - s);
  const sa = strides(a.dims);
  const data = new Array<number>(size(dims));
  for (let i = 0; i < data.length; i++) {
    const idx = unravel(i, dims);
    idx[axis] += s;
    data[i] = a.data[idx.reduce((acc, v, d) => acc + v * sa[d], 0)];
  }
  return { dims, data };
}

export function concat(parts: Nd[], axis: number): Nd {
  const dims = [...parts[0].dims];
  dims[axis] = parts.reduce((s, p) => s + p.dims[axis], 0);
  const data = new Array<number>(size(dims));
  const st = strides(dims);
  let offset = 0;
  for (const p of parts) {
    for (let i = 0; i < p.data.length; i++) {
      const idx = unravel(i, p.dims);
      idx[axis] += offset;
      data[idx.reduce((acc, v, d) => acc + v * st[d], 0)] = p.data[i];
    }
    offset += p.dims[axis];
  }
  return { dims, data };
}

/** Softmax over the last axis. */
export function softmaxLast(a: Nd): Nd {
  const n = a.dims[a.dims.length - 1];
  const data = new Array<number>(a.data.length);
  for (let r = 0; r < a.data.length / n; r++) {
    const row = a.data.slice(r * n, r * n + n);
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const s = e.reduce((x, y) => x + y, 0);
    for (let i = 0; i < n; i++) data[r * n + i] = e[i] / s;
  }
  return { dims: [...a.dims], data };
}

/** ReduceMean over the last axis, keepdims=1. */
export function reduceMeanLast(a: Nd): Nd {
  const n = a.dims[a.dims.length - 1];
  const rows = a.data.length / n;
  const data: number[] = [];
  for (let r = 0; r < rows; r++) data.push(a.data.slice(r * n, r * n + n).reduce((x, y) => x + y, 0) / n);
  return { dims: [...a.dims.slice(0, -1), 1], data };
}

/** Gather along axis 0. */
export function gather0(a: Nd, ids: Nd): Nd {
  const row = size(a.dims.slice(1));
  const data: number[] = [];
  for (const id of ids.data) data.push(...a.data.slice(id * row, id * row + row));
  return { dims: [...ids.dims, ...a.dims.slice(1)], data };
}

export const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** Largest |a - b| over two tensors of the same shape (Infinity when shapes differ). */
export function maxAbsDiff(a: Nd, b: Nd): number {
  if (a.dims.join(',') !== b.dims.join(',') || a.data.length !== b.data.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.data.length; i++) {
    const d = Math.abs(a.data[i] - b.data[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}
