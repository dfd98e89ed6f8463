/**
 * The default-domain ONNX ops the graph IR knows. `Graph.op`/`Graph.node` accept only these;
 * the autodiff tables (gradient rules, shape/dtype inference) are mapped types over `OpType`,
 * so adding an op here fails to compile until both tables say what to do with it.
 * Ops of other domains (com.microsoft, custom test ops) go through `Graph.customNode`.
 */
export const OP_TYPES = [
  // Elementwise, one input.
  'Identity', 'Neg', 'Abs', 'Sqrt', 'Reciprocal', 'Exp', 'Log', 'Erf', 'Sin', 'Cos', 'Tanh', 'Sigmoid',
  'Relu', 'LeakyRelu', 'Elu', 'Gelu', 'HardSigmoid', 'Softplus', 'Floor', 'Ceil', 'Round', 'Sign',
  'IsNaN', 'IsInf', 'Not', 'Cast', 'Clip', 'Dropout',
  // Elementwise, broadcasting.
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Mod', 'Max', 'Min', 'Sum', 'Mean', 'PRelu', 'Where',
  // Comparisons and logic (boolean results).
  'Equal', 'Less', 'LessOrEqual', 'Greater', 'GreaterOrEqual', 'And', 'Or', 'Xor',
  // Along an axis.
  'Softmax', 'LogSoftmax', 'ArgMax', 'ArgMin', 'TopK',
  'ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2',
  'ReduceLogSumExp', 'ReduceSumSquare',
  // Matrix products.
  'MatMul', 'Gemm',
  // Shape and layout.
  'Shape', 'Size', 'Reshape', 'Flatten', 'Transpose', 'Unsqueeze', 'Squeeze', 'Expand', 'Tile',
  'Concat', 'Split', 'Slice', 'Pad',
  // Indexing.
  'Gather', 'GatherElements', 'ScatterND', 'ScatterElements', 'NonZero', 'OneHot',
  // Constants and generators.
  'Constant', 'ConstantOfShape', 'Range', 'EyeLike',
  'RandomNormal', 'RandomUniform', 'RandomNormalLike', 'RandomUniformLike', 'Multinomial', 'Bernoulli',
] as const;

export type OpType = (typeof OP_TYPES)[number];

const KNOWN: ReadonlySet<string> = new Set(OP_TYPES);

export function isOpType(op: string): op is OpType {
  return KNOWN.has(op);
}

/** True for the default ONNX domain, spelled '' or 'ai.onnx'. */
export function isDefaultDomain(domain: string): boolean {
  return domain === '' || domain === 'ai.onnx';
}
