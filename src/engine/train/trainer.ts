/**
 * One training step of PMD (spec steps 7 to 9) over an EngineBackend, with no Node-only code,
 * so the CLI (onnxruntime-node) and the browser worker (onnxruntime-web, WebGPU) share it.
 *
 * The Trainer holds the base weights (uploaded once, or borrowed from a ModelRunner), the
 * student's trainable tensors (LoRA factors or all weights), the EMA teacher's copy of them,
 * and the AdamW state. `step(samples, loss)`:
 *   1. splits the samples into left-padded micro-batches (batching.ts);
 *   2. for distillation, per micro-batch: a student forward pass (buildStudentTopkGraph, no
 *      gradient) gives the student's top-k token ids at every position; they are moved to the
 *      teacher's layout, the teacher-scoring graph reads the teacher's log-probs at those ids
 *      (and the tail bucket) under the teacher's own context (`teacher_ids`), and the result
 *      is moved back to the student's positions; the train graph gets the same ids as its
 *      `topk_ids` input, so student and teacher buckets always match;
 *   3. runs the train-step graph per micro-batch (loss divided by the token count of the
 *      whole batch) and sums the gradients;
 *   4. clips by the global norm and takes an AdamW step (adamw.ts);
 *   5. updates the EMA teacher (ema.ts).
 * `evaluateGrad(samples, loss)` does 1 to 3 and returns the loss and the gradients.
 *
 * With `stateOn: 'graph'` (default) steps 3 to 5 run as small ONNX graphs and, on WebGPU,
 * every trainable tensor, gradient and moment stays in GPU buffers: per step only the loss,
 * the diagnostics, the gradient norm and (for distillation) the top-k ids and teacher
 * log-probs cross to the host. `stateOn: 'host'` does them in Float32Array math instead.
 *
 * The train-step, teacher-scoring and student top-k graphs come from train-graph.ts through
 * `TrainGraphBuilders` (replaceable). Feeds are picked by the graphs' declared input names,
 * and a missing one is an error naming it.
 */
import { Graph } from '../onnx/graph';
import { DECODER_INPUT } from '../models/decoder-graph';
import type { HostTensor, LoraAdapter, LoraTarget, ModelConfig, WeightMap } from '../models/types';
import { expectedWeights } from '../models/weight-layout';
import { uploadModelWeights } from '../runtime/upload';
import { NonFiniteError, type ModelRunner } from '../runtime/model-runner';
import { DecoderFeeds, loraScaleFeed, type DecoderRows } from '../runtime/decoder-session';
import { disposeTensor, GraphSessions, pickFeeds, type TensorMap } from '../runtime/graph-session';
import type { EngineBackend, OrtTensor } from '../runtime/ort-types';
import { createOptimizer, type AdamWConfig, type Optimizer, type OptimizerState } from './adamw';
import { createEma, EMA_DEFAULT_TAU, checkTau, type EmaUpdater } from './ema';
import { makeBatches, studentToTeacher, teacherToStudent, type MicroBatch, type TrainSample } from './batching';
import { cloneState, loraStateToAdapter, readBackState, stateTensors, type TrainableState } from './lora-state';
import { checkLossSpec, LOSS_INPUT, LOSS_OUTPUT, type LossSpec } from './losses';
import { buildStudentTopkGraph, buildTargetLogpGraph, buildTeacherScoringGraph, buildTrainStepGraph, type HeadOptions } from './train-graph';

export type { LossSpec };
export { checkLossSpec };

export interface TrainStepGraphOptions extends HeadOptions {
  loss: LossSpec;
  trainable: 'lora' | 'full';
  loraTargets: readonly LoraTarget[];
  weightDtype?: 'float32' | 'float16';
  recompute?: 'none' | 'layers';
}

export interface ScoringGraphOptions extends HeadOptions {
  topk: number;
  loraTargets: readonly LoraTarget[];
  weightDtype?: 'float32' | 'float16';
}

