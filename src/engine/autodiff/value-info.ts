/**
 * ONNX value_info for a graph's intermediate values, from the static inference autodiff uses
 * (dims.ts): a dim known as a monomial is written as its number or as a name such as
 * `batch*seq`, so two values provably of the same size carry the same name. onnxruntime plans
 * buffer reuse from these shapes; without them a training graph of a few thousand nodes spends
 * most of its session creation in the planner. A wrong name could only make onnxruntime refuse
 * a buffer at run time ("Shape mismatch attempting to re-use buffer"), never compute wrongly.
 */
import { UNKNOWN_DIM, type Dim, type Graph, type ValueInfo } from '../onnx/graph';
import type { SDim, ValueMeta } from './dims';
import { inferGraph } from './infer';

function dimOf(d: SDim): Dim {
  if (!d || d.c <= 0 || !Number.isInteger(d.c)) return UNKNOWN_DIM;
  if (d.s.length === 0) return d.c;
  return `${d.c === 1 ? '' : `${d.c}*`}${d.s.join('*')}`;
}

/** value_info of every node output whose dtype and rank are known (graph inputs and outputs excluded). */
export function valueInfoFromMeta(g: Graph, meta: ReadonlyMap<string, ValueMeta>): ValueInfo[] {
  const declared = new Set([...g.inputs, ...g.outputs, ...g.initializers, ...g.externalInitializers].map((v) => v.name));
  const out: ValueInfo[] = [];
  for (const n of g.nodes) {
    for (const name of n.outputs) {
      const m = meta.get(name);
      if (!name || declared.has(name) || !m?.dtype || !m.shape) continue;
      out.push({ name, dtype: m.dtype, shape: m.shape.map(dimOf) });
    }
  }
  return out;
}

/**
 * value_info of `g` by static inference; `equalDims` names groups of graph-input dims that are
 * equal at run time (as in autodiff's option of the same name).
 */
export function inferValueInfo(g: Graph, equalDims: readonly (readonly string[])[] = []): ValueInfo[] {
  const canon = new Map<string, string>();
  for (const group of equalDims) for (const s of group) canon.set(s, group[0]);
  return valueInfoFromMeta(g, inferGraph(g, (s) => canon.get(s) ?? s));
}
