/**
 * Vector-Jacobian products of the ops with a gradient (opset 17, default domain); the table
 * that assigns them to ops is gradient-table.ts. A rule receives the gradients of the node's
 * outputs (null for an output the loss does not depend on) and returns one gradient per input
 * (null where not needed or not differentiable). Every returned gradient has exactly the shape
 * and dtype of its input; broadcast operands are reduced with `Emitter.reduceTo`.
 */
import { attr, type GraphNode } from '../onnx/graph';
import type { Emitter } from './emit';
import { ONNX_DTYPE as ONNX_CODE } from '../onnx/dtypes';
import { clampSlice, intsNum, isNum } from './dims';
import { floatAttr, intAttr, intsAttr } from './node-attrs';

export interface RuleCtx {
  e: Emitter;
  node: GraphNode;
  /** Gradient of each output, or null. */
  dy: (string | null)[];
  /** Whether the gradient of input i is wanted. */
  needs(i: number): boolean;
}

export type Rule = (c: RuleCtx) => (string | null)[];

/** Constant int values of a value, or null when not known statically. */
function constInts(e: Emitter, v: string | undefined): number[] | null {
  return v ? intsNum(e.metaOf(v)) : null;
}

/** A rule's refusal for a case it does not handle. */
export function ruleFails(n: GraphNode, why: string): never {
  throw new Error(`autodiff: ${n.opType} (node ${n.name}): ${why}`);
}

export const unary = (f: (c: RuleCtx, dy: string, x: string, y: string) => string): Rule => (c) => [f(c, c.dy[0]!, c.node.inputs[0], c.node.outputs[0])];

/** Gradient of a broadcasting binary op: dA = reduce(fa()), dB = reduce(fb()). */
export function binary(c: RuleCtx, fa: (() => string) | null, fb: (() => string) | null): (string | null)[] {
  const [a, b] = c.node.inputs;
  return [c.needs(0) && fa ? c.e.reduceTo(fa(), a) : null, c.needs(1) && fb ? c.e.reduceTo(fb(), b) : null];
}

/** Unsqueeze a reduced gradient back to keepdims form. */
function keepDims(c: RuleCtx, dy: string, axes: number[] | string | null, keep: boolean): string {
  if (keep || axes === null) return dy; // all axes with keepdims=0 gives a scalar, which broadcasts
  return c.e.op('Unsqueeze', [dy, typeof axes === 'string' ? axes : c.e.i64(axes)]);
}

/** Axes of a Reduce* node: number[] (static), string (runtime tensor) or null (all axes); 'noop' for identity. */
function reduceAxes(c: RuleCtx): number[] | string | null | 'noop' {
  const n = c.node;
  let axes: number[] | string | null;
  if (n.opType === 'ReduceSum' && n.inputs.length > 1 && n.inputs[1]) {
    axes = constInts(c.e, n.inputs[1]) ?? n.inputs[1];
  } else {
    axes = intsAttr(n, 'axes');
  }
  if (axes !== null && typeof axes !== 'string' && axes.length === 0) axes = null;
  if (axes === null && intAttr(n, 'noop_with_empty_axes', 0) === 1) return 'noop';
  return axes;
}