/** Where the train-step, teacher-scoring and student top-k graphs come from (train-graph.ts by default). */
export interface TrainGraphBuilders {
  trainStep(cfg: ModelConfig, opts: TrainStepGraphOptions): Graph | { graph: Graph };
  teacherScoring(cfg: ModelConfig, opts: ScoringGraphOptions): Graph | { graph: Graph };
  studentTopk(cfg: ModelConfig, opts: ScoringGraphOptions): Graph | { graph: Graph };
}

export const defaultTrainGraphs: TrainGraphBuilders = {
  trainStep: buildTrainStepGraph,
  teacherScoring: buildTeacherScoringGraph,
  studentTopk: buildStudentTopkGraph,
};

export interface TrainProgress {
  phase: 'student-topk' | 'teacher' | 'train' | 'optimizer' | 'ema';
  microBatch: number;
  microBatches: number;
}

export interface TrainerOptions {
  backend: EngineBackend;
  config: ModelConfig;
  /** Host weights (uploaded by the trainer) or tensors already on the backend (`runnerWeightFeeds`). */
  weights: WeightMap | Record<string, OrtTensor>;
  /** Starting trainable state: initLoraState, loraStateFromAdapter or fullState (copied). */
  state: TrainableState;
  /** Graph builders; default train-graph.ts. */
  graphs?: TrainGraphBuilders;
  /**
   * Teacher for distillation: 'ema' (default) keeps an EMA copy of the trainable tensors,
   * updated after every step; 'student' scores with the current student (no gradient).
   */
  teacher?: 'ema' | 'student';
  emaTau?: number;
  optimizer?: Partial<AdamWConfig>;
  /** 'graph' (default): optimizer, accumulation and EMA as ONNX graphs; 'host': Float32Array math. */
  stateOn?: 'graph' | 'host';
  /** Samples per micro-batch (gradients are accumulated over micro-batches). Default: all. */
  microBatchSize?: number;
  /** Vocabulary chunk of the LM head in every training graph (train-graph.ts HeadOptions; 0: unchunked). */
  vocabChunk?: number;
  /**
   * 'layers': recompute each layer's activations in the backward pass (less memory, one more
   * forward pass). Default: 'layers' for LoRA on the CPU backends (node-cpu, wasm), where it was
   * measured lighter and not slower (0.6B shape, 1 x 512: peak 3.7 instead of 9.1 GiB;
   * docs/benchmarks.md), and is what lets 512 tokens fit wasm's 4 GiB heap; 'none' on
   * WebGPU, where the extra forward pass is not known to pay for itself, and for full fine-tuning.
   */
  recompute?: 'none' | 'layers';
  padId: number;
  onProgress?: (p: TrainProgress) => void;
}

export interface GradResult {
  /** Mean loss over every loss token of the batch. */
  loss: number;
  tokenCount: number;
  /** Global L2 norm of the gradients (before any clipping). */
  gradNorm: number;
  /** Per-token outputs of the train graph ([B, S] outputs other than the loss), per sample, per response token. */
  diagnostics: Record<string, number[][]>;
}

/** A trainer's full state on the host (checkpoint.ts turns it into bytes). */
export interface TrainerSnapshot {
  student: Map<string, HostTensor>;
  teacher: Map<string, HostTensor> | null;
  optimizer: OptimizerState;
}

export interface StepResult extends GradResult {
  step: number;
  lr: number;
  clipScale: number;
}

/**
 * The weight tensors a ModelRunner already uploaded, to share them with a Trainer instead of
 * uploading a second copy.
 */
export function runnerWeightFeeds(runner: ModelRunner): Record<string, OrtTensor> {
  return runner.weightFeeds();
}

/**
 * Diagnostic name of the teacher's log-prob of each response token (distillation), scored under
 * the teacher's context; next to the train graph's `student_logp` and `token_divergence`.
 */
export const TEACHER_LOGP_DIAGNOSTIC = 'teacher_logp';

