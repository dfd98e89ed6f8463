/**
 * The training side of the engine worker: one Trainer (src/engine/train/trainer.ts) on the
 * loaded model, sharing the weights the ModelRunner already uploaded. It answers the train-*
 * and adapter-* requests of protocol.ts; EngineHost queues them with everything else, so a
 * training step never races a load or a generation.
 */
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { exportPeftAdapter, importPeftAdapter, ADAPTER_CONFIG, ADAPTER_WEIGHTS } from '../engine/lora/peft';
import { MemorySource } from '../engine/models/sources';
import { LORA_TARGETS, type ModelConfig } from '../engine/models/types';
import type { ModelRunner } from '../engine/runtime/model-runner';
import type { EngineBackend } from '../engine/runtime/ort-types';
import { initLoraState, loraStateFromAdapter } from '../engine/train/lora-state';
import { parseSftJsonl, SftSchedule, tokenizeSft, type SftTokenizer } from '../engine/train/sft-data';
import { checkLossSpec, Trainer, type StepResult, type TrainProgress } from '../engine/train/trainer';
import type { AdapterChoice, EngineEvent, LossSpec, TrainSample, TrainSettings, TrainStepLog } from './protocol';

export { DEFAULT_TRAIN_SETTINGS } from './train-defaults';

/** What the training side needs of the loaded model. */
export interface TrainableModel {
  config: ModelConfig;
  runner: ModelRunner;
  tokenizer: PreTrainedTokenizer | null;
  padId: number;
  label: string;
}

/** Throws a readable error for settings the trainer cannot use (LoRA details are checked by the trainer). */
export function checkTrainSettings(s: TrainSettings): void {
  const whole = (v: unknown, name: string, min: number) => {
    if (!Number.isInteger(v) || (v as number) < min) throw new Error(`${name} must be a whole number >= ${min}, got ${JSON.stringify(v)}`);
  };
  whole(s.rank, 'rank', 1);
  if (!(typeof s.alpha === 'number' && s.alpha > 0)) throw new Error(`alpha must be > 0, got ${JSON.stringify(s.alpha)} (PEFT would scale the update to nothing)`);
  if (!Array.isArray(s.targets) || s.targets.length === 0) throw new Error('pick at least one target module');
  for (const t of s.targets) if (!(LORA_TARGETS as readonly string[]).includes(t)) throw new Error(`unknown target module ${JSON.stringify(t)}; known: ${LORA_TARGETS.join(', ')}`);
  whole(s.seed, 'seed', 0);
  const lr = s.optimizer.lr;
  if (lr !== undefined && !(lr > 0 && Number.isFinite(lr))) throw new Error(`learning rate must be > 0, got ${JSON.stringify(lr)}`);
  if (s.teacher !== 'ema' && s.teacher !== 'student') throw new Error(`teacher must be "ema" or "student", got ${JSON.stringify(s.teacher)}`);
  if (s.microBatchSize !== null) whole(s.microBatchSize, 'micro-batch size', 1);
}

function toLog(r: StepResult, ms: number): TrainStepLog {
  return { step: r.step, loss: r.loss, tokenCount: r.tokenCount, gradNorm: r.gradNorm, clipScale: r.clipScale, lr: r.lr, ms, diagnostics: r.diagnostics };
}

export class TrainHost {
  private trainer: Trainer | null = null;
  private model: TrainableModel | null = null;
  private baseModel: string | null = null;
  private using: AdapterChoice = 'none';
  /** Where the current request's progress goes (the trainer's callback is fixed at creation). */
  private progressSink: ((p: TrainProgress) => void) | null = null;

  constructor(private readonly backend: () => EngineBackend, private readonly emit: (e: EngineEvent) => void) {}

  private require(): Trainer {
    if (!this.trainer) throw new Error('training has not started; send train-start first');
    return this.trainer;
  }

  /** Drop the trainer (a new model is about to replace the one it trains). */
  async release(): Promise<void> {
    const t = this.trainer;
    this.trainer = null;
    this.model = null;
    this.using = 'none';
    if (t) await t.release();
  }

