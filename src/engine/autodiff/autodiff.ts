/**
 * Reverse-mode automatic differentiation over the graph IR.
 *
 * `buildGradientGraph(g, { loss, wrt })` returns a new Graph holding the forward nodes of `g`
 * followed by backward nodes made of ordinary ONNX ops (opset 17, default domain), so the
 * result runs wherever the forward graph runs (onnxruntime-node CPU, onnxruntime-web WebGPU).
 * Its outputs are g's outputs plus one gradient per `wrt` value, with that value's shape and
 * dtype. The gradient is of the sum of the loss's elements (the loss is normally a scalar).
 *
 * Only nodes on a differentiable path from a `wrt` value to the loss get backward nodes;
 * integer/boolean values and the outputs of Shape, Equal, ArgMax, TopK indices and similar
 * ops are constants for differentiation. See docs/autodiff.md.
 */
import { Graph, type Dim, type GraphNode } from '../onnx/graph';
import { Emitter, type EmitOptions } from './emit';
import { isDefaultDomain } from '../onnx/ops';
import { isFloat, type SDim } from './dims';
import { inferGraph } from './infer';
import { valueInfoFromMeta } from './value-info';
import { SpanSchedule } from './spans';
import { differentiableInputs, differentiableOutputs, gradientOf } from './gradient-table';

export interface GradientOptions {
  /** Name of a float value (normally a scalar graph output) to differentiate. */
  loss: string;
  /** Names of the values (graph inputs or initializers) to differentiate with respect to. */
  wrt: string[];
  /** Output name of each gradient; default `grad.${name}`. */
  gradName?: (wrt: string) => string;
  /**
   * Broadcast reduction strategy. 'static' (default): from statically inferred shapes, with a
   * runtime fallback per operand whose broadcast axes cannot be proven. 'runtime': always
   * compute the axes in the graph.
   */
  broadcast?: EmitOptions['broadcast'];
  /** Gradient of Gather w.r.t. its data (embeddings): 'scatternd' (default) or 'onehot'. */
  gatherGrad?: EmitOptions['gatherGrad'];
  /**
   * Groups of symbolic dimension names known to be equal at runtime, e.g. [['seq', 'total']]
   * for a prefill decoder graph (no past KV): lets more broadcast reductions be static.
   */
  equalDims?: string[][];
  /**
   * A value holding the gradient of `loss` (same shape), used instead of ones: the result is
   * then the vector-Jacobian product seed^T d(loss)/d(wrt). Lets a caller differentiate part of
   * a graph by hand (the chunked loss head) and hand the rest to autodiff.
   */
  seed?: string;
  /**
   * Forward node ranges [start, end) (indices into the graph's nodes), e.g. decoder layers: each
   * span's backward pass, gradients of `wrt` included, completes before the next earlier span's
   * starts (spans.ts).
   */
  spans?: readonly (readonly [number, number])[];
  /** With `spans`: recompute each span's activations in the backward pass instead of keeping them. */
  recompute?: boolean;
}

export interface GradientStats {
  /** Forward nodes that received a backward rule. */
  activeNodes: number;
  /** Backward nodes emitted. */
  backwardNodes: number;
  staticReductions: number;
  runtimeReductions: number;
  /** Operands reduced at runtime: `value [its inferred shape] <- [gradient shape]`. */
  runtimeSites: string[];
}

/** Build the forward + backward graph. Does not modify `g`. */
export function buildGradientGraph(g: Graph, opts: GradientOptions): Graph {
  return buildGradientGraphWithStats(g, opts).graph;
}

