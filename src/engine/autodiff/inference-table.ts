/**
 * Static shape/dtype inference, one entry per op of the IR (`OpType`): a missing entry does not
 * compile. An entry gets what is known of the node's inputs and returns one ValueMeta per
 * output; it answers `unknown` (shape null) rather than guess. The entries of the shape and
 * layout ops are in layout-inference.ts; the group helpers for elementwise, comparison and
 * reduction ops are here.
 */
import type { OpType } from '../onnx/ops';
import { dtypeFromOnnx } from '../onnx/dtypes';
import { broadcastShapes, intConst, intsNum, metaOfConst, monoProd, num, sym, type SDim, type ValueMeta } from './dims';
import { unknown, type Infer, type InferCtx } from './infer-context';
import { concat, gather, pad, reshape, shapeOp, slice, split, squeeze, unsqueeze } from './layout-inference';
import { intAttr, intsAttr, normAxis } from './node-attrs';

/** Every output unknown, with the first input's dtype. */
const unknownOutputs: Infer = (c) => c.node.outputs.map(() => unknown(c));

/** Same dtype and shape as the input; any further output (Dropout's mask) is boolean. */
const elementwise: Infer = (c) => {
  const r: ValueMeta[] = [{ dtype: c.x?.dtype ?? null, shape: c.x?.shape ?? null, ints: undefined }];
  while (r.length < c.node.outputs.length) r.push({ dtype: 'bool', shape: c.x?.shape ?? null });
  return r;
};

/** Boolean result with the input's shape. */
const predicate: Infer = (c) => [{ dtype: 'bool', shape: c.x?.shape ?? null }];

const broadcastAll = (c: InferCtx) => broadcastShapes(c.ins.map((m) => m?.shape ?? null));

/** Broadcasting arithmetic; Add/Sub/Mul of two known int vectors also follow their values. */
const arithmetic: Infer = (c) => {
  const op = c.node.opType;
  const shape = broadcastAll(c);
  let ints: SDim[] | null = null;
  // Follow simple int arithmetic on known shape values (e.g. Sub(seqLen, 1)).
  if ((op === 'Add' || op === 'Sub' || op === 'Mul') && c.ins.length === 2) {
    const a = intsNum(c.ins[0]);
    const b = intsNum(c.ins[1]);
    if (a && b && (a.length === b.length || a.length === 1 || b.length === 1) && shape && shape.length <= 1) {
      const len = Math.max(a.length, b.length);
      ints = Array.from({ length: len }, (_, i) => {
        const u = a[a.length === 1 ? 0 : i];
        const v = b[b.length === 1 ? 0 : i];
        return intConst(op === 'Add' ? u + v : op === 'Sub' ? u - v : u * v);
      });
    }
  }
  return [{ dtype: c.x?.dtype ?? null, shape, ints }];
};

const comparison: Infer = (c) => [{ dtype: 'bool', shape: broadcastAll(c) }];

/** Reduce*: axes from the attribute or (ReduceSum, opset 13+) the second input. */
const reduction: Infer = (c) => {
  const { node: n, x } = c;
  if (!x?.shape) return [unknown(c)];
  const r = x.shape.length;
  const keep = intAttr(n, 'keepdims', 1) === 1;
  let axes: number[] | null;
  if (n.inputs.length > 1 && n.inputs[1]) axes = intsNum(c.ins[1]);
  else axes = intsAttr(n, 'axes') ?? [];
  if (axes === null) return [unknown(c)];
  if (axes.length === 0) {
    if (intAttr(n, 'noop_with_empty_axes', 0) === 1) return [{ dtype: x.dtype, shape: x.shape }];
    axes = x.shape.map((_, i) => i);
  }
  const set = new Set(axes.map((a) => normAxis(a, r)));
  const shape: SDim[] = [];
  x.shape.forEach((d, i) => {
    if (!set.has(i)) shape.push(d);
    else if (keep) shape.push(num(1));
  });
  return [{ dtype: x.dtype, shape }];
};