/** Keep the loss positions of a [B, S] micro-batch output, per sample, under `name`. */
function addDiagnostic(diag: Record<string, number[][]>, name: string, data: Float32Array, mb: MicroBatch): void {
  const rows = (diag[name] ??= []);
  for (let b = 0; b < mb.batch; b++) {
    const vals: number[] = [];
    for (let j = 0; j < mb.seq; j++) if (mb.lossMask[b * mb.seq + j]) vals.push(data[b * mb.seq + j]);
    rows[mb.sampleIndex[b]] = vals;
  }
}

function unwrapGraph(g: Graph | { graph: Graph }): Graph {
  return g instanceof Graph ? g : g.graph;
}

function lossKey(l: LossSpec): string {
  return JSON.stringify(l);
}

/** Throws when a trainable tensor holds NaN or an infinity (an adapter is never written that way). */
function checkFiniteState(s: TrainableState, which: string): void {
  for (const [name, t] of s.tensors) {
    const i = t.data.findIndex((x) => !Number.isFinite(x));
    if (i >= 0) throw new Error(`the ${which}'s ${name} holds a non-finite value (${t.data[i]} at ${i}); refusing to export it`);
  }
}

export class Trainer {
  readonly config: ModelConfig;
  readonly backend: EngineBackend;
  /** Host view of the student state (refreshed by syncState / exportAdapter). */
  readonly state: TrainableState;
  private readonly teacherState: TrainableState | null;
  private base: Record<string, OrtTensor> = {};
  private ownsBase = false;
  private student: TensorMap;
  private teacher: TensorMap | null;
  private readonly optimizer: Optimizer;
  private readonly ema: EmaUpdater | null;
  private readonly sessions: GraphSessions;
  private readonly feeds: DecoderFeeds;
  private readonly weightDtype: 'float32' | 'float16';
  readonly teacherMode: 'ema' | 'student';
  readonly emaTau: number;

  /** The train step's recompute setting (TrainerOptions.recompute, or the backend's default). */
  get recompute(): 'none' | 'layers' {
    return this.opts.recompute ?? (this.state.kind === 'lora' && this.backend.name !== 'webgpu' ? 'layers' : 'none');
  }

  private constructor(private readonly opts: TrainerOptions) {
    this.config = opts.config;
    this.backend = opts.backend;
    this.state = cloneState(opts.state);
    // Full fine-tuning feeds its own fp32 trainable copies as the weights (they are the master
    // copy AdamW updates), so its graphs take fp32 weights even on an fp16 backend.
    this.weightDtype = this.state.kind === 'full' ? 'float32' : (opts.backend.weightDtype ?? 'float32');
    this.sessions = new GraphSessions(opts.backend);
    this.feeds = new DecoderFeeds(opts.config, opts.backend.ort.Tensor);
    this.teacherMode = opts.teacher ?? 'ema';
    this.emaTau = opts.emaTau ?? EMA_DEFAULT_TAU;
    checkTau(this.emaTau);
    const T = opts.backend.ort.Tensor;
    this.student = stateTensors(T, this.state);
    this.teacherState = this.teacherMode === 'ema' ? cloneState(this.state) : null;
    this.teacher = this.teacherState ? stateTensors(T, this.teacherState) : null;
    const where = opts.stateOn ?? 'graph';
    this.optimizer = createOptimizer(where, opts.backend, this.state.specs, opts.optimizer);
    this.ema = this.teacherMode === 'ema' ? createEma(where, opts.backend, this.state.specs) : null;
  }

  static async create(opts: TrainerOptions): Promise<Trainer> {
    const t = new Trainer(opts);
    await t.loadBase(opts.weights);
    return t;
  }