export function gemmRule(c: RuleCtx): (string | null)[] {
  const { e, node: n } = c;
  const dy = c.dy[0]!;
  const [A, B, C] = n.inputs;
  const tA = intAttr(n, 'transA', 0);
  const tB = intAttr(n, 'transB', 0);
  const alpha = floatAttr(n, 'alpha', 1);
  const beta = floatAttr(n, 'beta', 1);
  const gemm = (x: string, y: string, ta: number, tb: number) => {
    const at: Record<string, ReturnType<typeof attr.int>> = {};
    if (ta) at.transA = attr.int(1);
    if (tb) at.transB = attr.int(1);
    if (alpha !== 1) at.alpha = attr.float(alpha);
    return e.op('Gemm', [x, y], at);
  };
  let dA: string | null = null;
  let dB: string | null = null;
  if (c.needs(0)) {
    if (!tA && !tB) dA = gemm(dy, B, 0, 1);
    else if (!tA && tB) dA = gemm(dy, B, 0, 0);
    else if (tA && !tB) dA = gemm(B, dy, 0, 1);
    else dA = gemm(B, dy, 1, 1);
  }
  if (c.needs(1)) {
    if (!tA && !tB) dB = gemm(A, dy, 1, 0);
    else if (!tA && tB) dB = gemm(dy, A, 1, 0);
    else if (tA && !tB) dB = gemm(A, dy, 0, 0);
    else dB = gemm(dy, A, 1, 1);
  }
  let dC: string | null = null;
  if (C && c.needs(2)) {
    dC = e.reduceTo(dy, C);
    if (beta !== 1) dC = e.op('Mul', [dC, e.scalarLike(beta, C)]);
  }
  return [dA, dB, dC];
}

export function matmulRule(c: RuleCtx): (string | null)[] {
  const { e, node: n } = c;
  const [A, B] = n.inputs;
  const ra = e.requireRank(A, 'MatMul backward');
  const rb = e.requireRank(B, 'MatMul backward');
  let dy = c.dy[0]!;
  const A2 = ra === 1 ? e.op('Unsqueeze', [A, e.i64([0])]) : A;
  const B2 = rb === 1 ? e.op('Unsqueeze', [B, e.i64([-1])]) : B;
  if (ra === 1 && rb === 1) dy = e.op('Unsqueeze', [dy, e.i64([0, 1])]);
  else if (ra === 1) dy = e.op('Unsqueeze', [dy, e.i64([-2])]);
  else if (rb === 1) dy = e.op('Unsqueeze', [dy, e.i64([-1])]);
  let dA: string | null = null;
  let dB: string | null = null;
  if (c.needs(0)) {
    dA = e.reduceTo(e.op('MatMul', [dy, e.transposeLast2(B2)]), A2);
    if (ra === 1) dA = e.op('Reshape', [dA, e.shapeOf(A)]);
  }
  if (c.needs(1)) {
    dB = e.reduceTo(e.op('MatMul', [e.transposeLast2(A2), dy]), B2);
    if (rb === 1) dB = e.op('Reshape', [dB, e.shapeOf(B)]);
  }
  return [dA, dB];
}

export function reduceRule(c: RuleCtx): (string | null)[] {
  const { e, node: n } = c;
  const x = n.inputs[0];
  const y = n.outputs[0];
  const dy = c.dy[0]!;
  const axes = reduceAxes(c);
  if (axes === 'noop') return [dy];
  const keep = intAttr(n, 'keepdims', 1) === 1;
  const dyk = keepDims(c, dy, axes, keep);
  switch (n.opType) {
    case 'ReduceSum':
      return [e.op('Expand', [dyk, e.shapeOf(x)])];
    case 'ReduceMean': {
      // 1 / (number of reduced elements): static when the reduced dims are known numbers.
      let scale: string;
      const xs = e.metaOf(x).shape;
      const r = xs?.length;
      const ax = axes === null ? (xs ? xs.map((_, i) => i) : null) : typeof axes === 'string' ? null : axes.map((a) => (r !== undefined && a < 0 ? a + r : a));
      const dims = ax && xs ? ax.map((a) => xs[a]) : null;
      if (dims && dims.every((d) => isNum(d))) {
        scale = e.scalarLike(1 / dims.reduce((p, d) => p * d!.c, 1), x);
      } else {
        const dt = ONNX_CODE[e.dtypeOf(x)];
        const sizeY = e.op('Cast', [e.op('Size', [y])], { to: attr.int(dt) });
        const sizeX = e.op('Cast', [e.op('Size', [x])], { to: attr.int(dt) });
        scale = e.op('Div', [sizeY, sizeX]);
      }
      return [e.op('Expand', [e.op('Mul', [dyk, scale]), e.shapeOf(x)])];
    }
    case 'ReduceMax':
    case 'ReduceMin': {
      // Split the gradient evenly between tied extrema.
      const yk = keepDims(c, y, axes, keep);
      const mask = e.op('Cast', [e.op('Equal', [x, yk])], { to: attr.int(ONNX_CODE[e.dtypeOf(x)]) });
      const cntAttrs: Record<string, ReturnType<typeof attr.int>> = { keepdims: attr.int(1) };
      const cnt = axes === null ? e.op('ReduceSum', [mask], cntAttrs) : e.op('ReduceSum', [mask, typeof axes === 'string' ? axes : e.i64(axes)], cntAttrs);
      return [e.op('Div', [e.op('Mul', [mask, dyk]), cnt])];
    }
    default:
      return ruleFails(n, 'no reduction rule');
  }
}