const argExtremum: Infer = (c) => {
  const { node: n, x } = c;
  if (!x?.shape) return [unknown(c, 'int64')];
  const r = x.shape.length;
  const ax = normAxis(intAttr(n, 'axis', 0), r);
  const keep = intAttr(n, 'keepdims', 1) === 1;
  const shape = x.shape.flatMap((d, i) => (i === ax ? (keep ? [num(1)] : []) : [d]));
  return [{ dtype: 'int64', shape }];
};

/** Same dtype and shape as the data input (scatters). */
const likeData: Infer = (c) => [{ dtype: c.x?.dtype ?? null, shape: c.x?.shape ?? null }];

const gemm: Infer = (c) => {
  const { node: n, ins } = c;
  const a = ins[0]?.shape;
  const b = ins[1]?.shape;
  const m = a && a.length === 2 ? a[intAttr(n, 'transA', 0) ? 1 : 0] : null;
  const nn = b && b.length === 2 ? b[intAttr(n, 'transB', 0) ? 0 : 1] : null;
  return [{ dtype: c.x?.dtype ?? null, shape: [m, nn] }];
};

const matmul: Infer = (c) => {
  const a = c.ins[0]?.shape;
  const b = c.ins[1]?.shape;
  if (!a || !b) return [unknown(c)];
  const a2 = a.length === 1 ? [num(1), a[0]] : a;
  const b2 = b.length === 1 ? [b[0], num(1)] : b;
  const batch = broadcastShapes([a2.slice(0, -2), b2.slice(0, -2)]);
  if (!batch) return [unknown(c)];
  const shape = [...batch];
  if (a.length > 1) shape.push(a2[a2.length - 2]);
  if (b.length > 1) shape.push(b2[b2.length - 1]);
  return [{ dtype: c.x?.dtype ?? null, shape }];
};

const topK: Infer = (c) => {
  const { node: n, x } = c;
  if (!x?.shape) return [unknown(c), unknown(c, 'int64')];
  const ax = normAxis(intAttr(n, 'axis', -1), x.shape.length);
  const k = c.ins[1]?.ints?.[0] ?? null;
  const shape = x.shape.map((d, i) => (i === ax ? k : d));
  return [{ dtype: x.dtype, shape }, { dtype: 'int64', shape }];
};

