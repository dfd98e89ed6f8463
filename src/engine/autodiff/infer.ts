/**
 * Best-effort static shape and dtype inference over the graph IR, used by autodiff to decide
 * which broadcast axes a gradient must be summed over without running anything.
 *
 * A dimension is a monomial `c * s1 * s2 ...` over the symbolic names of the graph inputs
 * ("batch", "seq"), so that Reshape(x [batch, seq, D], [-1, D]) gives `batch*seq` and a later
 * Reshape(v [batch*seq, H*hd], [-1, H, hd]) gives `batch*seq` again: two values built from the
 * same inputs get provably equal dims. `null` means unknown (a dim) or unknown rank (a shape).
 * The same symbol always means the same size (the usual ONNX convention for graph inputs).
 *
 * Small 1-D/0-D int64 tensors additionally carry their element values (`ints`) when they can be
 * followed statically: constants, Shape(x), and Concat/Gather/Slice/Unsqueeze/Squeeze of those.
 * That is what lets Reshape targets computed from Shape() be understood.
 */
import type { Attr, DType, Graph, GraphNode } from '../onnx/graph';
import { dtypeFromOnnx } from '../onnx/dtypes';

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

const INT_LIMIT = 2 ** 62;

function attrInt(n: GraphNode, key: string, dflt: number): number {
  const a = n.attrs[key];
  return a && a.kind === 'int' ? a.value : dflt;
}
function attrInts(n: GraphNode, key: string): number[] | null {
  const a: Attr | undefined = n.attrs[key];
  return a && a.kind === 'ints' ? a.value : null;
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

function normAxis(a: number, r: number): number {
  return a < 0 ? a + r : a;
}

/** Static integer value of a dim/int element, or null. */
function asNum(d: SDim): number | null {
  return isNum(d) ? d.c : null;
}

/** Values of an int tensor as plain numbers when all are known. */
function intsNum(m: ValueMeta | undefined): number[] | null {
  if (!m || !m.ints) return null;
  const out: number[] = [];
  for (const d of m.ints) {
    const v = asNum(d);
    if (v === null) return null;
    out.push(v);
  }
  return out;
}

/** A mono that may be negative: ints of constants are stored as numbers including negatives. */
function intConst(v: number): Mono {
  return { c: v, s: [] };
}

const UNARY_SAME = new Set([
  'Neg', 'Sqrt', 'Exp', 'Log', 'Sigmoid', 'Tanh', 'Relu', 'Abs', 'Reciprocal', 'Softmax', 'LogSoftmax',
  'Identity', 'Erf', 'Softplus', 'Sin', 'Cos', 'Floor', 'Ceil', 'Round', 'Sign', 'Clip', 'LeakyRelu', 'Elu',
  'Gelu', 'HardSigmoid', 'Dropout',
]);
const BINARY = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'PRelu', 'Mod']);
const COMPARE = new Set(['Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'And', 'Or', 'Xor']);
const REDUCE = new Set(['ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL2', 'ReduceL1', 'ReduceLogSumExp', 'ReduceSumSquare']);

/**
 * Infer output metadata of one node. `get` returns what is known of an input (undefined for
 * an absent optional input, named '').
 */
export function inferNode(n: GraphNode, get: (name: string) => ValueMeta | undefined): ValueMeta[] {
  const ins = n.inputs.map((i) => (i ? get(i) : undefined));
  const x = ins[0];
  const unknown = (dtype: DType | null = x?.dtype ?? null): ValueMeta => ({ dtype, shape: null });
  const outCount = n.outputs.length;
  const op = n.opType;
  if (n.domain && n.domain !== 'ai.onnx') return n.outputs.map(() => unknown(null));

  if (UNARY_SAME.has(op)) {
    const r: ValueMeta[] = [{ dtype: x?.dtype ?? null, shape: x?.shape ?? null, ints: op === 'Identity' ? x?.ints : undefined }];
    while (r.length < outCount) r.push({ dtype: 'bool', shape: x?.shape ?? null });
    return r;
  }
  if (BINARY.has(op)) {
    const shape = broadcastShapes(ins.map((m) => m?.shape ?? null));
    let ints: SDim[] | null = null;
    // Follow simple int arithmetic on known shape values (e.g. Sub(seqLen, 1)).
    if ((op === 'Add' || op === 'Sub' || op === 'Mul') && ins.length === 2) {
      const a = intsNum(ins[0]);
      const b = intsNum(ins[1]);
      if (a && b && (a.length === b.length || a.length === 1 || b.length === 1) && shape && shape.length <= 1) {
        const len = Math.max(a.length, b.length);
        ints = Array.from({ length: len }, (_, i) => {
          const u = a[a.length === 1 ? 0 : i];
          const v = b[b.length === 1 ? 0 : i];
          return intConst(op === 'Add' ? u + v : op === 'Sub' ? u - v : u * v);
        });
      }
    }
    return [{ dtype: x?.dtype ?? null, shape, ints }];
  }
  if (COMPARE.has(op)) return [{ dtype: 'bool', shape: broadcastShapes(ins.map((m) => m?.shape ?? null)) }];
  if (op === 'Not') return [{ dtype: 'bool', shape: x?.shape ?? null }];
  if (op === 'Where') return [{ dtype: ins[1]?.dtype ?? null, shape: broadcastShapes(ins.map((m) => m?.shape ?? null)) }];
  if (op === 'Cast') {
    const to = dtypeFromOnnx(attrInt(n, 'to', 1));
    return [{ dtype: to, shape: x?.shape ?? null, ints: to === 'int64' || to === 'int32' ? x?.ints : undefined }];
  }
  if (op === 'Shape') {
    if (!x?.shape) return [{ dtype: 'int64', shape: [null] }];
    const r = x.shape.length;
    let start = normAxis(attrInt(n, 'start', 0), r);
    let end = n.attrs.end ? normAxis(attrInt(n, 'end', r), r) : r;
    start = Math.min(Math.max(start, 0), r);
    end = Math.min(Math.max(end, 0), r);
    const dims = x.shape.slice(start, Math.max(start, end));
    return [{ dtype: 'int64', shape: [num(dims.length)], ints: dims }];
  }
  if (op === 'Size') return [{ dtype: 'int64', shape: [], ints: [x?.shape ? monoProd(x.shape) : null] }];
  if (op === 'ConstantOfShape') {
    const v = n.attrs.value;
    const dtype = v && v.kind === 'tensor' ? v.value.dtype : 'float32';
    const dims = x?.ints ?? null;
    return [{ dtype, shape: dims }];
  }
  if (op === 'Constant') {
    const v = n.attrs.value;
    if (v && v.kind === 'tensor') return [metaOfConst(v.value.dtype, v.value.dims, v.value.data)];
    return [unknown(null)];
  }
  if (op === 'Gemm') {
    const a = ins[0]?.shape;
    const b = ins[1]?.shape;
    const m = a && a.length === 2 ? a[attrInt(n, 'transA', 0) ? 1 : 0] : null;
    const nn = b && b.length === 2 ? b[attrInt(n, 'transB', 0) ? 0 : 1] : null;
    return [{ dtype: x?.dtype ?? null, shape: [m, nn] }];
  }
  if (op === 'MatMul') {
    const a = ins[0]?.shape;
    const b = ins[1]?.shape;
    if (!a || !b) return [unknown()];
    const a2 = a.length === 1 ? [num(1), a[0]] : a;
    const b2 = b.length === 1 ? [b[0], num(1)] : b;
    const batch = broadcastShapes([a2.slice(0, -2), b2.slice(0, -2)]);
    if (!batch) return [unknown()];
    const shape = [...batch];
    if (a.length > 1) shape.push(a2[a2.length - 2]);
    if (b.length > 1) shape.push(b2[b2.length - 1]);
    return [{ dtype: x?.dtype ?? null, shape }];
  }
  if (REDUCE.has(op)) {
    if (!x?.shape) return [unknown()];
    const r = x.shape.length;
    const keep = attrInt(n, 'keepdims', 1) === 1;
    let axes: number[] | null;
    if (n.inputs.length > 1 && n.inputs[1]) axes = intsNum(ins[1]);
    else axes = attrInts(n, 'axes') ?? [];
    if (axes === null) return [unknown()];
    if (axes.length === 0) {
      if (attrInt(n, 'noop_with_empty_axes', 0) === 1) return [{ dtype: x.dtype, shape: x.shape }];
      axes = x.shape.map((_, i) => i);
    }
    const set = new Set(axes.map((a) => normAxis(a, r)));
    const shape: SDim[] = [];
    x.shape.forEach((d, i) => {
      if (!set.has(i)) shape.push(d);
      else if (keep) shape.push(num(1));
    });
    return [{ dtype: x.dtype, shape }];
  }
  if (op === 'ArgMax' || op === 'ArgMin') {
    if (!x?.shape) return [unknown('int64')];
    const r = x.shape.length;
    const ax = normAxis(attrInt(n, 'axis', 0), r);
    const keep = attrInt(n, 'keepdims', 1) === 1;
    const shape = x.shape.flatMap((d, i) => (i === ax ? (keep ? [num(1)] : []) : [d]));
    return [{ dtype: 'int64', shape }];
  }
  if (op === 'Reshape') {
    const target = ins[1]?.ints ?? null;
    if (!target) {
      const len = ins[1]?.shape?.[0];
      return [{ dtype: x?.dtype ?? null, shape: isNum(len) ? Array.from({ length: len.c }, () => null) : null }];
    }
    const allowZero = attrInt(n, 'allowzero', 0) === 1;
    const dims: SDim[] = target.map((d, i) => {
      if (isNum(d, 0) && !allowZero) return x?.shape && i < x.shape.length ? x.shape[i] : null;
      if (isNum(d, -1)) return null;
      return d;
    });
    const neg = target.findIndex((d) => isNum(d, -1));
    if (neg >= 0) {
      const total = x?.shape ? monoProd(x.shape) : null;
      const rest = monoProd(dims.filter((_, i) => i !== neg));
      dims[neg] = monoDiv(total, rest);
    }
    return [{ dtype: x?.dtype ?? null, shape: dims, ints: x?.ints && dims.length <= 1 ? x.ints : undefined }];
  }
  if (op === 'Flatten') {
    if (!x?.shape) return [unknown()];
    const ax = normAxis(attrInt(n, 'axis', 1), x.shape.length);
    return [{ dtype: x.dtype, shape: [monoProd(x.shape.slice(0, ax)), monoProd(x.shape.slice(ax))] }];
  }
  if (op === 'Transpose') {
    if (!x?.shape) return [unknown()];
    const perm = attrInts(n, 'perm') ?? x.shape.map((_, i) => x.shape!.length - 1 - i);
    return [{ dtype: x.dtype, shape: perm.map((p) => x.shape![p]) }];
  }
  if (op === 'Unsqueeze') {
    const axes = intsNum(ins[1]);
    if (!x?.shape || !axes) return [unknown()];
    const r = x.shape.length + axes.length;
    const set = new Set(axes.map((a) => normAxis(a, r)));
    const shape: SDim[] = [];
    let j = 0;
    for (let i = 0; i < r; i++) shape.push(set.has(i) ? num(1) : x.shape[j++]);
    const ints = x.ints && x.shape.length === 0 && r === 1 ? x.ints : undefined;
    return [{ dtype: x.dtype, shape, ints }];
  }
  if (op === 'Squeeze') {
    if (!x?.shape) return [unknown()];
    const r = x.shape.length;
    let axes: number[] | null;
    if (n.inputs.length > 1 && n.inputs[1]) axes = intsNum(ins[1]);
    else {
      if (x.shape.some((d) => d === null || !isNum(d))) return [unknown()];
      axes = x.shape.flatMap((d, i) => (isNum(d, 1) ? [i] : []));
    }
    if (!axes) return [unknown()];
    const set = new Set(axes.map((a) => normAxis(a, r)));
    const shape = x.shape.filter((_, i) => !set.has(i));
    const ints = x.ints && shape.length === 0 ? x.ints : undefined;
    return [{ dtype: x.dtype, shape, ints }];
  }
  if (op === 'Concat') {
    if (ins.some((m) => !m?.shape)) return [unknown()];
    const shapes = ins.map((m) => m!.shape!);
    const r = shapes[0].length;
    const ax = normAxis(attrInt(n, 'axis', 0), r);
    const shape = shapes[0].map((d, i) => {
      if (i === ax) return shapes.reduce<SDim>((acc, s) => monoAdd(acc, s[i]), num(0));
      const all = shapes.map((s) => s[i]);
      return all.find((v) => v !== null) ?? null;
    });
    let ints: SDim[] | null = null;
    if (r === 1 && ins.every((m) => m!.ints)) ints = ins.flatMap((m) => m!.ints!);
    return [{ dtype: x?.dtype ?? null, shape, ints }];
  }
  if (op === 'Split') {
    if (!x?.shape) return n.outputs.map(() => unknown());
    const r = x.shape.length;
    const ax = normAxis(attrInt(n, 'axis', 0), r);
    const split = n.inputs[1] ? intsNum(ins[1]) : null;
    return n.outputs.map((_, k) => {
      const shape = [...x.shape!];
      if (split) shape[ax] = num(split[k]);
      else {
        const d = x.shape![ax];
        shape[ax] = isNum(d) && d.c % outCount === 0 ? num(d.c / outCount) : null;
      }
      return { dtype: x.dtype, shape };
    });
  }
  if (op === 'Slice') {
    if (!x?.shape) return [unknown()];
    const r = x.shape.length;
    const starts = intsNum(ins[1]);
    const ends = intsNum(ins[2]);
    const axes = n.inputs[3] ? intsNum(ins[3]) : starts ? starts.map((_, i) => i) : null;
    const steps = n.inputs[4] ? intsNum(ins[4]) : starts ? starts.map(() => 1) : null;
    if (!starts || !ends || !axes || !steps) return [{ dtype: x.dtype, shape: x.shape.map(() => null) }];
    const shape = [...x.shape];
    const srcInts = x.ints && r === 1 ? x.ints : null;
    let ints: SDim[] | null = null;
    for (let k = 0; k < axes.length; k++) {
      const ax = normAxis(axes[k], r);
      const d = x.shape[ax];
      const st = steps[k];
      if (isNum(d)) {
        const [s, e] = clampSlice(starts[k], ends[k], st, d.c);
        const len = st > 0 ? Math.max(0, Math.ceil((e - s) / st)) : Math.max(0, Math.ceil((s - e) / -st));
        shape[ax] = num(len);
        if (srcInts && st === 1) ints = srcInts.slice(s, Math.max(s, e));
      } else if (st === 1 && starts[k] === 0 && ends[k] >= INT_LIMIT) {
        shape[ax] = d;
      } else shape[ax] = null; // depends on the runtime size of a symbolic dim
    }
    return [{ dtype: x.dtype, shape, ints }];
  }
  if (op === 'Gather') {
    const data = x?.shape;
    const idx = ins[1]?.shape;
    if (!data || !idx) return [unknown()];
    const ax = normAxis(attrInt(n, 'axis', 0), data.length);
    let ints: SDim[] | null = null;
    const iv = intsNum(ins[1]);
    if (x?.ints && data.length === 1 && iv) ints = iv.map((i) => x.ints![i < 0 ? i + x.ints!.length : i] ?? null);
    return [{ dtype: x?.dtype ?? null, shape: [...data.slice(0, ax), ...idx, ...data.slice(ax + 1)], ints }];
  }
  if (op === 'GatherElements') return [{ dtype: x?.dtype ?? null, shape: ins[1]?.shape ?? null }];
  if (op === 'ScatterND' || op === 'ScatterElements') return [{ dtype: x?.dtype ?? null, shape: x?.shape ?? null }];
  if (op === 'Pad') {
    const pads = intsNum(ins[1]);
    if (!x?.shape) return [unknown()];
    if (!pads) return [{ dtype: x.dtype, shape: x.shape.map(() => null) }];
    const r = x.shape.length;
    return [{ dtype: x.dtype, shape: x.shape.map((d, i) => monoAdd(d, num(pads[i] + pads[i + r]))) }];
  }
  if (op === 'Expand') {
    const target = ins[1]?.ints;
    return [{ dtype: x?.dtype ?? null, shape: target ? broadcastShapes([x?.shape ?? null, target]) : null }];
  }
  if (op === 'TopK') {
    if (!x?.shape) return [unknown(), unknown('int64')];
    const ax = normAxis(attrInt(n, 'axis', -1), x.shape.length);
    const k = ins[1]?.ints?.[0] ?? null;
    const shape = x.shape.map((d, i) => (i === ax ? k : d));
    return [{ dtype: x.dtype, shape }, { dtype: 'int64', shape }];
  }
  if (op === 'NonZero') return [{ dtype: 'int64', shape: x?.shape ? [num(x.shape.length), null] : [null, null] }];
  if (op === 'Range') return [{ dtype: x?.dtype ?? null, shape: [null] }];
  if (op === 'OneHot') return [{ dtype: ins[2]?.dtype ?? null, shape: null }];
  if (op === 'Tile') return [{ dtype: x?.dtype ?? null, shape: x?.shape ? x.shape.map(() => null) : null }];
  return n.outputs.map(() => unknown());
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

/** Metadata of every value of a graph (inputs, initializers, node outputs in order). */
export function inferGraph(g: Graph, canon: (symbol: string) => string = (s) => s): Map<string, ValueMeta> {
  const meta = new Map<string, ValueMeta>();
  for (const i of g.initializers) meta.set(i.name, metaOfConst(i.tensor.dtype, i.tensor.dims, i.tensor.data as ArrayLike<number | bigint>));
  for (const i of g.inputs) meta.set(i.name, { dtype: i.dtype, shape: i.shape.map((d) => (typeof d === 'number' ? (d >= 0 ? num(d) : null) : d ? sym(canon(d)) : null)) });
  for (const n of g.nodes) {
    const outs = inferNode(n, (name) => meta.get(name));
    n.outputs.forEach((o, k) => {
      if (o) meta.set(o, outs[k] ?? { dtype: null, shape: null });
    });
  }
  return meta;
}
