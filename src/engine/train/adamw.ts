/**
 * AdamW with global-norm gradient clipping and a learning-rate schedule, in two forms behind
 * one interface (`Optimizer`):
 *
 *  - `HostAdamW`: Float32Array arithmetic on the host. Every operation is rounded to float32
 *    (`Math.fround`) in the order PyTorch's single-tensor CPU kernel uses, so it reproduces
 *    `torch.optim.AdamW` (amsgrad off, maximize off) step for step:
 *        p <- p * (1 - lr * wd)                      decoupled weight decay
 *        m <- m + (1 - beta1) * (g - m)              exp_avg.lerp_(g, 1 - beta1)
 *        v <- v * beta2 + ((1 - beta2) * g) * g      exp_avg_sq.mul_(beta2).addcmul_(g, g, 1 - beta2)
 *        denom = sqrt(v) / sqrt(1 - beta2^t) + eps
 *        p <- p + (-(lr / (1 - beta1^t)) * m) / denom
 *  - `GraphAdamW`: the same update as an ONNX graph (`buildAdamWGraph`, opset 17) taking
 *    params, grads, m, v and the step scalars and returning new params, m, v. On WebGPU its
 *    sessions keep every output on the device (`preferredOutputLocation: 'gpu-buffer'`), so the
 *    optimizer state never leaves the GPU; only the global gradient norm (one float) is read
 *    back, from the small graph of `buildGradNormGraph`.
 *
 * Clipping follows `torch.nn.utils.clip_grad_norm_`: total = L2 norm over all gradients,
 * coef = min(1, maxNorm / (total + 1e-6)), every gradient multiplied by coef (always, even
 * when coef is 1). The schedule is constant, or a linear warm-up to the base rate over
 * `warmupSteps` optimizer steps (step t, counted from 1, uses lr * min(1, t / warmupSteps);
 * unlike transformers' constant-with-warmup schedule the first step is not taken at rate 0),
 * then constant.
 *
 * Gradient accumulation over micro-batches is a sum (`accumulate` on both forms); the train
 * graphs already divide by the token count of the whole batch, so the sum is the batch mean.
 */
import { attr, Graph } from '../onnx/graph';
import { createGraphSession, disposeTensor, type TensorMap } from '../runtime/graph-session';
import { resolveTrainConfig, TRAIN_DEFAULTS, type OptimizerConfig } from './config';
import type { EngineBackend, OrtModule, OrtSession, OrtTensor } from '../runtime/ort-types';

/** AdamW's settings; defaults and ranges are TrainConfig's (config.ts). */
export type AdamWConfig = OptimizerConfig;

export const ADAMW_DEFAULTS: AdamWConfig = TRAIN_DEFAULTS.optimizer;

/** The epsilon `clip_grad_norm_` adds to the norm before dividing. */
export const CLIP_EPS = 1e-6;

/** One trainable tensor: its name (the graph input it feeds), shape, and whether it decays. */
export interface ParamSpec {
  name: string;
  dims: number[];
  /** Apply weight decay (default true, like torch.optim.AdamW on a plain parameter list). */
  decay?: boolean;
}

export interface OptimizerStepInfo {
  /** Optimizer steps taken so far, this one included. */
  step: number;
  lr: number;
  /** Global L2 norm of the gradients before clipping. */
  gradNorm: number;
  /** Factor the gradients were multiplied by (1 when not clipped). */
  clipScale: number;
}


export interface OptimizerState {
  step: number;
  m: Map<string, Float32Array>;
  v: Map<string, Float32Array>;
}