  private async loadBase(weights: WeightMap | Record<string, OrtTensor>): Promise<void> {
    if (this.state.kind === 'full') return; // the trainable tensors are the weights
    const layout = expectedWeights(this.config);
    if (weights instanceof Map) {
      for (const [name, t] of await uploadModelWeights(this.backend, this.config, weights)) this.base[name] = t;
      this.ownsBase = true;
    } else {
      for (const name of layout.keys()) {
        if (!weights[name]) throw new Error(`weight ${name} is missing`);
        this.base[name] = weights[name];
      }
    }
  }

  get stepCount(): number {
    return this.optimizer.stepCount;
  }

  private progress(phase: TrainProgress['phase'], microBatch: number, microBatches: number): void {
    this.opts.onProgress?.({ phase, microBatch, microBatches });
  }

  private get loraTargets(): LoraTarget[] {
    return this.state.kind === 'lora' ? this.state.targets : [];
  }

  /** Decoder inputs of some padded rows with a given set of trainable tensors (student or teacher). */
  private decoderFeeds(rows: DecoderRows, params: TensorMap): TensorMap {
    const feeds: TensorMap = { ...this.feeds.rows(rows), ...this.base, ...params };
    if (this.state.kind === 'lora') feeds[DECODER_INPUT.loraScale] = loraScaleFeed(this.backend.ort.Tensor, this.state.lora!);
    return feeds;
  }

  private scalarFeed(graph: Graph, name: string, v: number): OrtTensor {
    const T = this.backend.ort.Tensor;
    const decl = graph.inputs.find((i) => i.name === name);
    if (decl?.dtype === 'int64') return new T('int64', BigInt64Array.of(BigInt(Math.round(v))), []);
    return new T('float32', Float32Array.of(v), []);
  }

  private get graphs(): TrainGraphBuilders {
    return this.opts.graphs ?? defaultTrainGraphs;
  }

  /** The student's top-k ids [B, S, k] at every position (forward pass, no gradient). */
  private async studentTopk(mb: MicroBatch, k: number): Promise<BigInt64Array> {
    const { session, graph } = await this.sessions.get(
      `topk|${k}`,
      () => unwrapGraph(this.graphs.studentTopk(this.config, { topk: k, loraTargets: this.loraTargets, weightDtype: this.weightDtype, vocabChunk: this.opts.vocabChunk })),
      () => false,
    );
    const out = await session.run(pickFeeds(graph, this.decoderFeeds(mb, this.student), 'student top-k'));
    return (await out[LOSS_OUTPUT.topkIds].getData()) as BigInt64Array;
  }

  /** The student's log-prob of each target [B, S] (forward pass, no gradient; GRPO's on-policy old_logp). */
  private async studentTargetLogp(mb: MicroBatch): Promise<Float32Array> {
    const { session, graph } = await this.sessions.get(
      'target-logp',
      () => buildTargetLogpGraph(this.config, { loraTargets: this.loraTargets, weightDtype: this.weightDtype, vocabChunk: this.opts.vocabChunk }),
      () => false,
    );
    const feeds = this.decoderFeeds(mb, this.student);
    feeds.targets = new this.backend.ort.Tensor('int64', mb.targets, [mb.batch, mb.seq]);
    const out = await session.run(pickFeeds(graph, feeds, 'student forward'));
    return (await out.target_logp.getData()) as Float32Array;
  }