export const INFERENCE: { readonly [K in OpType]: Infer } = {
  Identity: (c) => [{ dtype: c.x?.dtype ?? null, shape: c.x?.shape ?? null, ints: c.x?.ints }],
  Neg: elementwise,
  Abs: elementwise,
  Sqrt: elementwise,
  Reciprocal: elementwise,
  Exp: elementwise,
  Log: elementwise,
  Erf: elementwise,
  Sin: elementwise,
  Cos: elementwise,
  Tanh: elementwise,
  Sigmoid: elementwise,
  Relu: elementwise,
  LeakyRelu: elementwise,
  Elu: elementwise,
  Gelu: elementwise,
  HardSigmoid: elementwise,
  Softplus: elementwise,
  Floor: elementwise,
  Ceil: elementwise,
  Round: elementwise,
  Sign: elementwise,
  IsNaN: predicate,
  IsInf: predicate,
  Not: predicate,
  Cast: (c) => {
    const to = dtypeFromOnnx(intAttr(c.node, 'to', 1));
    return [{ dtype: to, shape: c.x?.shape ?? null, ints: to === 'int64' || to === 'int32' ? c.x?.ints : undefined }];
  },
  Clip: elementwise,
  Dropout: elementwise,

  Add: arithmetic,
  Sub: arithmetic,
  Mul: arithmetic,
  Div: arithmetic,
  Pow: arithmetic,
  Mod: arithmetic,
  Max: arithmetic,
  Min: arithmetic,
  Sum: arithmetic,
  Mean: arithmetic,
  PRelu: arithmetic,
  Where: (c) => [{ dtype: c.ins[1]?.dtype ?? null, shape: broadcastAll(c) }],

  Equal: comparison,
  Less: comparison,
  LessOrEqual: comparison,
  Greater: comparison,
  GreaterOrEqual: comparison,
  And: comparison,
  Or: comparison,
  Xor: comparison,

  Softmax: elementwise,
  LogSoftmax: elementwise,
  ArgMax: argExtremum,
  ArgMin: argExtremum,
  TopK: topK,
  ReduceSum: reduction,
  ReduceMean: reduction,
  ReduceMax: reduction,
  ReduceMin: reduction,
  ReduceProd: reduction,
  ReduceL1: reduction,
  ReduceL2: reduction,
  ReduceLogSumExp: reduction,
  ReduceSumSquare: reduction,

  MatMul: matmul,
  Gemm: gemm,

  Shape: shapeOp,
  Size: (c) => [{ dtype: 'int64', shape: [], ints: [c.x?.shape ? monoProd(c.x.shape) : null] }],
  Reshape: reshape,
  Flatten: (c) => {
    const { x } = c;
    if (!x?.shape) return [unknown(c)];
    const ax = normAxis(intAttr(c.node, 'axis', 1), x.shape.length);
    return [{ dtype: x.dtype, shape: [monoProd(x.shape.slice(0, ax)), monoProd(x.shape.slice(ax))] }];
  },
  Transpose: (c) => {
    const { x } = c;
    if (!x?.shape) return [unknown(c)];
    const perm = intsAttr(c.node, 'perm') ?? x.shape.map((_, i) => x.shape!.length - 1 - i);
    return [{ dtype: x.dtype, shape: perm.map((p) => x.shape![p]) }];
  },
  Unsqueeze: unsqueeze,
  Squeeze: squeeze,
  Expand: (c) => {
    const target = c.ins[1]?.ints;
    return [{ dtype: c.x?.dtype ?? null, shape: target ? broadcastShapes([c.x?.shape ?? null, target]) : null }];
  },
  Tile: (c) => [{ dtype: c.x?.dtype ?? null, shape: c.x?.shape ? c.x.shape.map(() => null) : null }],
  Concat: concat,
  Split: split,
  Slice: slice,
  Pad: pad,

  Gather: gather,
  GatherElements: (c) => [{ dtype: c.x?.dtype ?? null, shape: c.ins[1]?.shape ?? null }],
  ScatterND: likeData,
  ScatterElements: likeData,
  // The count of non-zeros is data-dependent: a symbol of its own (named after the output), so
  // values derived from the same NonZero provably share it.
  NonZero: (c) => [{ dtype: 'int64', shape: [c.x?.shape ? num(c.x.shape.length) : null, sym(`nonzero(${c.node.outputs[0]})`)] }],
  OneHot: (c) => [{ dtype: c.ins[2]?.dtype ?? null, shape: null }],

  Constant: (c) => {
    const v = c.node.attrs.value;
    if (v && v.kind === 'tensor') return [metaOfConst(v.value.dtype, v.value.dims, v.value.data)];
    return [unknown(c, null)];
  },
  ConstantOfShape: (c) => {
    const v = c.node.attrs.value;
    const dtype = v && v.kind === 'tensor' ? v.value.dtype : 'float32';
    return [{ dtype, shape: c.x?.ints ?? null }];
  },
  Range: (c) => [{ dtype: c.x?.dtype ?? null, shape: [null] }],
  // Generators whose dtype/shape come from attributes this pass does not read.
  EyeLike: unknownOutputs,
  RandomNormal: unknownOutputs,
  RandomUniform: unknownOutputs,
  RandomNormalLike: unknownOutputs,
  RandomUniformLike: unknownOutputs,
  Multinomial: unknownOutputs,
  Bernoulli: unknownOutputs,
};