/** What both AdamW forms do; tensors are keyed by `ParamSpec.name`. */
export interface Optimizer {
  readonly kind: 'host' | 'graph';
  readonly specs: readonly ParamSpec[];
  readonly config: AdamWConfig;
  readonly stepCount: number;
  /** Global L2 norm of `grads` (over every spec'd tensor). */
  gradNorm(grads: TensorMap): Promise<number>;
  /** Sum of two gradient sets (micro-batch accumulation). */
  accumulate(acc: TensorMap, grads: TensorMap): Promise<TensorMap>;
  /**
   * One AdamW step: clip `grads` by the global norm, update m and v, return the new params.
   * The caller owns `params` and `grads` (they are not disposed here).
   */
  update(params: TensorMap, grads: TensorMap): Promise<{ params: TensorMap; info: OptimizerStepInfo }>;
  exportState(): Promise<OptimizerState>;
  /** Replace the step count and moments (a checkpoint resumed); shapes are checked against the specs. */
  importState(state: OptimizerState): Promise<void>;
  release(): Promise<void>;
}

/** Throws unless `state` holds a moment of the right size for every spec. */
export function checkOptimizerState(specs: readonly ParamSpec[], state: OptimizerState): void {
  if (!Number.isInteger(state.step) || state.step < 0) throw new Error(`optimizer state: step must be a whole number >= 0, got ${state.step}`);
  for (const s of specs) {
    const n = numel(s.dims);
    for (const [which, map] of [['m', state.m], ['v', state.v]] as const) {
      const a = map.get(s.name);
      if (!a || a.length !== n) throw new Error(`optimizer state: ${which} of ${s.name} is missing or not of size ${n}`);
    }
  }
}

export function resolveAdamWConfig(c: Partial<AdamWConfig> = {}): AdamWConfig {
  return resolveTrainConfig({ optimizer: c }).optimizer;
}

/** Learning rate of optimizer step `step` (1-based). */
export function scheduledLr(cfg: AdamWConfig, step: number): number {
  if (cfg.warmupSteps > 0 && step < cfg.warmupSteps) return (cfg.lr * step) / cfg.warmupSteps;
  return cfg.lr;
}

/** `clip_grad_norm_`'s multiplier for a total norm. */
export function clipScaleFor(totalNorm: number, maxNorm: number | null): number {
  if (!Number.isFinite(totalNorm)) throw new Error(`gradient norm is ${totalNorm}; refusing to step (the parameters are unchanged)`);
  if (maxNorm === null) return 1;
  return Math.min(1, Math.fround(maxNorm / Math.fround(totalNorm + CLIP_EPS)));
}

/** Scalars one step needs, rounded to float32 as PyTorch casts Python floats for fp32 tensors. */
export interface StepScalars {
  lr: number;
  /** 1 - lr * wd */
  decay: number;
  /** -(lr / (1 - beta1^t)) */
  negStepSize: number;
  /** sqrt(1 - beta2^t) */
  bc2Sqrt: number;
  /** 1 - beta1 (the lerp weight) */
  oneMinusBeta1: number;
  /** 1 - beta2 */
  oneMinusBeta2: number;
  beta2: number;
  eps: number;
}

export function stepScalars(cfg: AdamWConfig, step: number): StepScalars {
  const lr = scheduledLr(cfg, step);
  const bc1 = 1 - Math.pow(cfg.beta1, step);
  const bc2 = 1 - Math.pow(cfg.beta2, step);
  const f = Math.fround;
  return {
    lr,
    decay: f(1 - lr * cfg.weightDecay),
    negStepSize: f(-(lr / bc1)),
    bc2Sqrt: f(Math.sqrt(bc2)),
    oneMinusBeta1: f(1 - cfg.beta1),
    oneMinusBeta2: f(1 - cfg.beta2),
    beta2: f(cfg.beta2),
    eps: f(cfg.eps),
  };
}