  /**
   * Teacher log-probs at the student's top-k ids and its tail bucket, scored under the
   * teacher's context and moved to the student's positions ([B, S, k] and [B, S]; 0 where no
   * loss token maps).
   */
  private async teacherScores(mb: MicroBatch, k: number, studentTopk: BigInt64Array): Promise<{ topk: Float32Array; tail: Float32Array; token: Float32Array }> {
    const t = mb.teacher;
    if (!t) throw new Error('distillation needs teacher rows');
    const { session, graph } = await this.sessions.get(
      `teacher|${k}`,
      () => unwrapGraph(this.graphs.teacherScoring(this.config, { topk: k, loraTargets: this.loraTargets, weightDtype: this.weightDtype, vocabChunk: this.opts.vocabChunk })),
      () => false,
    );
    const T = this.backend.ort.Tensor;
    const ids = studentToTeacher(mb, studentTopk, k, (n) => new BigInt64Array(n));
    const params = this.teacherMode === 'ema' ? this.teacher! : this.student;
    const feeds = this.decoderFeeds(t, params);
    feeds[LOSS_INPUT.topkIds] = new T('int64', ids, [t.batch, t.seq, k]);
    feeds[LOSS_INPUT.targets] = new T('int64', t.targets, [t.batch, t.seq]);
    const out = await session.run(pickFeeds(graph, feeds, 'teacher scoring'));
    const topk = (await out[LOSS_OUTPUT.teacherTopkLogp].getData()) as Float32Array;
    const tail = (await out[LOSS_OUTPUT.teacherTailLogp].getData()) as Float32Array;
    const token = (await out[LOSS_OUTPUT.teacherLogpToken].getData()) as Float32Array;
    return { topk: teacherToStudent(mb, topk, k), tail: teacherToStudent(mb, tail, 1), token: teacherToStudent(mb, token, 1) };
  }

  /** Loss, gradient sum and diagnostics over a batch; the caller owns (disposes) the returned grads. */
  private async lossAndGrads(samples: readonly TrainSample[], loss: LossSpec): Promise<{ loss: number; tokenCount: number; grads: TensorMap; diagnostics: Record<string, number[][]> }> {
    checkLossSpec(loss);
    const batches = makeBatches(samples, {
      padId: this.opts.padId,
      microBatchSize: this.opts.microBatchSize,
      vocabSize: this.config.vocabSize,
      maxPositions: this.config.maxPositionEmbeddings,
      requireTeacher: loss.kind === 'distill',
    });
    if (batches.tokenCount === 0) throw new Error('the batch has no response tokens to train on');
    if (loss.kind === 'grpo' && batches.micro.some((m) => !m.advantages)) throw new Error('grpo needs an "advantage" on every sample');
    const n = batches.micro.length;
    const { session, graph } = await this.sessions.get(
      `train|${lossKey(loss)}`,
      () =>
        unwrapGraph(
          this.graphs.trainStep(this.config, { loss, trainable: this.state.kind, loraTargets: this.loraTargets, weightDtype: this.weightDtype, vocabChunk: this.opts.vocabChunk, recompute: this.recompute }),
        ),
      (o) => o.startsWith('grad.'),
    );
    for (const s of this.state.specs) {
      if (!graph.outputs.some((o) => o.name === `grad.${s.name}`)) throw new Error(`train graph has no output grad.${s.name}`);
    }
    const T = this.backend.ort.Tensor;
    let total = 0;
    let acc: TensorMap | null = null;
    const diagnostics: Record<string, number[][]> = {};
    try {
      for (let i = 0; i < n; i++) {
        const mb = batches.micro[i];
        let teacherToken: Float32Array | null = null;
        const feeds = this.decoderFeeds(mb, this.student);
        feeds[LOSS_INPUT.targets] = new T('int64', mb.targets, [mb.batch, mb.seq]);
        feeds[LOSS_INPUT.lossMask] = new T('float32', mb.lossMask, [mb.batch, mb.seq]);
        feeds[LOSS_INPUT.tokenCount] = this.scalarFeed(graph, LOSS_INPUT.tokenCount, batches.tokenCount);
        if (loss.kind === 'distill') {
          this.progress('student-topk', i, n);
          const ids = await this.studentTopk(mb, loss.topk);
          if ((loss.topkIds ?? 'input') === 'input') feeds[LOSS_INPUT.topkIds] = new T('int64', ids, [mb.batch, mb.seq, loss.topk]);
          this.progress('teacher', i, n);
          const te = await this.teacherScores(mb, loss.topk, ids);
          feeds[LOSS_INPUT.teacherTopkLogp] = new T('float32', te.topk, [mb.batch, mb.seq, loss.topk]);
          feeds[LOSS_INPUT.teacherTailLogp] = new T('float32', te.tail, [mb.batch, mb.seq]);
          teacherToken = te.token;
        } else if (loss.kind === 'grpo') {
          feeds[LOSS_INPUT.advantages] = new T('float32', mb.advantages!, [mb.batch]);
          let old = mb.oldLogp;
          if (!old) {
            // On-policy: the behaviour policy is the current student (ratio 1 at this step).
            const lp = await this.studentTargetLogp(mb);
            old = lp.map((v, j) => (mb.lossMask[j] ? v : 0));
          }
          feeds[LOSS_INPUT.oldLogp] = new T('float32', old, [mb.batch, mb.seq]);
        }
        this.progress('train', i, n);
        const out = await session.run(pickFeeds(graph, feeds, 'train step'));
        total += ((await out[LOSS_OUTPUT.loss].getData()) as Float32Array)[0];
        await this.collectDiagnostics(out, graph, mb, diagnostics);
        if (teacherToken) addDiagnostic(diagnostics, TEACHER_LOGP_DIAGNOSTIC, teacherToken, mb);
        const grads: TensorMap = {};
        for (const s of this.state.specs) grads[s.name] = out[`grad.${s.name}`];
        if (acc === null) acc = grads;
        else {
          const sum: TensorMap = await this.optimizer.accumulate(acc, grads);
          for (const s of this.state.specs) {
            disposeTensor(acc[s.name]);
            disposeTensor(grads[s.name]);
          }
          acc = sum;
        }
      }
    } catch (e) {
      // Free the device gradients accumulated so far before giving up.
      if (acc) for (const s of this.state.specs) disposeTensor(acc[s.name]);
      throw e;
    }
    if (!Number.isFinite(total)) {
      for (const s of this.state.specs) disposeTensor(acc![s.name]);
      throw new NonFiniteError(`the loss is ${total}: the computation overflowed (weights and adapter are finite); no gradient is returned and nothing is updated`);
    }
    return { loss: total, tokenCount: batches.tokenCount, grads: acc!, diagnostics };
  }

