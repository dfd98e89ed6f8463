/**
 * Finite-difference checking of gradient graphs with onnxruntime-node.
 *
 * A case builds a forward value `y` from graph inputs; the harness appends the loss
 * L = ReduceSum(y * R), where R is a fixed pseudo-random tensor of y's shape computed inside
 * the graph from Range(Size(y)) (a non-differentiable path, so it also exercises the stop-gradient
 * logic). The analytic gradient comes from running buildGradientGraph's graph once; the
 * numeric one from central differences of L evaluated by ORT, combined over step sizes by
 * Richardson extrapolation (cancels the h^2 term), in float64 on the host. Both run either as
 * built (float32) or with every float32 tensor serialized as float64 (./float64.ts).
 */
import * as ort from 'onnxruntime-node';
import { attr, Graph, type Dim } from '../../../src/engine/onnx/graph';
import { serializeGraph } from '../../../src/engine/onnx/serialize';
import { buildGradientGraphWithStats, type GradientOptions, type GradientStats } from '../../../src/engine/autodiff/autodiff';
import { Prng } from '../../../src/util/prng';
import { serializeAsFloat64 } from '../../support/float64-graph';

export type Feeds = Record<string, ort.Tensor>;

export type Precision = 'float32' | 'float64';

export async function session(g: Graph, precision: Precision = 'float32'): Promise<ort.InferenceSession> {
  const bytes = precision === 'float64' ? serializeAsFloat64(g) : serializeGraph(g);
  // ORT's fusions (e.g. QuickGelu for x*sigmoid(x)) have float32-only kernels: no fusion in float64.
  return ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], graphOptimizationLevel: precision === 'float64' ? 'basic' : 'all', intraOpNumThreads: 1 });
}

/** Float32 feeds as float64 tensors (other dtypes unchanged). */
export function toFloat64Feeds(feeds: Feeds): Feeds {
  const out: Feeds = {};
  for (const [k, t] of Object.entries(feeds)) out[k] = t.type === 'float32' ? new ort.Tensor('float64', Float64Array.from(t.data as Float32Array), t.dims as number[]) : t;
  return out;
}

export async function runOnce(g: Graph, feeds: Feeds): Promise<ort.InferenceSession.OnnxValueMapType> {
  const s = await session(g);
  try {
    return await s.run(feeds);
  } finally {
    await s.release();
  }
}

/** Append pseudo-random weights R (shape of y, values 0.5 + sin(12.9898 k + 0.5)) and L = sum(y * R). */
export function weightedSumLoss(g: Graph, y: string, name = 'loss'): string {
  const size = g.op('Size', [y]);
  const k = g.op('Cast', [g.op('Range', [g.i64([0], []), size, g.i64([1], [])])], { to: attr.int(1) });
  const r0 = g.op('Reshape', [g.op('Sin', [g.op('Add', [g.op('Mul', [k, g.scalar(12.9898)]), g.scalar(0.5)])]), g.op('Shape', [y])]);
  const r = g.op('Add', [r0, g.scalar(0.5)]);
  g.op('ReduceSum', [g.op('Mul', [y, r])], { keepdims: attr.int(0) }, name);
  g.output(name, 'float32', []);
  return name;
}

export function randn(n: number, seed: number, scale = 1, offset = 0): Float32Array {
  const rng = new Prng(seed);
  return Float32Array.from({ length: n }, () => offset + scale * rng.normal());
}

export function uniform(n: number, seed: number, lo: number, hi: number): Float32Array {
  const rng = new Prng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.next());
}

export function tensor(data: Float32Array | BigInt64Array, dims: number[]): ort.Tensor {
  return data instanceof BigInt64Array ? new ort.Tensor('int64', data, dims) : new ort.Tensor('float32', data, dims);
}

export function i64(values: number[]): BigInt64Array {
  return BigInt64Array.from(values.map((v) => BigInt(v)));
}

export interface CheckResult {
  /** ||g - fd|| / ||fd|| over the checked coordinates, per wrt. */
  errors: Record<string, number>;
  /** The largest of them. */
  worst: number;
  stats: GradientStats;
  grads: Record<string, Float32Array | Float64Array>;
  /** The checked coordinates and their finite-difference values, per wrt. */
  fd: Record<string, { idx: number[]; values: number[] }>;
}