function numel(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

function checkSpecs(specs: readonly ParamSpec[]): void {
  if (specs.length === 0) throw new Error('optimizer: no parameters');
  const seen = new Set<string>();
  for (const s of specs) {
    if (seen.has(s.name)) throw new Error(`optimizer: parameter ${s.name} listed twice`);
    seen.add(s.name);
  }
}

function need(map: TensorMap, name: string, what: string): OrtTensor {
  const t = map[name];
  if (!t) throw new Error(`optimizer: ${what} for ${name} is missing`);
  return t;
}

// ---------------------------------------------------------------------------------------------
// Host form

/**
 * The in-place host update of one tensor (PyTorch's operation order, float32 rounding).
 * `g` must already be clipped. Exposed for tests and for callers that hold Float32Arrays.
 */
export function adamwUpdateInPlace(p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, s: StepScalars, decay: boolean): void {
  const f = Math.fround;
  const n = p.length;
  if (g.length !== n || m.length !== n || v.length !== n) throw new Error('adamw: size mismatch');
  for (let i = 0; i < n; i++) {
    const gi = g[i];
    const pi = decay ? f(p[i] * s.decay) : p[i];
    const mi = f(m[i] + f(s.oneMinusBeta1 * f(gi - m[i])));
    const vi = f(f(v[i] * s.beta2) + f(f(s.oneMinusBeta2 * gi) * gi));
    const denom = f(f(f(Math.sqrt(vi)) / s.bc2Sqrt) + s.eps);
    p[i] = f(pi + f(f(s.negStepSize * mi) / denom));
    m[i] = mi;
    v[i] = vi;
  }
}

/** Global L2 norm (float64 accumulation) of a set of arrays. */
export function globalNorm(arrays: Iterable<Float32Array>): number {
  let sq = 0;
  for (const a of arrays) for (let i = 0; i < a.length; i++) sq += a[i] * a[i];
  return Math.sqrt(sq);
}

export class HostAdamW implements Optimizer {
  readonly kind = 'host' as const;
  readonly config: AdamWConfig;
  private m = new Map<string, Float32Array>();
  private v = new Map<string, Float32Array>();
  private t = 0;

  constructor(readonly specs: readonly ParamSpec[], config: Partial<AdamWConfig> = {}, private readonly T?: OrtModule['Tensor']) {
    checkSpecs(specs);
    this.config = resolveAdamWConfig(config);
    for (const s of specs) {
      this.m.set(s.name, new Float32Array(numel(s.dims)));
      this.v.set(s.name, new Float32Array(numel(s.dims)));
    }
  }

  get stepCount(): number {
    return this.t;
  }

  /**
   * One step on host arrays, in place (params and grads are modified: grads are clipped).
   * Returns what happened.
   */
  stepArrays(params: Map<string, Float32Array>, grads: Map<string, Float32Array>): OptimizerStepInfo {
    for (const s of this.specs) {
      const n = numel(s.dims);
      if (params.get(s.name)?.length !== n) throw new Error(`optimizer: parameter ${s.name} missing or not of size ${n}`);
      if (grads.get(s.name)?.length !== n) throw new Error(`optimizer: gradient ${s.name} missing or not of size ${n}`);
    }
    const gradNorm = globalNorm(this.specs.map((s) => grads.get(s.name)!));
    const clipScale = clipScaleFor(gradNorm, this.config.maxGradNorm);
    if (this.config.maxGradNorm !== null) {
      for (const s of this.specs) {
        const g = grads.get(s.name)!;
        for (let i = 0; i < g.length; i++) g[i] = Math.fround(g[i] * clipScale);
      }
    }
    this.t++;
    const sc = stepScalars(this.config, this.t);
    for (const s of this.specs) {
      adamwUpdateInPlace(params.get(s.name)!, grads.get(s.name)!, this.m.get(s.name)!, this.v.get(s.name)!, sc, s.decay ?? true);
    }
    return { step: this.t, lr: sc.lr, gradNorm, clipScale };
  }

  private tensorCtor(): OrtModule['Tensor'] {
    if (!this.T) throw new Error('HostAdamW was built without a Tensor constructor; use stepArrays');
    return this.T;
  }

  async gradNorm(grads: TensorMap): Promise<number> {
    const arrays: Float32Array[] = [];
    for (const s of this.specs) arrays.push((await need(grads, s.name, 'gradient').getData()) as Float32Array);
    return globalNorm(arrays);
  }

  async accumulate(acc: TensorMap, grads: TensorMap): Promise<TensorMap> {
    const T = this.tensorCtor();
    const out: TensorMap = {};
    for (const s of this.specs) {
      const a = (await need(acc, s.name, 'accumulated gradient').getData()) as Float32Array;
      const b = (await need(grads, s.name, 'gradient').getData()) as Float32Array;
      const sum = new Float32Array(a.length);
      for (let i = 0; i < a.length; i++) sum[i] = a[i] + b[i];
      out[s.name] = new T('float32', sum, s.dims);
    }
    return out;
  }

  async update(params: TensorMap, grads: TensorMap): Promise<{ params: TensorMap; info: OptimizerStepInfo }> {
    const T = this.tensorCtor();
    const p = new Map<string, Float32Array>();
    const g = new Map<string, Float32Array>();
    for (const s of this.specs) {
      p.set(s.name, Float32Array.from((await need(params, s.name, 'parameter').getData()) as Float32Array));
      g.set(s.name, Float32Array.from((await need(grads, s.name, 'gradient').getData()) as Float32Array));
    }
    const info = this.stepArrays(p, g);
    const out: TensorMap = {};
    for (const s of this.specs) out[s.name] = new T('float32', p.get(s.name)!, s.dims);
    return { params: out, info };
  }

  async exportState(): Promise<OptimizerState> {
    return { step: this.t, m: new Map([...this.m].map(([k, a]) => [k, a.slice()])), v: new Map([...this.v].map(([k, a]) => [k, a.slice()])) };
  }

  async importState(state: OptimizerState): Promise<void> {
    checkOptimizerState(this.specs, state);
    this.t = state.step;
    for (const s of this.specs) {
      this.m.set(s.name, state.m.get(s.name)!.slice());
      this.v.set(s.name, state.v.get(s.name)!.slice());
    }
  }

  async release(): Promise<void> {}
}

// ---------------------------------------------------------------------------------------------
// Graph form

export const adamwNames = {
  param: (n: string) => `param.${n}`,
  grad: (n: string) => `grad.${n}`,
  m: (n: string) => `m.${n}`,
  v: (n: string) => `v.${n}`,
  newParam: (n: string) => `new_param.${n}`,
  newM: (n: string) => `new_m.${n}`,
  newV: (n: string) => `new_v.${n}`,
};

/** Scalar inputs of the AdamW graph (all float32, rank 0). */
export const ADAMW_SCALARS = ['decay', 'neg_step_size', 'bc2_sqrt', 'clip_scale'] as const;

/**
 * One AdamW step over every tensor in `specs`. Inputs: `param.<n>`, `grad.<n>` (unclipped),
 * `m.<n>`, `v.<n>` per tensor and the scalars `decay` (1 - lr*wd), `neg_step_size`
 * (-(lr / (1 - beta1^t))), `bc2_sqrt` (sqrt(1 - beta2^t)), `clip_scale`. Outputs
 * `new_param.<n>`, `new_m.<n>`, `new_v.<n>`. beta1, beta2 and eps are constants of the graph.
 */
export function buildAdamWGraph(specs: readonly ParamSpec[], c: Partial<AdamWConfig> = {}): Graph {
  checkSpecs(specs);
  const cfg = resolveAdamWConfig(c);
  const g = new Graph('adamw');
  const [decay, negStep, bc2Sqrt, clip] = ADAMW_SCALARS.map((n) => g.input(n, 'float32', []));
  const f = Math.fround;
  const w1 = g.scalar(f(1 - cfg.beta1));
  const b2 = g.scalar(f(cfg.beta2));
  const w2 = g.scalar(f(1 - cfg.beta2));
  const eps = g.scalar(f(cfg.eps));
  for (const s of specs) {
    const p = g.input(adamwNames.param(s.name), 'float32', s.dims);
    const gr = g.input(adamwNames.grad(s.name), 'float32', s.dims);
    const m = g.input(adamwNames.m(s.name), 'float32', s.dims);
    const v = g.input(adamwNames.v(s.name), 'float32', s.dims);
    // Multiplying by a clip scale of exactly 1 is exact, so the unclipped case needs no branch.
    const gc = g.op('Mul', [gr, clip]);
    const pd = (s.decay ?? true) ? g.op('Mul', [p, decay]) : p;
    const m1 = g.op('Add', [m, g.op('Mul', [w1, g.op('Sub', [gc, m])])], {}, adamwNames.newM(s.name));
    const v1 = g.op('Add', [g.op('Mul', [v, b2]), g.op('Mul', [g.op('Mul', [w2, gc]), gc])], {}, adamwNames.newV(s.name));
    const denom = g.op('Add', [g.op('Div', [g.op('Sqrt', [v1]), bc2Sqrt]), eps]);
    g.op('Add', [pd, g.op('Div', [g.op('Mul', [negStep, m1]), denom])], {}, adamwNames.newParam(s.name));
    g.output(adamwNames.newParam(s.name), 'float32', s.dims);
    g.output(adamwNames.newM(s.name), 'float32', s.dims);
    g.output(adamwNames.newV(s.name), 'float32', s.dims);
  }
  return g;
}

/** Inputs `grad.<n>`; output `grad_norm` = sqrt(sum of squares of every element). */
export function buildGradNormGraph(specs: readonly ParamSpec[]): Graph {
  checkSpecs(specs);
  const g = new Graph('grad_norm');
  let acc = '';
  for (const s of specs) {
    const x = g.input(adamwNames.grad(s.name), 'float32', s.dims);
    const sq = g.op('ReduceSumSquare', [x], { keepdims: attr.int(0) });
    acc = acc ? g.op('Add', [acc, sq]) : sq;
  }
  g.op('Sqrt', [acc], {}, 'grad_norm');
  g.output('grad_norm', 'float32', []);
  return g;
}

/** Inputs `acc.<n>`, `grad.<n>`; outputs `sum.<n>` = acc + grad. */
export function buildAccumulateGraph(specs: readonly ParamSpec[]): Graph {
  checkSpecs(specs);
  const g = new Graph('grad_accumulate');
  for (const s of specs) {
    const a = g.input(`acc.${s.name}`, 'float32', s.dims);
    const b = g.input(adamwNames.grad(s.name), 'float32', s.dims);
    g.op('Add', [a, b], {}, `sum.${s.name}`);
    g.output(`sum.${s.name}`, 'float32', s.dims);
  }
  return g;
}

export class GraphAdamW implements Optimizer {
  readonly kind = 'graph' as const;
  readonly config: AdamWConfig;
  private m: TensorMap = {};
  private v: TensorMap = {};
  private t = 0;
  private adam: Promise<OrtSession> | null = null;
  private norm: Promise<OrtSession> | null = null;
  private acc: Promise<OrtSession> | null = null;

  constructor(private readonly backend: EngineBackend, readonly specs: readonly ParamSpec[], config: Partial<AdamWConfig> = {}) {
    checkSpecs(specs);
    this.config = resolveAdamWConfig(config);
    const T = backend.ort.Tensor;
    for (const s of specs) {
      // Zeros start on the host; the first step's outputs replace them with device tensors.
      this.m[s.name] = new T('float32', new Float32Array(numel(s.dims)), s.dims);
      this.v[s.name] = new T('float32', new Float32Array(numel(s.dims)), s.dims);
    }
  }

  get stepCount(): number {
    return this.t;
  }

  private normSession(): Promise<OrtSession> {
    return (this.norm ??= createGraphSession(this.backend, buildGradNormGraph(this.specs)));
  }

  async gradNorm(grads: TensorMap): Promise<number> {
    const feeds: TensorMap = {};
    for (const s of this.specs) feeds[adamwNames.grad(s.name)] = need(grads, s.name, 'gradient');
    const out = await (await this.normSession()).run(feeds);
    return ((await out.grad_norm.getData()) as Float32Array)[0];
  }

  async accumulate(acc: TensorMap, grads: TensorMap): Promise<TensorMap> {
    this.acc ??= createGraphSession(this.backend, buildAccumulateGraph(this.specs), () => true);
    const feeds: TensorMap = {};
    for (const s of this.specs) {
      feeds[`acc.${s.name}`] = need(acc, s.name, 'accumulated gradient');
      feeds[adamwNames.grad(s.name)] = need(grads, s.name, 'gradient');
    }
    const out = await (await this.acc).run(feeds);
    const res: TensorMap = {};
    for (const s of this.specs) res[s.name] = out[`sum.${s.name}`];
    return res;
  }

  async update(params: TensorMap, grads: TensorMap): Promise<{ params: TensorMap; info: OptimizerStepInfo }> {
    const gradNorm = await this.gradNorm(grads);
    const clipScale = clipScaleFor(gradNorm, this.config.maxGradNorm);
    const step = this.t + 1;
    const sc = stepScalars(this.config, step);
    this.adam ??= createGraphSession(this.backend, buildAdamWGraph(this.specs, this.config), () => true);
    const T = this.backend.ort.Tensor;
    const scalar = (x: number) => new T('float32', Float32Array.of(x), []);
    const feeds: TensorMap = {
      decay: scalar(sc.decay),
      neg_step_size: scalar(sc.negStepSize),
      bc2_sqrt: scalar(sc.bc2Sqrt),
      clip_scale: scalar(clipScale),
    };
    for (const s of this.specs) {
      feeds[adamwNames.param(s.name)] = need(params, s.name, 'parameter');
      feeds[adamwNames.grad(s.name)] = need(grads, s.name, 'gradient');
      feeds[adamwNames.m(s.name)] = this.m[s.name];
      feeds[adamwNames.v(s.name)] = this.v[s.name];
    }
    const out = await (await this.adam).run(feeds);
    const newParams: TensorMap = {};
    for (const s of this.specs) {
      disposeTensor(this.m[s.name]);
      disposeTensor(this.v[s.name]);
      this.m[s.name] = out[adamwNames.newM(s.name)];
      this.v[s.name] = out[adamwNames.newV(s.name)];
      newParams[s.name] = out[adamwNames.newParam(s.name)];
    }
    this.t = step;
    return { params: newParams, info: { step, lr: sc.lr, gradNorm, clipScale } };
  }

  async exportState(): Promise<OptimizerState> {
    const m = new Map<string, Float32Array>();
    const v = new Map<string, Float32Array>();
    for (const s of this.specs) {
      m.set(s.name, Float32Array.from((await this.m[s.name].getData()) as Float32Array));
      v.set(s.name, Float32Array.from((await this.v[s.name].getData()) as Float32Array));
    }
    return { step: this.t, m, v };
  }

  async importState(state: OptimizerState): Promise<void> {
    checkOptimizerState(this.specs, state);
    const T = this.backend.ort.Tensor;
    for (const s of this.specs) {
      disposeTensor(this.m[s.name]);
      disposeTensor(this.v[s.name]);
      this.m[s.name] = new T('float32', state.m.get(s.name)!.slice(), s.dims);
      this.v[s.name] = new T('float32', state.v.get(s.name)!.slice(), s.dims);
    }
    this.t = state.step;
  }

  async release(): Promise<void> {
    for (const s of [this.adam, this.norm, this.acc]) if (s) await (await s).release();
    this.adam = this.norm = this.acc = null;
    for (const s of this.specs) {
      disposeTensor(this.m[s.name]);
      disposeTensor(this.v[s.name]);
    }
  }
}

export function createOptimizer(kind: 'host' | 'graph', backend: EngineBackend, specs: readonly ParamSpec[], config: Partial<AdamWConfig> = {}): Optimizer {
  return kind === 'host' ? new HostAdamW(specs, config, backend.ort.Tensor) : new GraphAdamW(backend, specs, config);
}