export function concatRule(c: RuleCtx): (string | null)[] {
  const { e, node: n } = c;
  const dy = c.dy[0]!;
  if (n.inputs.length === 1) return [dy];
  const r = e.requireRank(n.inputs[0], 'Concat backward');
  let axis = intAttr(n, 'axis', 0);
  if (axis < 0) axis += r;
  const staticSizes = n.inputs.map((x) => {
    const d = e.metaOf(x).shape?.[axis];
    return isNum(d) ? d.c : null;
  });
  let split: string;
  if (staticSizes.every((s) => s !== null)) split = e.i64(staticSizes as number[]);
  else {
    split = e.op(
      'Concat',
      n.inputs.map((x, k) => (staticSizes[k] !== null ? e.i64([staticSizes[k]!]) : e.op('Slice', [e.shapeOf(x), e.i64([axis]), e.i64([axis + 1])]))),
      { axis: attr.int(0) },
    );
  }
  const parts = e.node('Split', [dy, split], { axis: attr.int(axis) }, n.inputs.length);
  return parts.map((p, i) => (c.needs(i) ? p : null));
}

export function splitRule(c: RuleCtx): (string | null)[] {
  const { e, node: n } = c;
  const parts = n.outputs.map((o, i) => c.dy[i] ?? e.zerosLike(o));
  return [e.op('Concat', parts, { axis: attr.int(intAttr(n, 'axis', 0)) })];
}

export function sliceRule(c: RuleCtx): (string | null)[] {
  const { e, node: n } = c;
  const x = n.inputs[0];
  const dy = c.dy[0]!;
  const r = e.requireRank(x, 'Slice backward');
  const starts = constInts(e, n.inputs[1]);
  const ends = constInts(e, n.inputs[2]);
  if (!starts || !ends) ruleFails(n, 'starts/ends must be constants');
  const axes0 = n.inputs[3] ? constInts(e, n.inputs[3]) : starts.map((_, i) => i);
  const steps = n.inputs[4] ? constInts(e, n.inputs[4]) : starts.map(() => 1);
  if (!axes0 || !steps) ruleFails(n, 'axes/steps must be constants');
  if (steps.some((s) => s !== 1)) ruleFails(n, 'only step 1 is supported');
  const axes = axes0.map((a) => (a < 0 ? a + r : a));
  const xs = e.metaOf(x).shape;
  const dims = axes.map((a) => xs?.[a] ?? null);
  let pads: string;
  if (dims.every((d) => isNum(d))) {
    const p = new Array<number>(2 * r).fill(0);
    axes.forEach((a, k) => {
      const d = (dims[k] as { c: number }).c;
      const [s, en] = clampSlice(starts[k], ends[k], 1, d);
      p[a] = s;
      p[a + r] = d - Math.max(en, s);
    });
    pads = e.i64(p);
  } else {
    // Runtime: normalize negative starts/ends by the dims, clamp to [0, dim], pad the rest.
    const d = e.op('Gather', [e.shapeOf(x), e.i64(axes)], { axis: attr.int(0) });
    const norm = (vals: number[]) => {
      const raw = e.op('Add', [e.op('Mul', [d, e.i64(vals.map((v) => (v < 0 ? 1 : 0)))]), e.i64(vals)]);
      return e.op('Min', [e.op('Max', [raw, e.i64([0])]), d]);
    };
    const s = norm(starts);
    const en = e.op('Max', [norm(ends), s]);
    const both = e.op('Concat', [s, e.op('Sub', [d, en])], { axis: attr.int(0) });
    pads = e.op('ScatterElements', [e.i64(new Array(2 * r).fill(0)), e.i64([...axes, ...axes.map((a) => a + r)]), both], { axis: attr.int(0) });
  }
  return [e.op('Pad', [dy, pads])];
}

