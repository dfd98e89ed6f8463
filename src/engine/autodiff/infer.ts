/**
 * Best-effort static shape and dtype inference over the graph IR, used by autodiff to decide
 * which broadcast axes a gradient must be summed over without running anything. What a value's
 * metadata holds is described in dims.ts; what each op does to it, in inference-table.ts.
 */
import type { Graph, GraphNode } from '../onnx/graph';
import { isDefaultDomain, isOpType } from '../onnx/ops';
import { metaOfConst, num, sym, type ValueMeta } from './dims';
import { INFERENCE } from './inference-table';

/**
 * Infer output metadata of one node. `get` returns what is known of an input (undefined for
 * an absent optional input, named '').
 */
export function inferNode(n: GraphNode, get: (name: string) => ValueMeta | undefined): ValueMeta[] {
  const ins = n.inputs.map((i) => (i ? get(i) : undefined));
  // Other domains are opaque; a default-domain op outside the IR's set keeps its input's dtype.
  if (!isDefaultDomain(n.domain)) return n.outputs.map(() => ({ dtype: null, shape: null }));
  if (!isOpType(n.opType)) return n.outputs.map(() => ({ dtype: ins[0]?.dtype ?? null, shape: null }));
  return INFERENCE[n.opType]({ node: n, ins, x: ins[0] });
}

/** Metadata of every value of a graph (inputs, initializers, node outputs in order). */
export function inferGraph(g: Graph, canon: (symbol: string) => string = (s) => s): Map<string, ValueMeta> {
  const meta = new Map<string, ValueMeta>();
  for (const i of g.initializers) meta.set(i.name, metaOfConst(i.tensor.dtype, i.tensor.dims, i.tensor.data as ArrayLike<number | bigint>));
  for (const i of g.inputs) meta.set(i.name, { dtype: i.dtype, shape: i.shape.map((d) => (typeof d === 'number' ? (d >= 0 ? num(d) : null) : d ? sym(canon(d)) : null)) });
  // Bytes held outside the model: a known shape, values unknown here (as for an input).
  for (const e of g.externalInitializers) meta.set(e.name, { dtype: e.dtype, shape: e.dims.map(num) });
  for (const n of g.nodes) {
    const outs = inferNode(n, (name) => meta.get(name));
    n.outputs.forEach((o, k) => {
      if (o) meta.set(o, outs[k] ?? { dtype: null, shape: null });
    });
  }
  return meta;
}
