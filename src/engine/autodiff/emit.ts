/**
 * Node emission for the backward pass: appends nodes to the gradient graph, keeps the static
 * shape/dtype metadata up to date for every value it creates, and provides the helpers the
 * rules share (typed constants, cached Shape(), zeros, broadcast reduction).
 */
import { attr, type Attr, type DType, type Graph } from '../onnx/graph';
import { f32ArrayToF16 } from '../onnx/half';
import type { OpType } from '../onnx/ops';
import { fmtShape, isNum, metaOfConst, monoEq, type ValueMeta } from './dims';
import { inferNode } from './infer';

export interface EmitOptions {
  /**
   * How the gradient of a broadcast operand is summed back to the operand's shape:
   * 'static' (default) uses the statically inferred shapes and falls back to the runtime
   * computation for any operand whose broadcast axes cannot be proven; 'runtime' always
   * computes the axes in the graph from the two Shape() tensors.
   */
  broadcast: 'static' | 'runtime';
  /** Gradient of Gather w.r.t. its data: ScatterND(reduction=add) (default) or a one-hot Gemm. */
  gatherGrad: 'scatternd' | 'onehot';
}

const I64_LIMIT = 2 ** 62;

export class Emitter {
  private readonly shapeCache = new Map<string, string>();
  readonly stats = { nodes: 0, staticReductions: 0, runtimeReductions: 0, runtimeSites: [] as string[] };

  constructor(
    readonly g: Graph,
    readonly meta: Map<string, ValueMeta>,
    readonly opts: EmitOptions,
  ) {}

  /** Append a node; returns its outputs (fresh names). */
  node(opType: OpType, inputs: string[], attrs: Record<string, Attr> = {}, outputs = 1): string[] {
    const outs = this.g.node(opType, inputs, attrs, outputs);
    const n = this.g.nodes[this.g.nodes.length - 1];
    const metas = inferNode(n, (name) => this.meta.get(name));
    outs.forEach((o, k) => this.meta.set(o, metas[k] ?? { dtype: null, shape: null }));
    this.stats.nodes++;
    return outs;
  }

  op(opType: OpType, inputs: string[], attrs: Record<string, Attr> = {}): string {
    return this.node(opType, inputs, attrs, 1)[0];
  }

  /** Append a node whose single output has a given name (used for graph outputs). */
  named(opType: OpType, inputs: string[], out: string, attrs: Record<string, Attr> = {}): string {
    this.g.node(opType, inputs, attrs, [out]);
    const n = this.g.nodes[this.g.nodes.length - 1];
    this.meta.set(out, inferNode(n, (name) => this.meta.get(name))[0] ?? { dtype: null, shape: null });
    this.stats.nodes++;
    return out;
  }

  metaOf(v: string): ValueMeta {
    return this.meta.get(v) ?? { dtype: null, shape: null };
  }

  dtypeOf(v: string): DType {
    const d = this.metaOf(v).dtype;
    if (!d) throw new Error(`autodiff: the dtype of ${v} is unknown`);
    return d;
  }

  rankOf(v: string): number | null {
    return this.metaOf(v).shape?.length ?? null;
  }

  requireRank(v: string, why: string): number {
    const r = this.rankOf(v);
    if (r === null) throw new Error(`autodiff: ${why} needs the rank of ${v}, which could not be inferred`);
    return r;
  }

  /** Float constant of the given dtype (rank 0 unless dims given). */
  fconst(value: number | number[], dtype: DType, dims: number[] = []): string {
    const vals = Float32Array.from(typeof value === 'number' ? [value] : value);
    let name: string;
    if (dtype === 'float16') name = this.g.constant({ dtype: 'float16', dims, data: f32ArrayToF16(vals) }, 'f16');
    else if (dtype === 'float32') name = this.g.f32(vals, dims);
    else throw new Error(`autodiff: no float constant of dtype ${dtype}`);
    this.meta.set(name, metaOfConst(dtype, dims, vals));
    return name;
  }

  /** Scalar constant of the same float dtype as `like`. */
  scalarLike(value: number, like: string): string {
    return this.fconst(value, this.dtypeOf(like));
  }

  i64(values: number[], dims: number[] = [values.length]): string {
    const vals = values.map((v) => Math.max(-I64_LIMIT, Math.min(I64_LIMIT, v)));
    const name = this.g.i64(vals, dims);
    this.meta.set(name, metaOfConst('int64', dims, vals));
    return name;
  }

  shapeOf(v: string): string {
    let s = this.shapeCache.get(v);
    if (!s) this.shapeCache.set(v, (s = this.op('Shape', [v])));
    return s;
  }

  /** A zero tensor with v's shape and dtype. */
  zerosLike(v: string): string {
    const dt = this.dtypeOf(v);
    return this.op('ConstantOfShape', [this.shapeOf(v)], { value: attr.tensor(zeroTensor(dt, 0)) });
  }