export interface FdOptions {
  /** Step sizes for the Richardson pair (h and h/2 are used); default 1e-2. */
  h?: number;
  /** Coordinates checked per tensor (all when the tensor is smaller); default 24. */
  coords?: number;
  /** Optional: choose the coordinates (e.g. embedding rows that are used). */
  pick?: (wrt: string, size: number, rng: Prng) => number[];
  seed?: number;
  /**
   * 'float32' (default): the graphs run as built. 'float64': every float32 tensor is
   * serialized as float64 (tests/autodiff/float64.ts), which removes rounding noise from
   * both the analytic gradient and the finite differences.
   */
  precision?: Precision;
  /**
   * 'ladder' (default): central differences at 8h, 4h, 2h, h, h/2, Richardson-combined in
   * consecutive pairs, keeping the two most consistent estimates (noise vs truncation is
   * resolved per coordinate without looking at the analytic gradient). 'richardson': h and
   * h/2 only. 'plain': one central difference at h.
   */
  mode?: 'ladder' | 'richardson' | 'plain';
  /** Multiples of h for the ladder (default 8, 4, 2, 1, 0.5). */
  ladder?: number[];
}

/**
 * Compare the gradient graph of `g` (which must already output the scalar `loss`) with
 * finite differences of `loss`, for each float input in `wrt`.
 */
export async function fdCheck(g: Graph, feeds32: Feeds, wrt: string[], gradOpts: Partial<GradientOptions> = {}, fd: FdOptions = {}): Promise<CheckResult> {
  const loss = gradOpts.loss ?? 'loss';
  const precision = fd.precision ?? 'float32';
  const f64 = precision === 'float64';
  const feeds = f64 ? toFloat64Feeds(feeds32) : feeds32;
  const { graph: gg, stats } = buildGradientGraphWithStats(g, { loss, wrt, ...gradOpts });
  const gs = await session(gg, precision);
  const ls = await session(g, precision);
  const round = f64 ? (v: number) => v : Math.fround;
  try {
    const res = await gs.run(feeds);
    const fwd = await ls.run(feeds, [loss]);
    const l0 = (fwd[loss].data as Float32Array)[0];
    const lg = (res[loss].data as Float32Array)[0];
    if (Math.abs(l0 - lg) > 1e-5 * (1 + Math.abs(l0))) throw new Error(`loss differs between the forward (${l0}) and gradient (${lg}) graphs`);
    const h = fd.h ?? 1e-2;
    const rng = new Prng(fd.seed ?? 1234);
    const errors: Record<string, number> = {};
    const grads: Record<string, Float32Array | Float64Array> = {};
    const fdOut: CheckResult['fd'] = {};
    for (const w of wrt) {
      const gname = gradOpts.gradName ? gradOpts.gradName(w) : `grad.${w}`;
      const gt = res[gname];
      const base = feeds[w];
      if (!gt) throw new Error(`no gradient output ${gname}`);
      if (gt.dims.join(',') !== base.dims.join(',')) throw new Error(`gradient ${gname} has shape [${gt.dims}], input has [${base.dims}]`);
      const gdata = gt.data as Float32Array | Float64Array;
      grads[w] = gdata;
      const x = f64 ? Float64Array.from(base.data as Float64Array) : Float32Array.from(base.data as Float32Array);
      const n = x.length;
      const want = fd.coords ?? 24;
      let idx: number[];
      if (fd.pick) idx = fd.pick(w, n, rng);
      else if (n <= want) idx = Array.from({ length: n }, (_, i) => i);
      else {
        const set = new Set<number>();
        while (set.size < want) set.add(Math.floor(rng.next() * n));
        idx = [...set];
      }
      const evalAt = async (i: number, delta: number): Promise<number> => {
        const old = x[i];
        x[i] = old + delta;
        const t = f64 ? new ort.Tensor('float64', Float64Array.from(x), base.dims as number[]) : new ort.Tensor('float32', Float32Array.from(x), base.dims as number[]);
        const out = await ls.run({ ...feeds, [w]: t }, [loss]);
        x[i] = old;
        return (out[loss].data as Float32Array)[0];
      };
      let num2 = 0;
      let den2 = 0;
      const values: number[] = [];
      fdOut[w] = { idx, values };
      for (const i of idx) {
        // The actual perturbation is what float32 can represent.
        const central = async (step: number) => {
          const up = round(x[i] + step) - x[i];
          const dn = x[i] - round(x[i] - step);
          return ((await evalAt(i, up)) - (await evalAt(i, -dn))) / (up + dn);
        };
        let fdv: number;
        if (fd.mode === 'plain') fdv = await central(h);
        else if (fd.mode === 'richardson') {
          const d1 = await central(h);
          fdv = (4 * (await central(h / 2)) - d1) / 3;
        } else {
          // Step ladder 8h .. h/2; Richardson on consecutive pairs; keep the most stable pair.
          const ds: number[] = [];
          for (const m of fd.ladder ?? [8, 4, 2, 1, 0.5]) ds.push(await central(h * m));
          const rs = ds.slice(1).map((d, k) => (4 * d - ds[k]) / 3);
          let best = 0;
          for (let k = 1; k < rs.length - 1; k++) if (Math.abs(rs[k] - rs[k + 1]) < Math.abs(rs[best] - rs[best + 1])) best = k;
          fdv = (rs[best] + rs[best + 1]) / 2;
        }
        values.push(fdv);
        num2 += (gdata[i] - fdv) ** 2;
        den2 += fdv ** 2;
      }
      errors[w] = den2 === 0 ? Math.sqrt(num2) : Math.sqrt(num2 / den2);
    }
    return { errors, worst: Math.max(0, ...Object.values(errors)), stats, grads, fd: fdOut };
  } finally {
    await gs.release();
    await ls.release();
  }
}

