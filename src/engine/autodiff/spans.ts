/**
 * Backward-pass scheduling over spans of forward nodes (decoder layers), and recomputation of
 * their activations (activation checkpointing).
 *
 * onnxruntime orders nodes by data dependencies only. In the reverse sweep the main chain (the
 * gradient of the residual stream) forces the layers' order, but a layer's side branches, the
 * products that only feed a gradient output (LoRA's dA and dB), may be left for the end and keep
 * their inputs ([tokens, width] gradients) alive meanwhile. So when the sweep enters a span,
 * the gradient arriving there is gated (x + 0, the 0 computed after, ordering.ts) on every
 * gradient contribution to a `wrt` value made in the span before it: a layer's backward pass is
 * complete before the next one starts.
 *
 * With `recompute`, when the sweep reaches a span, the whole span is emitted again with fresh
 * names, reading the same inputs, and the span's backward rules read those copies instead of the
 * forward values. The forward pass's values inside a span then have no backward reader and are
 * freed as the forward pass moves on; only what enters the spans (the residual stream between
 * layers) stays alive until the backward pass. The copies must not be computable earlier, so
 * every float activation entering a span's copy is gated on the (gated) arriving gradient too.
 * The copies are bit-identical to the forward values.
 */
import { attr, type GraphNode } from '../onnx/graph';
import { isDefaultDomain, isOpType } from '../onnx/ops';
import { ONNX_DTYPE } from '../onnx/dtypes';
import { zeroAfter } from '../onnx/ordering';
import { isFloat } from './dims';
import type { Emitter } from './emit';

export class SpanSchedule {
  private readonly spanOf: Int32Array;
  private readonly rename = new Map<string, string>();
  private readonly producedBy = new Map<string, number>();
  private current = -1;
  private pending: string[] = [];
  /** Outputs of the recomputed copies, for pruning the ones no rule read. */
  private readonly copies = new Set<string>();

  constructor(
    private readonly forward: readonly GraphNode[],
    private readonly spans: readonly (readonly [number, number])[],
    private readonly e: Emitter,
    private readonly recompute: boolean,
  ) {
    this.spanOf = new Int32Array(forward.length).fill(-1);
    spans.forEach(([a, b], s) => {
      if (!(Number.isInteger(a) && Number.isInteger(b) && a >= 0 && a <= b && b <= forward.length)) throw new Error(`autodiff: span [${a}, ${b}) is not a range of the ${forward.length} forward nodes`);
      for (let i = a; i < b; i++) {
        if (this.spanOf[i] >= 0) throw new Error(`autodiff: spans overlap at node ${i}`);
        this.spanOf[i] = s;
      }
    });
    forward.forEach((n, i) => n.outputs.forEach((o) => o && this.producedBy.set(o, i)));
  }

  /** A gradient contribution to a `wrt` value was emitted. */
  noteWrtGradient(grad: string): void {
    this.pending.push(grad);
  }

  /**
   * Called for each active forward node before its rule, with its output gradients. Returns the
   * gradients to use (gated when the node is the first of a span the sweep reaches) and the node
   * as the rule should read it (its recomputed copy inside a span, with `recompute`).
   */
  visit(idx: number, dy: (string | null)[]): { dy: (string | null)[]; node: GraphNode } {
    const s = this.spanOf[idx];
    if (s >= 0 && s !== this.current) {
      this.current = s;
      if (this.pending.length) {
        const zero = zeroAfter((t, i, a) => this.e.op(t, i, a), (v) => this.e.i64(v), this.pending);
        this.pending = [];
        dy = dy.map((d) => (d ? this.e.op('Add', [d, this.castZero(zero, d)]) : d));
      }
      if (this.recompute) this.emitSpan(s, dy.find((d) => d !== null)!);
    }
    const n = this.forward[idx];
    if (s < 0 || !this.recompute) return { dy, node: n };
    const map = (v: string) => (v ? (this.rename.get(v) ?? v) : v);
    return { dy, node: { ...n, inputs: n.inputs.map(map), outputs: n.outputs.map(map) } };
  }

  private castZero(zero: string, like: string): string {
    return this.e.op('Cast', [zero], { to: attr.int(ONNX_DTYPE[this.e.dtypeOf(like)]) });
  }

  private emitSpan(s: number, gradient: string): void {
    const e = this.e;
    const [a, b] = this.spans[s];
    const inSpan = (v: string) => {
      const p = this.producedBy.get(v);
      return p !== undefined && p >= a && p < b;
    };
    const zero = zeroAfter((t, i, at) => e.op(t, i, at), (v) => e.i64(v), [gradient]);
    const gated = new Map<string, string>();
    const gate = (v: string): string => {
      let x = gated.get(v);
      if (!x) gated.set(v, (x = e.op('Add', [v, this.castZero(zero, v)])));
      return x;
    };
    for (let i = a; i < b; i++) {
      const n = this.forward[i];
      if (!isDefaultDomain(n.domain) || !isOpType(n.opType)) throw new Error(`autodiff: cannot recompute ${n.domain}.${n.opType} (node ${n.name})`);
      const inputs = n.inputs.map((v) => {
        if (!v) return v;
        if (inSpan(v)) return this.rename.get(v)!;
        // A float activation from before the span: read it only once the backward pass is here.
        return this.producedBy.has(v) && isFloat(e.metaOf(v).dtype) ? gate(v) : v;
      });
      const outs = e.node(n.opType, inputs, n.attrs, n.outputs.length);
      n.outputs.forEach((o, k) => o && this.rename.set(o, outs[k]));
      for (const o of outs) this.copies.add(o);
    }
  }

  /**
   * Remove the recomputed nodes whose outputs nothing reads (a layer's last products, which
   * only fed the next layer in the forward pass): onnxruntime would still run them, last.
   */
  prune(graph: { nodes: GraphNode[]; outputs: { name: string }[] }): void {
    if (!this.copies.size) return;
    for (;;) {
      const read = new Set<string>(graph.outputs.map((o) => o.name));
      for (const n of graph.nodes) for (const i of n.inputs) read.add(i);
      const keep = graph.nodes.filter((n) => !n.outputs.every((o) => this.copies.has(o) && !read.has(o)));
      if (keep.length === graph.nodes.length) return;
      graph.nodes.splice(0, graph.nodes.length, ...keep);
    }
  }
}