export function buildGradientGraphWithStats(g: Graph, opts: GradientOptions): { graph: Graph; stats: GradientStats } {
  const gradName = opts.gradName ?? ((w: string) => `grad.${w}`);
  const out = new Graph(g.name);
  for (const i of g.inputs) out.inputs.push({ ...i, shape: [...i.shape] });
  for (const o of g.outputs) out.outputs.push({ ...o, shape: [...o.shape] });
  for (const init of g.initializers) out.initializers.push({ name: init.name, tensor: init.tensor });
  for (const n of g.nodes) out.nodes.push({ ...n, inputs: [...n.inputs], outputs: [...n.outputs], attrs: { ...n.attrs } });
  const forward: GraphNode[] = out.nodes.slice();

  // Names made later with out.fresh() (by us, or by whoever appends to the returned graph) must
  // not collide with g's: move the counter past every numeric suffix g uses.
  const names = new Set<string>();
  for (const v of [...g.inputs, ...g.outputs, ...g.initializers]) names.add(v.name);
  for (const n of g.nodes) {
    names.add(n.name);
    for (const v of [...n.inputs, ...n.outputs]) if (v) names.add(v);
  }
  let maxSuffix = -1;
  for (const n of names) {
    const m = /__(\d+)$/.exec(n);
    if (m) maxSuffix = Math.max(maxSuffix, Number(m[1]));
  }
  for (;;) {
    const f = out.fresh('skip');
    if (Number(f.slice(f.lastIndexOf('__') + 2)) >= maxSuffix) break;
  }

  const canon = new Map<string, string>();
  for (const group of opts.equalDims ?? []) for (const s of group) canon.set(s, group[0]);
  const meta = inferGraph(out, (s) => canon.get(s) ?? s);
  const e = new Emitter(out, meta, { broadcast: opts.broadcast ?? 'static', gatherGrad: opts.gatherGrad ?? 'scatternd' });

  // --- checks -------------------------------------------------------------------------------
  const lossMeta = meta.get(opts.loss);
  if (!lossMeta) throw new Error(`autodiff: loss ${opts.loss} is not a value of the graph`);
  if (!isFloat(lossMeta.dtype)) throw new Error(`autodiff: loss ${opts.loss} is not a float value`);
  if (opts.seed !== undefined && meta.get(opts.seed)?.dtype !== lossMeta.dtype) throw new Error(`autodiff: seed ${opts.seed} is not a value of the loss's dtype`);
  if (new Set(opts.wrt).size !== opts.wrt.length) throw new Error('autodiff: wrt lists a name twice');
  for (const w of opts.wrt) {
    const m = meta.get(w);
    if (!m) throw new Error(`autodiff: ${w} is not an input, initializer or value of the graph`);
    if (!isFloat(m.dtype)) throw new Error(`autodiff: cannot differentiate with respect to ${w} of dtype ${m.dtype}`);
    if (names.has(gradName(w))) throw new Error(`autodiff: gradient name ${gradName(w)} is already used in the graph`);
  }

  // --- activity analysis ---------------------------------------------------------------------
  const varying = new Set<string>(opts.wrt);
  const grads = forward.map(gradientOf);
  forward.forEach((n, idx) => {
    const gr = grads[idx];
    if (gr.kind === 'none' || !isDefaultDomain(n.domain)) return;
    if (!differentiableInputs(n, gr).some((i) => varying.has(n.inputs[i]))) return;
    for (const k of differentiableOutputs(n, gr)) {
      const o = n.outputs[k];
      if (o && isFloat(meta.get(o)?.dtype)) varying.add(o);
    }
  });
  const useful = new Set<string>();
  if (varying.has(opts.loss)) useful.add(opts.loss);
  const active: boolean[] = new Array(forward.length).fill(false);
  for (let idx = forward.length - 1; idx >= 0; idx--) {
    const n = forward[idx];
    const gr = grads[idx];
    if (gr.kind === 'none') continue;
    if (!differentiableOutputs(n, gr).some((k) => useful.has(n.outputs[k]))) continue;
    const ins = differentiableInputs(n, gr).filter((i) => varying.has(n.inputs[i]));
    if (ins.length === 0) continue;
    if (!isDefaultDomain(n.domain)) throw new Error(`autodiff: no gradient for ${n.domain}.${n.opType} (node ${n.name})`);
    if (gr.kind === 'unsupported') {
      throw new Error(`autodiff: no gradient rule for ${n.opType} (node ${n.name}, on the path from [${opts.wrt.join(', ')}] to ${opts.loss}): ${gr.reason}`);
    }
    active[idx] = true;
    for (const i of ins) useful.add(n.inputs[i]);
  }

  // --- backward pass -------------------------------------------------------------------------
  const contribs = new Map<string, string[]>();
  const add = (v: string, grad: string) => {
    const list = contribs.get(v);
    if (list) list.push(grad);
    else contribs.set(v, [grad]);
  };
  const total = (v: string): string | null => {
    const list = contribs.get(v);
    if (!list || list.length === 0) return null;
    if (list.length > 1) {
      const s = e.sum(list);
      contribs.set(v, [s]);
      return s;
    }
    return list[0];
  };

  if (useful.has(opts.loss)) {
    const rank0 = lossMeta.shape?.length === 0;
    if (opts.seed !== undefined) add(opts.loss, opts.seed);
    else add(opts.loss, rank0 ? e.fconst(1, lossMeta.dtype!) : e.filled(e.shapeOf(opts.loss), 1, lossMeta.dtype!));
  }
  const wrtSet = new Set(opts.wrt);
  const schedule = opts.spans?.length ? new SpanSchedule(forward, opts.spans, e, opts.recompute ?? false) : null;
  if (opts.recompute && !schedule) throw new Error('autodiff: recompute needs spans');
  let activeNodes = 0;
  for (let idx = forward.length - 1; idx >= 0; idx--) {
    if (!active[idx]) continue;
    const n = forward[idx];
    const gr = grads[idx];
    if (gr.kind !== 'rule') continue;
    const dOuts = new Set(differentiableOutputs(n, gr));
    let dy = n.outputs.map((o, k) => (dOuts.has(k) && useful.has(o) ? total(o) : null));
    if (dy.every((d) => d === null)) continue;
    const dIns = new Set(differentiableInputs(n, gr));
    const needs = (i: number) => dIns.has(i) && !!n.inputs[i] && useful.has(n.inputs[i]);
    activeNodes++;
    let node = n;
    if (schedule) ({ dy, node } = schedule.visit(idx, dy));
    const dx = gr.rule({ e, node, dy, needs });
    n.inputs.forEach((x, i) => {
      const gx = dx[i];
      if (gx && needs(i)) {
        e.refine(gx, x);
        add(x, gx);
        if (wrtSet.has(x)) schedule?.noteWrtGradient(gx);
      }
    });
  }

  for (const w of opts.wrt) {
    const gsum = total(w) ?? e.zerosLike(w);
    const name = gradName(w);
    e.named('Identity', [gsum], name);
    const info = g.inputs.find((i) => i.name === w);
    const init = g.initializers.find((i) => i.name === w);
    const m = meta.get(w)!;
    const shape: Dim[] = info ? [...info.shape] : init ? [...init.tensor.dims] : (m.shape ?? []).map((d: SDim, k: number) => dimName(d, `${name}_${k}`));
    out.output(name, m.dtype!, shape);
  }

  schedule?.prune(out);
  // Every value's inferred shape (equalDims applied) as value_info, for onnxruntime's planner.
  out.valueInfo.push(...valueInfoFromMeta(out, meta));

  return {
    graph: out,
    stats: { activeNodes, backwardNodes: e.stats.nodes, staticReductions: e.stats.staticReductions, runtimeReductions: e.stats.runtimeReductions, runtimeSites: e.stats.runtimeSites },
  };
}

function dimName(d: SDim, fallback: string): Dim {
  if (!d) return fallback;
  if (d.s.length === 0) return d.c;
  return d.c === 1 && d.s.length === 1 ? d.s[0] : fallback;
}