export function gatherRule(c: RuleCtx): (string | null)[] {
  const { e, node: n } = c;
  const [data, indices0] = n.inputs;
  const dy = c.dy[0]!;
  const rd = e.rankOf(data);
  let axis = intAttr(n, 'axis', 0);
  if (axis < 0) {
    if (rd === null) ruleFails(n, 'negative axis with unknown rank');
    axis += rd;
  }
  if (axis !== 0) ruleFails(n, 'only axis 0 is supported');
  const indices = e.dtypeOf(indices0) === 'int64' ? indices0 : e.op('Cast', [indices0], { to: attr.int(ONNX_CODE.int64) });
  if (e.opts.gatherGrad === 'onehot') {
    const ri = e.requireRank(indices, 'Gather backward (one-hot)');
    const dt = ONNX_CODE[e.dtypeOf(data)];
    const vocab = e.op('Squeeze', [e.op('Slice', [e.shapeOf(data), e.i64([0]), e.i64([1])]), e.i64([0])]);
    const range = e.op('Range', [e.i64([0], []), vocab, e.i64([1], [])]);
    const onehot = e.op('Cast', [e.op('Equal', [e.op('Reshape', [indices, e.i64([-1, 1])]), range])], { to: attr.int(dt) }); // [M, V]
    const flat = e.op('Flatten', [dy], { axis: attr.int(ri) }); // [M, rest]
    const g = e.op('Gemm', [onehot, flat], { transA: attr.int(1) }); // [V, rest]
    return [e.op('Reshape', [g, e.shapeOf(data)])];
  }
  const idx = e.op('Unsqueeze', [indices, e.i64([-1])]);
  return [e.op('ScatterND', [e.zerosLike(data), idx, dy], { reduction: attr.string('add') })];
}

export function scatterAdd(c: RuleCtx, data: string, indices: string, upd: string, axis: number): string {
  const { e } = c;
  const idx = e.dtypeOf(indices) === 'int64' ? indices : e.op('Cast', [indices], { to: attr.int(ONNX_CODE.int64) });
  return e.op('ScatterElements', [e.zerosLike(data), idx, upd], { axis: attr.int(axis), reduction: attr.string('add') });
}

export function selectRule(c: RuleCtx, cond: string, a: string | null, b: string | null, ia: number, ib: number): (string | null)[] {
  const { e } = c;
  const dy = c.dy[0]!;
  const zero = e.scalarLike(0, dy);
  const out: (string | null)[] = [];
  out[ia] = a && c.needs(ia) ? e.reduceTo(e.op('Where', [cond, dy, zero]), a) : null;
  out[ib] = b && c.needs(ib) ? e.reduceTo(e.op('Where', [cond, zero, dy]), b) : null;
  return out;
}

export function minMax(c: RuleCtx, cmp: 'GreaterOrEqual' | 'LessOrEqual'): (string | null)[] {
  const ins = c.node.inputs;
  if (ins.length === 1) return [c.dy[0]];
  if (ins.length !== 2) ruleFails(c.node, 'only one or two inputs are supported');
  // Ties go to the first input.
  const sel = c.e.op(cmp, [ins[0], ins[1]]);
  return selectRule(c, sel, ins[0], ins[1], 0, 1);
}