  private async collectDiagnostics(out: Record<string, OrtTensor>, graph: Graph, mb: MicroBatch, diag: Record<string, number[][]>): Promise<void> {
    for (const o of graph.outputs) {
      if (o.name === 'loss' || o.name.startsWith('grad.')) continue;
      const t = out[o.name];
      if (!t || t.dims.length !== 2 || t.dims[0] !== mb.batch || t.dims[1] !== mb.seq || t.type !== 'float32') continue;
      addDiagnostic(diag, o.name, (await t.getData()) as Float32Array, mb);
    }
  }

  /** Loss and gradients at the current student, without updating anything. */
  async evaluateGrad(samples: readonly TrainSample[], loss: LossSpec): Promise<GradResult & { grads: Map<string, HostTensor> }> {
    const r = await this.lossAndGrads(samples, loss);
    const grads = new Map<string, HostTensor>();
    for (const s of this.state.specs) {
      grads.set(s.name, { dims: [...s.dims], data: Float32Array.from((await r.grads[s.name].getData()) as Float32Array) });
      disposeTensor(r.grads[s.name]);
    }
    let sq = 0;
    for (const g of grads.values()) for (const x of g.data) sq += x * x;
    if (!Number.isFinite(sq)) {
      const [name] = [...grads].find(([, g]) => g.data.some((x) => !Number.isFinite(x)))!;
      throw new NonFiniteError(`the gradient of ${name} is not finite: the backward pass overflowed`);
    }
    return { loss: r.loss, tokenCount: r.tokenCount, gradNorm: Math.sqrt(sq), diagnostics: r.diagnostics, grads };
  }

