/**
 * How gradient passes through each op of the IR: one entry per `OpType`, so an op added to
 * ops.ts without an entry here does not compile. An entry is one of
 *  - `rule(vjp, ports?)`: the vector-Jacobian product (rules.ts or inline below);
 *  - `none(because)`: the outputs carry no gradient (integer/boolean results, piecewise
 *    constant functions, random draws); activity analysis stops at the node;
 *  - `unsupported(reason, ports?)`: gradient would flow, but there is no rule; building a
 *    gradient graph fails with the reason when the node lies on a path from `wrt` to the loss.
 * `ports` lists the inputs and outputs gradient flows through when that is not all of them
 * (indices, shapes, axes, conditions, TopK's indices and Dropout's mask are constants).
 */
import { attr, type GraphNode } from '../onnx/graph';
import { ONNX_DTYPE as ONNX_CODE } from '../onnx/dtypes';
import { isDefaultDomain, isOpType, type OpType } from '../onnx/ops';
import {
  binary,
  clipRule,
  concatRule,
  divRule,
  gatherRule,
  gemmRule,
  logSoftmaxRule,
  matmulRule,
  minMax,
  powRule,
  reduceRule,
  ruleFails,
  scatterAdd,
  sliceRule,
  softmaxRule,
  splitRule,
  transposeRule,
  unary,
  whereRule,
  type Rule,
} from './rules';
import { intAttr } from './node-attrs';

/** Positions gradient flows through; absent: every present input, every output. */
export interface Ports {
  inputs?: readonly number[];
  outputs?: readonly number[];
}

export type Gradient =
  | ({ kind: 'rule'; rule: Rule } & Ports)
  | { kind: 'none'; because: string }
  | ({ kind: 'unsupported'; reason: string } & Ports);

const rule = (r: Rule, ports: Ports = {}): Gradient => ({ kind: 'rule', rule: r, ...ports });
const none = (because: string): Gradient => ({ kind: 'none', because });
const unsupported = (reason: string, ports: Ports = {}): Gradient => ({ kind: 'unsupported', reason, ...ports });

const DATA_ONLY: Ports = { inputs: [0] };
const NOT_WRITTEN = 'no rule written yet';
const BACKWARD_ONLY = 'no rule written (the op is only emitted by backward rules)';

const reshapeBack: Rule = (c) => [c.e.reshapeLike(c.dy[0]!, c.node.inputs[0])];