  /** A tensor of `value` with the given runtime shape (int64 vector) and dtype. */
  filled(shape: string, value: number, dtype: DType): string {
    return this.op('ConstantOfShape', [shape], { value: attr.tensor(zeroTensor(dtype, value)) });
  }

  /**
   * Record that `grad` has the runtime shape of `like` (every gradient has its value's shape):
   * fills in dims (or the rank) that inference left unknown.
   */
  refine(grad: string, like: string): void {
    const m = this.meta.get(grad);
    const ls = this.metaOf(like).shape;
    if (!m || !ls) return;
    if (!m.shape) m.shape = [...ls];
    else if (m.shape.length === ls.length) m.shape = m.shape.map((d, i) => d ?? ls[i]);
  }

  /** True when both values provably have the same shape. */
  sameShape(a: string, b: string): boolean {
    const sa = this.metaOf(a).shape;
    const sb = this.metaOf(b).shape;
    return !!sa && !!sb && sa.length === sb.length && sa.every((d, i) => monoEq(d, sb[i]));
  }

  /** Reshape `v` to `like`'s shape unless it provably has it already. */
  reshapeLike(v: string, like: string): string {
    if (this.sameShape(v, like)) return v;
    return this.op('Reshape', [v, this.shapeOf(like)]);
  }

  /**
   * Sum the gradient `grad` (shaped like the broadcast result) back to the shape of `target`
   * (one of the operands). Static when the broadcast axes are provable from the inferred
   * shapes; otherwise computed at runtime from Shape(grad) and Shape(target):
   *   padded = [1]*(rank(grad)-rank(target)) ++ Shape(target)
   *   axes   = NonZero(Not(Equal(padded, Shape(grad))))
   *   ReduceSum(grad, axes, keepdims=1, noop_with_empty_axes=1) reshaped to Shape(target).
   */
  reduceTo(grad: string, target: string): string {
    const gs = this.metaOf(grad).shape;
    const ts = this.metaOf(target).shape;
    if (this.opts.broadcast === 'static' && gs && ts && ts.length <= gs.length) {
      const lead = gs.length - ts.length;
      const axes: number[] = Array.from({ length: lead }, (_, i) => i);
      let ok = true;
      for (let i = 0; i < ts.length && ok; i++) {
        const a = ts[i];
        const y = gs[lead + i];
        if (isNum(a, 1)) {
          if (!isNum(y, 1)) axes.push(lead + i);
        } else if (!monoEq(a, y)) ok = false;
      }
      if (ok) {
        if (axes.length === 0) return grad;
        this.stats.staticReductions++;
        let r = this.op('ReduceSum', [grad, this.i64(axes)], { keepdims: attr.int(1) });
        if (lead > 0) r = this.op('Squeeze', [r, this.i64(Array.from({ length: lead }, (_, i) => i))]);
        return r;
      }
    }
    this.stats.runtimeReductions++;
    this.stats.runtimeSites.push(`${target} ${fmtShape(ts)} <- ${fmtShape(gs)}`);
    const sy = this.shapeOf(grad);
    const sa = this.shapeOf(target);
    const extra = this.op('Sub', [this.op('Shape', [sy]), this.op('Shape', [sa])]);
    const ones = this.op('ConstantOfShape', [extra], { value: attr.tensor({ dtype: 'int64', dims: [1], data: BigInt64Array.of(1n) }) });
    const padded = this.op('Concat', [ones, sa], { axis: attr.int(0) });
    const differ = this.op('Not', [this.op('Equal', [padded, sy])]);
    const axes = this.op('Reshape', [this.op('NonZero', [differ]), this.i64([-1])]);
    const summed = this.op('ReduceSum', [grad, axes], { keepdims: attr.int(1), noop_with_empty_axes: attr.int(1) });
    return this.op('Reshape', [summed, sa]);
  }

  /** Transpose the last two axes (rank >= 2). */
  transposeLast2(v: string): string {
    const r = this.requireRank(v, 'MatMul backward');
    const perm = Array.from({ length: r }, (_, i) => i);
    [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
    return this.op('Transpose', [v], { perm: attr.ints(perm) });
  }

  /** Accumulate gradient contributions (in order) with Add. */
  sum(parts: string[]): string {
    let acc = parts[0];
    for (let i = 1; i < parts.length; i++) acc = this.op('Add', [acc, parts[i]]);
    return acc;
  }
}

function zeroTensor(dtype: DType, value: number) {
  switch (dtype) {
    case 'float32':
      return { dtype, dims: [1], data: Float32Array.of(value) };
    case 'float16':
      return { dtype, dims: [1], data: f32ArrayToF16(Float32Array.of(value)) };
    case 'int64':
      return { dtype, dims: [1], data: BigInt64Array.of(BigInt(value)) };
    case 'int32':
      return { dtype, dims: [1], data: Int32Array.of(value) };
    default:
      throw new Error(`autodiff: no filled tensor of dtype ${dtype}`);
  }
}