  /** One optimizer step on a batch: loss and gradients, clipping, AdamW, EMA teacher update. */
  async step(samples: readonly TrainSample[], loss: LossSpec): Promise<StepResult> {
    const r = await this.lossAndGrads(samples, loss);
    this.progress('optimizer', 0, 1);
    const { params, info } = await this.optimizer.update(this.student, r.grads);
    for (const s of this.state.specs) {
      disposeTensor(r.grads[s.name]);
      disposeTensor(this.student[s.name]);
    }
    this.student = params;
    if (this.ema && this.teacher) {
      this.progress('ema', 0, 1);
      const next = await this.ema.update(this.teacher, this.student, this.emaTau);
      for (const s of this.state.specs) disposeTensor(this.teacher[s.name]);
      this.teacher = next;
    }
    return { loss: r.loss, tokenCount: r.tokenCount, gradNorm: info.gradNorm, clipScale: info.clipScale, lr: info.lr, step: info.step, diagnostics: r.diagnostics };
  }

  /** Copy the student's (and EMA teacher's) tensors back into the host states. */
  async syncState(): Promise<void> {
    await readBackState(this.state, this.student);
    if (this.teacherState && this.teacher) await readBackState(this.teacherState, this.teacher);
  }

  /** The student as a LoRA adapter (reads the device copy back); refuses non-finite values. */
  async exportAdapter(baseModel: string | null = null): Promise<LoraAdapter> {
    await readBackState(this.state, this.student);
    checkFiniteState(this.state, 'student');
    return loraStateToAdapter(this.state, baseModel);
  }

  /** The EMA teacher as a LoRA adapter (the student when the teacher mode is 'student'). */
  async exportTeacherAdapter(baseModel: string | null = null): Promise<LoraAdapter> {
    if (!this.teacherState || !this.teacher) return this.exportAdapter(baseModel);
    await readBackState(this.teacherState, this.teacher);
    checkFiniteState(this.teacherState, 'teacher');
    return loraStateToAdapter(this.teacherState, baseModel);
  }

  async optimizerState() {
    return this.optimizer.exportState();
  }

  /** Everything a resumed run needs: student and teacher tensors and the optimizer's moments. */
  async snapshot(): Promise<TrainerSnapshot> {
    await this.syncState();
    const copy = (s: TrainableState) => new Map([...s.tensors].map(([k, t]) => [k, { dims: [...t.dims], data: t.data.slice() }]));
    return { student: copy(this.state), teacher: this.teacherState ? copy(this.teacherState) : null, optimizer: await this.optimizer.exportState() };
  }

  /** Put the trainer back where `snapshot()` found it (same trainable layout required). */
  async restore(snap: TrainerSnapshot): Promise<void> {
    const T = this.backend.ort.Tensor;
    const load = (into: TrainableState, from: Map<string, HostTensor>, what: string) => {
      for (const s of into.specs) {
        const t = from.get(s.name);
        if (!t || t.dims.join(',') !== s.dims.join(',')) throw new Error(`trainer checkpoint: ${what} tensor ${s.name} is missing or of another shape`);
        into.tensors.set(s.name, { dims: [...s.dims], data: t.data.slice() });
      }
    };
    load(this.state, snap.student, 'student');
    if (this.teacherState) load(this.teacherState, snap.teacher ?? snap.student, 'teacher');
    await this.optimizer.importState(snap.optimizer);
    for (const s of this.state.specs) {
      disposeTensor(this.student[s.name]);
      if (this.teacher) disposeTensor(this.teacher[s.name]);
    }
    this.student = stateTensors(T, this.state);
    if (this.teacherState) this.teacher = stateTensors(T, this.teacherState);
  }

  async release(): Promise<void> {
    await this.sessions.release();
    await this.optimizer.release();
    await this.ema?.release();
    for (const s of this.state.specs) {
      disposeTensor(this.student[s.name]);
      if (this.teacher) disposeTensor(this.teacher[s.name]);
    }
    if (this.ownsBase) for (const t of Object.values(this.base)) t.dispose?.();
    this.base = {};
  }
}