export interface InputSpec {
  name: string;
  dims: number[];
  /** Declared shape (symbolic names allowed); defaults to dims. */
  declared?: Dim[];
  data: Float32Array | BigInt64Array;
}

/**
 * Build a graph from input specs and a forward function, add the weighted-sum loss, and
 * check every float input named in `wrt` (default: all float inputs).
 */
export async function checkCase(
  inputs: InputSpec[],
  forward: (g: Graph, v: Record<string, string>) => string,
  opts: { wrt?: string[]; grad?: Partial<GradientOptions>; fd?: FdOptions } = {},
): Promise<CheckResult> {
  const g = new Graph('case');
  const v: Record<string, string> = {};
  const feeds: Feeds = {};
  for (const s of inputs) {
    v[s.name] = g.input(s.name, s.data instanceof BigInt64Array ? 'int64' : 'float32', s.declared ?? s.dims);
    feeds[s.name] = tensor(s.data, s.dims);
  }
  const y = forward(g, v);
  weightedSumLoss(g, y);
  const wrt = opts.wrt ?? inputs.filter((s) => s.data instanceof Float32Array).map((s) => s.name);
  return fdCheck(g, feeds, wrt, opts.grad ?? {}, opts.fd ?? {});
}

export function fmtErrors(errors: Record<string, number>): string {
  return Object.entries(errors)
    .map(([k, e]) => `${k}=${e.toExponential(2)}`)
    .join(' ');
}

/** Run the gradient graph of `g` (float32, as built) and return the gradients of `wrt`. */
export async function gradients(g: Graph, feeds: Feeds, wrt: string[], gradOpts: Partial<GradientOptions> = {}): Promise<Record<string, Float32Array>> {
  const loss = gradOpts.loss ?? 'loss';
  const { graph } = buildGradientGraphWithStats(g, { loss, wrt, ...gradOpts });
  const res = await runOnce(graph, feeds);
  const out: Record<string, Float32Array> = {};
  for (const w of wrt) out[w] = res[gradOpts.gradName ? gradOpts.gradName(w) : `grad.${w}`].data as Float32Array;
  return out;
}

/** ||g - fd|| / ||fd|| at the coordinates where `fd` was measured. */
export function errorsAt(grads: Record<string, ArrayLike<number>>, fd: CheckResult['fd']): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [w, { idx, values }] of Object.entries(fd)) {
    let num2 = 0;
    let den2 = 0;
    idx.forEach((i, k) => {
      num2 += (grads[w][i] - values[k]) ** 2;
      den2 += values[k] ** 2;
    });
    out[w] = den2 === 0 ? Math.sqrt(num2) : Math.sqrt(num2 / den2);
  }
  return out;
}