export const GRADIENTS: { readonly [K in OpType]: Gradient } = {
  Identity: rule((c) => [c.dy[0]]),
  Neg: rule(unary((c, dy) => c.e.op('Neg', [dy]))),
  // Where/Less rather than Sign: ORT-web's WebGPU EP has no Sign kernel.
  Abs: rule(unary((c, dy, x) => c.e.op('Where', [c.e.op('Less', [x, c.e.scalarLike(0, x)]), c.e.op('Neg', [dy]), dy]))),
  Sqrt: rule(unary((c, dy, _x, y) => c.e.op('Div', [c.e.op('Mul', [dy, c.e.scalarLike(0.5, dy)]), y]))),
  Reciprocal: rule(unary((c, dy, _x, y) => c.e.op('Neg', [c.e.op('Mul', [dy, c.e.op('Mul', [y, y])])]))),
  Exp: rule(unary((c, dy, _x, y) => c.e.op('Mul', [dy, y]))),
  Log: rule(unary((c, dy, x) => c.e.op('Div', [dy, x]))),
  Erf: unsupported(NOT_WRITTEN),
  Sin: unsupported(NOT_WRITTEN),
  Cos: unsupported(NOT_WRITTEN),
  Tanh: rule(unary((c, dy, _x, y) => c.e.op('Mul', [dy, c.e.op('Sub', [c.e.scalarLike(1, y), c.e.op('Mul', [y, y])])]))),
  Sigmoid: rule(unary((c, dy, _x, y) => c.e.op('Mul', [dy, c.e.op('Mul', [y, c.e.op('Sub', [c.e.scalarLike(1, y), y])])]))),
  Relu: rule(unary((c, dy, x) => c.e.op('Where', [c.e.op('Greater', [x, c.e.scalarLike(0, x)]), dy, c.e.scalarLike(0, dy)]))),
  LeakyRelu: unsupported(NOT_WRITTEN),
  Elu: unsupported(NOT_WRITTEN),
  Gelu: unsupported(NOT_WRITTEN),
  HardSigmoid: unsupported(NOT_WRITTEN),
  Softplus: unsupported(NOT_WRITTEN),
  Floor: none('piecewise constant'),
  Ceil: none('piecewise constant'),
  Round: none('piecewise constant'),
  Sign: none('piecewise constant'),
  IsNaN: none('boolean result'),
  IsInf: none('boolean result'),
  Not: none('boolean result'),
  Cast: rule((c) => {
    const x = c.node.inputs[0];
    const dt = c.e.dtypeOf(x);
    if (dt === c.e.dtypeOf(c.node.outputs[0])) return [c.dy[0]];
    return [c.e.op('Cast', [c.dy[0]!], { to: attr.int(ONNX_CODE[dt]) })];
  }, DATA_ONLY),
  Clip: rule(clipRule),
  Dropout: rule((c) => {
    if (c.node.inputs[2]) ruleFails(c.node, 'only inference-mode Dropout (no training_mode input) is supported');
    return [c.dy[0]];
  }, { inputs: [0], outputs: [0] }),

  Add: rule((c) => binary(c, () => c.dy[0]!, () => c.dy[0]!)),
  Sub: rule((c) => {
    const [a, b] = c.node.inputs;
    return [c.needs(0) ? c.e.reduceTo(c.dy[0]!, a) : null, c.needs(1) ? c.e.op('Neg', [c.e.reduceTo(c.dy[0]!, b)]) : null];
  }),
  Mul: rule((c) => {
    const [a, b] = c.node.inputs;
    const dy = c.dy[0]!;
    return binary(c, () => c.e.op('Mul', [dy, b]), () => c.e.op('Mul', [dy, a]));
  }),
  Div: rule(divRule),
  Pow: rule(powRule),
  Mod: unsupported(NOT_WRITTEN),
  Max: rule((c) => minMax(c, 'GreaterOrEqual')),
  Min: rule((c) => minMax(c, 'LessOrEqual')),
  Sum: rule((c) => c.node.inputs.map((x, i) => (c.needs(i) ? c.e.reduceTo(c.dy[0]!, x) : null))),
  Mean: unsupported(NOT_WRITTEN),
  PRelu: unsupported(NOT_WRITTEN),
  Where: rule(whereRule, { inputs: [1, 2] }),

  Equal: none('boolean result'),
  Less: none('boolean result'),
  LessOrEqual: none('boolean result'),
  Greater: none('boolean result'),
  GreaterOrEqual: none('boolean result'),
  And: none('boolean result'),
  Or: none('boolean result'),
  Xor: none('boolean result'),

  Softmax: rule(softmaxRule),
  LogSoftmax: rule(logSoftmaxRule),
  ArgMax: none('integer result'),
  ArgMin: none('integer result'),
  TopK: rule((c) => [scatterAdd(c, c.node.inputs[0], c.node.outputs[1], c.dy[0]!, intAttr(c.node, 'axis', -1))], { inputs: [0], outputs: [0] }),
  ReduceSum: rule(reduceRule, DATA_ONLY),
  ReduceMean: rule(reduceRule, DATA_ONLY),
  ReduceMax: rule(reduceRule, DATA_ONLY),
  ReduceMin: rule(reduceRule, DATA_ONLY),
  ReduceProd: unsupported(NOT_WRITTEN),
  ReduceL1: unsupported(NOT_WRITTEN),
  ReduceL2: unsupported(NOT_WRITTEN),
  ReduceLogSumExp: unsupported(NOT_WRITTEN),
  ReduceSumSquare: unsupported(NOT_WRITTEN),

  MatMul: rule(matmulRule),
  Gemm: rule(gemmRule),

  Shape: none('integer result'),
  Size: none('integer result'),
  Reshape: rule(reshapeBack, DATA_ONLY),
  Flatten: rule(reshapeBack),
  Transpose: rule(transposeRule),
  Unsqueeze: rule(reshapeBack, DATA_ONLY),
  Squeeze: rule(reshapeBack, DATA_ONLY),
  Expand: rule((c) => [c.e.reduceTo(c.dy[0]!, c.node.inputs[0])], DATA_ONLY),
  Tile: unsupported(NOT_WRITTEN),
  Concat: rule(concatRule),
  Split: rule(splitRule, DATA_ONLY),
  Slice: rule(sliceRule, DATA_ONLY),
  Pad: unsupported(BACKWARD_ONLY, DATA_ONLY),

  Gather: rule(gatherRule, DATA_ONLY),
  GatherElements: rule((c) => {
    const [data, idx] = c.node.inputs;
    return [scatterAdd(c, data, idx, c.dy[0]!, intAttr(c.node, 'axis', 0))];
  }, DATA_ONLY),
  ScatterND: unsupported(BACKWARD_ONLY),
  ScatterElements: unsupported(BACKWARD_ONLY),
  NonZero: none('integer result'),
  OneHot: none('piecewise constant'),

  Constant: none('constant'),
  ConstantOfShape: none('constant'),
  Range: none('piecewise constant'),
  EyeLike: none('constant'),
  RandomNormal: none('random draw'),
  RandomUniform: none('random draw'),
  RandomNormalLike: none('random draw'),
  RandomUniformLike: none('random draw'),
  Multinomial: none('random draw'),
  Bernoulli: none('random draw'),
};

/** The entry for a node; nodes of other domains, or outside the op set, have no rule. */
export function gradientOf(n: GraphNode): Gradient {
  if (!isDefaultDomain(n.domain)) return unsupported(`no gradient for ${n.domain} ops`);
  if (!isOpType(n.opType)) return unsupported('not an op of the graph IR (src/engine/onnx/ops.ts)');
  return GRADIENTS[n.opType];
}

export function differentiableInputs(n: GraphNode, g: Gradient): readonly number[] {
  if (g.kind !== 'none' && g.inputs) return g.inputs;
  return n.inputs.map((_, i) => i).filter((i) => !!n.inputs[i]);
}

export function differentiableOutputs(n: GraphNode, g: Gradient): readonly number[] {
  if (g.kind !== 'none' && g.outputs) return g.outputs;
  return n.outputs.map((_, i) => i);
}