  async start(id: number, model: TrainableModel, settings: TrainSettings, adapterFiles?: Record<string, Uint8Array>): Promise<void> {
    checkTrainSettings(settings);
    const cfg = model.config;
    let state;
    if (adapterFiles) {
      for (const f of [ADAPTER_CONFIG, ADAPTER_WEIGHTS]) if (!adapterFiles[f]) throw new Error(`the adapter needs ${f}`);
      state = loraStateFromAdapter(cfg, await importPeftAdapter(new MemorySource(adapterFiles, 'adapter'), cfg));
    } else {
      state = initLoraState(cfg, { r: settings.rank, alpha: settings.alpha, targetModules: [...settings.targets], useRslora: settings.useRslora }, settings.seed);
    }
    const trainer = await Trainer.create({
      backend: this.backend(),
      config: cfg,
      weights: model.runner.weightFeeds(),
      state,
      teacher: settings.teacher,
      emaTau: settings.emaTau,
      optimizer: settings.optimizer,
      microBatchSize: settings.microBatchSize ?? undefined,
      padId: model.padId,
      onProgress: (p) => this.progressSink?.(p),
    });
    const old = this.trainer;
    this.trainer = trainer;
    this.model = model;
    this.baseModel = settings.baseModel ?? model.label;
    if (old) await old.release();
    await this.refreshAdapter();
    let params = 0;
    for (const s of state.specs) params += s.dims.reduce((a, b) => a * b, 1);
    this.emit({
      type: 'train-ready',
      id,
      info: {
        params,
        modules: state.specs.length / 2,
        rank: state.lora!.r,
        alpha: state.lora!.alpha,
        useRslora: state.lora!.useRslora,
        targets: state.targets,
        step: trainer.stepCount,
        teacher: trainer.teacherMode,
      },
    });
  }

  private async runStep(id: number, samples: readonly TrainSample[], loss: LossSpec, step: number, steps: number): Promise<TrainStepLog> {
    const trainer = this.require();
    this.progressSink = (p) => this.emit({ type: 'train-progress', id, phase: p.phase, microBatch: p.microBatch, microBatches: p.microBatches, step, steps });
    const t0 = performance.now();
    try {
      return toLog(await trainer.step(samples, loss), performance.now() - t0);
    } finally {
      this.progressSink = null;
    }
  }

  async step(id: number, samples: TrainSample[], loss: LossSpec): Promise<void> {
    checkLossSpec(loss);
    if (!Array.isArray(samples) || samples.length === 0) throw new Error('a training step needs at least one sample');
    const log = await this.runStep(id, samples, loss, 1, 1);
    await this.refreshAdapter();
    this.emit({ type: 'train-stepped', id, log });
  }

  async sft(id: number, jsonl: string, steps: number, batchSize: number, seed: number, shouldStop: () => boolean): Promise<void> {
    this.require();
    const m = this.model!;
    if (!Number.isInteger(steps) || steps < 1) throw new Error(`steps must be a whole number >= 1, got ${JSON.stringify(steps)}`);
    if (!m.tokenizer) throw new Error('this model has no tokenizer.json, so it cannot tokenize SFT data');
    const rows = parseSftJsonl(jsonl, 'training data');
    const samples = tokenizeSft(m.tokenizer as unknown as SftTokenizer, rows, 'training data');
    const schedule = new SftSchedule(samples, Math.min(batchSize, samples.length), seed);
    const t0 = performance.now();
    const logs: TrainStepLog[] = [];
    let stopped = false;
    for (let s = 1; s <= steps; s++) {
      if (shouldStop()) {
        stopped = true;
        break;
      }
      const log = await this.runStep(id, schedule.next(), { kind: 'ce' }, s, steps);
      logs.push(log);
      this.emit({ type: 'train-log', id, log, steps });
    }
    await this.refreshAdapter();
    this.emit({ type: 'train-done', id, logs, stopped, ms: performance.now() - t0 });
  }

  async exportAdapter(id: number, which: 'student' | 'teacher'): Promise<void> {
    const trainer = this.require();
    const adapter = which === 'teacher' ? await trainer.exportTeacherAdapter(this.baseModel) : await trainer.exportAdapter(this.baseModel);
    const files = exportPeftAdapter(adapter, this.baseModel);
    this.emit({
      type: 'adapter',
      id,
      which,
      baseModel: this.baseModel,
      files: { [ADAPTER_CONFIG]: new TextEncoder().encode(files[ADAPTER_CONFIG]), [ADAPTER_WEIGHTS]: files[ADAPTER_WEIGHTS] },
    });
  }

  async use(id: number, which: AdapterChoice): Promise<void> {
    if (which !== 'none' && which !== 'student' && which !== 'teacher') throw new Error(`unknown adapter choice ${JSON.stringify(which)}`);
    // Remembered even before training starts: the next trainer's adapter is used at once.
    this.using = which;
    await this.refreshAdapter();
    this.emit({ type: 'adapter-used', id, which });
  }

  /** Keep the generation runner's adapter equal to the chosen trainer adapter. */
  private async refreshAdapter(): Promise<void> {
    const m = this.model;
    if (!m || !this.trainer) return;
    if (this.using === 'none') m.runner.setAdapter(null);
    else m.runner.setAdapter(this.using === 'teacher' ? await this.trainer.exportTeacherAdapter(this.baseModel) : await this.trainer.exportAdapter(this.baseModel));
  }
}
