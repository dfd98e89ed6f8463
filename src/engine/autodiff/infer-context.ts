/** What an inference entry is given about a node, and what it returns. */
import type { DType, GraphNode } from '../onnx/graph';
import type { ValueMeta } from './dims';

export interface InferCtx {
  node: GraphNode;
  /** What is known of each input; undefined for an absent optional input (named ''). */
  ins: (ValueMeta | undefined)[];
  /** ins[0]. */
  x: ValueMeta | undefined;
}

export type Infer = (c: InferCtx) => ValueMeta[];

/** Nothing known but the dtype (default: the first input's). */
export function unknown(c: InferCtx, dtype: DType | null = c.x?.dtype ?? null): ValueMeta {
  return { dtype, shape: null };
}
