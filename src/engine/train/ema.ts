/**
 * Exponential moving average of the student for the teacher (PMD step 9):
 *     teacher <- (1 - tau) * teacher + tau * student          (tau 0.05 by default)
 * computed as `teacher.mul_(1 - tau).add_(student, alpha=tau)` in float32, on the host
 * (`emaUpdateInPlace`) or as an ONNX graph (`buildEmaGraph`) whose outputs stay on the device
 * on WebGPU. With LoRA the tensors are the adapter's A and B factors; with full fine-tuning,
 * the trainable weights.
 */
import { Graph } from '../onnx/graph';
import type { EngineBackend, OrtSession } from '../runtime/ort-types';
import { createGraphSession, type TensorMap } from '../runtime/graph-session';
import type { ParamSpec } from './adamw';
import { TRAIN_DEFAULTS } from './config';

export const EMA_DEFAULT_TAU = TRAIN_DEFAULTS.emaTau;

export function checkTau(tau: number): void {
  if (!(tau >= 0 && tau <= 1)) throw new Error(`EMA tau must be in [0, 1], got ${tau}`);
}

/** teacher <- (1 - tau) teacher + tau student, in place, float32 rounding per operation. */
export function emaUpdateInPlace(teacher: Float32Array, student: Float32Array, tau: number): void {
  checkTau(tau);
  if (teacher.length !== student.length) throw new Error(`EMA: teacher has ${teacher.length} values, student ${student.length}`);
  const f = Math.fround;
  const keep = f(1 - tau);
  const take = f(tau);
  for (let i = 0; i < teacher.length; i++) teacher[i] = f(f(teacher[i] * keep) + f(student[i] * take));
}

export const emaNames = {
  teacher: (n: string) => `teacher.${n}`,
  student: (n: string) => `student.${n}`,
  out: (n: string) => `new_teacher.${n}`,
};

/**
 * Inputs `teacher.<n>`, `student.<n>` per tensor and scalars `keep` (1 - tau) and `take` (tau);
 * outputs `new_teacher.<n>`.
 */
export function buildEmaGraph(specs: readonly ParamSpec[]): Graph {
  if (specs.length === 0) throw new Error('EMA: no tensors');
  const g = new Graph('ema');
  const keep = g.input('keep', 'float32', []);
  const take = g.input('take', 'float32', []);
  for (const s of specs) {
    const t = g.input(emaNames.teacher(s.name), 'float32', s.dims);
    const st = g.input(emaNames.student(s.name), 'float32', s.dims);
    g.op('Add', [g.op('Mul', [t, keep]), g.op('Mul', [st, take])], {}, emaNames.out(s.name));
    g.output(emaNames.out(s.name), 'float32', s.dims);
  }
  return g;
}

/** Host and graph EMA behind one call; tensors keyed by ParamSpec name. */
export interface EmaUpdater {
  /** Returns the new teacher tensors; the caller owns (and may dispose) the old ones. */
  update(teacher: TensorMap, student: TensorMap, tau: number): Promise<TensorMap>;
  release(): Promise<void>;
}

export class HostEma implements EmaUpdater {
  constructor(private readonly backend: EngineBackend, readonly specs: readonly ParamSpec[]) {}

  async update(teacher: TensorMap, student: TensorMap, tau: number): Promise<TensorMap> {
    const T = this.backend.ort.Tensor;
    const out: TensorMap = {};
    for (const s of this.specs) {
      if (!teacher[s.name] || !student[s.name]) throw new Error(`EMA: ${s.name} is missing`);
      const t = Float32Array.from((await teacher[s.name].getData()) as Float32Array);
      emaUpdateInPlace(t, (await student[s.name].getData()) as Float32Array, tau);
      out[s.name] = new T('float32', t, s.dims);
    }
    return out;
  }

  async release(): Promise<void> {}
}

export class GraphEma implements EmaUpdater {
  private session: Promise<OrtSession> | null = null;

  constructor(private readonly backend: EngineBackend, readonly specs: readonly ParamSpec[]) {}

  async update(teacher: TensorMap, student: TensorMap, tau: number): Promise<TensorMap> {
    checkTau(tau);
    this.session ??= createGraphSession(this.backend, buildEmaGraph(this.specs), () => true);
    const T = this.backend.ort.Tensor;
    const feeds: TensorMap = {
      keep: new T('float32', Float32Array.of(1 - tau), []),
      take: new T('float32', Float32Array.of(tau), []),
    };
    for (const s of this.specs) {
      if (!teacher[s.name] || !student[s.name]) throw new Error(`EMA: ${s.name} is missing`);
      feeds[emaNames.teacher(s.name)] = teacher[s.name];
      feeds[emaNames.student(s.name)] = student[s.name];
    }
    const res = await (await this.session).run(feeds);
    const out: TensorMap = {};
    for (const s of this.specs) out[s.name] = res[emaNames.out(s.name)];
    return out;
  }

  async release(): Promise<void> {
    if (this.session) await (await this.session).release();
    this.session = null;
  }
}

export function createEma(kind: 'host' | 'graph', backend: EngineBackend, specs: readonly ParamSpec[]): EmaUpdater {
  return kind === 'host' ? new HostEma(backend, specs) : new GraphEma(backend, specs);
}