export function divRule(c: RuleCtx): (string | null)[] {
  const [a, b] = c.node.inputs;
  const y = c.node.outputs[0];
  const dy = c.dy[0]!;
  return [
    c.needs(0) ? c.e.reduceTo(c.e.op('Div', [dy, b]), a) : null,
    c.needs(1) ? c.e.op('Neg', [c.e.reduceTo(c.e.op('Div', [c.e.op('Mul', [dy, y]), b]), b)]) : null,
  ];
}

export function powRule(c: RuleCtx): (string | null)[] {
  const { e } = c;
  const [a, b] = c.node.inputs;
  const y = c.node.outputs[0];
  const dy = c.dy[0]!;
  const bConst = (() => {
    const init = e.g.initializers.find((i) => i.name === b);
    if (!init || init.tensor.data.length !== 1 || init.tensor.dtype !== 'float32') return null;
    return (init.tensor.data as Float32Array)[0];
  })();
  const fa = () => {
    if (bConst === 1) return dy;
    if (bConst === 2) return e.op('Mul', [e.op('Mul', [dy, a]), e.scalarLike(2, dy)]);
    if (bConst === 0.5) return e.op('Div', [e.op('Mul', [dy, e.scalarLike(0.5, dy)]), y]);
    const bm1 = e.op('Sub', [b, e.scalarLike(1, b)]);
    return e.op('Mul', [dy, e.op('Mul', [b, e.op('Pow', [a, bm1])])]);
  };
  return binary(c, fa, () => e.op('Mul', [e.op('Mul', [dy, y]), e.op('Log', [a])]));
}

export function softmaxRule(c: RuleCtx): (string | null)[] {
  const { e } = c;
  const dy = c.dy[0]!;
  const y = c.node.outputs[0];
  const axis = e.i64([intAttr(c.node, 'axis', -1)]);
  const dot = e.op('ReduceSum', [e.op('Mul', [dy, y]), axis], { keepdims: attr.int(1) });
  return [e.op('Mul', [y, e.op('Sub', [dy, dot])])];
}

export function logSoftmaxRule(c: RuleCtx): (string | null)[] {
  const { e } = c;
  const dy = c.dy[0]!;
  const y = c.node.outputs[0];
  const axis = e.i64([intAttr(c.node, 'axis', -1)]);
  const total = e.op('ReduceSum', [dy, axis], { keepdims: attr.int(1) });
  return [e.op('Sub', [dy, e.op('Mul', [e.op('Exp', [y]), total])])];
}

export function transposeRule(c: RuleCtx): (string | null)[] {
  const r = c.e.requireRank(c.node.inputs[0], 'Transpose backward');
  const perm = intsAttr(c.node, 'perm') ?? Array.from({ length: r }, (_, i) => r - 1 - i);
  const inv = new Array<number>(r);
  perm.forEach((p, i) => (inv[p] = i));
  return [c.e.op('Transpose', [c.dy[0]!], { perm: attr.ints(inv) })];
}

export function whereRule(c: RuleCtx): (string | null)[] {
  const [cond, a, b] = c.node.inputs;
  const out = selectRule(c, cond, a, b, 1, 2);
  out[0] = null;
  return out;
}

export function clipRule(c: RuleCtx): (string | null)[] {
  const { e, node: n } = c;
  const [x, lo, hi] = n.inputs;
  if ((lo && c.needs(1)) || (hi && c.needs(2))) ruleFails(n, 'gradient w.r.t. the clip bounds is not supported');
  let keep: string | null = null;
  if (lo) keep = e.op('GreaterOrEqual', [x, lo]);
  if (hi) {
    const le = e.op('LessOrEqual', [x, hi]);
    keep = keep ? e.op('And', [keep, le]) : le;
  }
  if (!keep) return [c.dy[0]];
  return [e.op('Where', [keep, c.dy[0]!, e.scalarLike(0, c.dy[0]!)])];
}
