/**
 * The training side of the engine worker: one Trainer (engine/train/trainer.ts) on the loaded
 * model, sharing the weights the ModelRunner already uploaded. It answers the train-* and
 * adapter-* requests of protocol.ts through the same engine functions the CLI uses (createTrainer,
 * runSft); EngineHost queues them with everything else, so a training step never races a load
 * or a generation.
 */
import { exportPeftAdapter, importPeftAdapter, ADAPTER_CONFIG, ADAPTER_WEIGHTS } from '../engine/lora/peft';
import { MemorySource } from '../engine/models/sources';
import type { TextTokenizer } from '../engine/models/tokenizer';
import type { ModelConfig } from '../engine/models/types';
import type { ModelRunner } from '../engine/runtime/model-runner';
import type { EngineBackend } from '../engine/runtime/ort-types';
import { resolveTrainConfig, type TrainConfig } from '../engine/train/config';
import { checkLossSpec } from '../engine/train/losses';
import { createTrainer, runSft } from '../engine/train/sft';
import { parseSftJsonl, tokenizeSft } from '../engine/train/sft-data';
import type { StepResult, Trainer, TrainProgress } from '../engine/train/trainer';
import type { AdapterChoice, EngineEvent, LossSpec, TrainSample, TrainStepLog } from './protocol';

/** What the training side needs of the loaded model. */
export interface TrainableModel {
  config: ModelConfig;
  runner: ModelRunner;
  tokenizer: TextTokenizer | null;
  padId: number;
  label: string;
}

function toLog(r: StepResult, ms: number): TrainStepLog {
  return { step: r.step, loss: r.loss, tokenCount: r.tokenCount, gradNorm: r.gradNorm, clipScale: r.clipScale, lr: r.lr, ms, diagnostics: r.diagnostics };
}

export class TrainHost {
  private trainer: Trainer | null = null;
  private model: TrainableModel | null = null;
  private config: TrainConfig | null = null;
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

  async start(id: number, model: TrainableModel, config: TrainConfig, baseModel: string | null, adapterFiles?: Record<string, Uint8Array>): Promise<void> {
    const c = resolveTrainConfig(config);
    let adapter;
    if (adapterFiles) {
      for (const f of [ADAPTER_CONFIG, ADAPTER_WEIGHTS]) if (!adapterFiles[f]) throw new Error(`the adapter needs ${f}`);
      adapter = await importPeftAdapter(new MemorySource(adapterFiles, 'adapter'), model.config);
    }
    const trainer = await createTrainer(
      { backend: this.backend(), config: model.config, weights: model.runner.weightFeeds(), padId: model.padId, onProgress: (p) => this.progressSink?.(p) },
      c,
      adapter,
    );
    const old = this.trainer;
    this.trainer = trainer;
    this.model = model;
    this.config = c;
    this.baseModel = baseModel ?? model.label;
    if (old) await old.release();
    await this.refreshAdapter();
    const state = trainer.state;
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

  private withProgress<T>(id: number, step: () => number, steps: number, fn: () => Promise<T>): Promise<T> {
    this.progressSink = (p) => this.emit({ type: 'train-progress', id, phase: p.phase, microBatch: p.microBatch, microBatches: p.microBatches, step: step(), steps });
    return fn().finally(() => (this.progressSink = null));
  }

  async step(id: number, samples: TrainSample[], loss: LossSpec): Promise<void> {
    checkLossSpec(loss);
    if (!Array.isArray(samples) || samples.length === 0) throw new Error('a training step needs at least one sample');
    const trainer = this.require();
    const t0 = performance.now();
    const r = await this.withProgress(id, () => 1, 1, () => trainer.step(samples, loss));
    await this.refreshAdapter();
    this.emit({ type: 'train-stepped', id, log: toLog(r, performance.now() - t0) });
  }

  async sft(id: number, jsonl: string, run: { steps: number; batchSize: number; seed: number }, shouldStop: () => boolean): Promise<void> {
    const trainer = this.require();
    const m = this.model!;
    const c = resolveTrainConfig({ ...this.config, steps: run.steps, batchSize: run.batchSize, seed: run.seed });
    if (!m.tokenizer) throw new Error('this model has no tokenizer.json, so it cannot tokenize SFT data');
    const samples = await tokenizeSft(m.tokenizer, parseSftJsonl(jsonl, 'training data'), 'training data');
    const t0 = performance.now();
    const logs: TrainStepLog[] = [];
    let current = 1;
    const r = await this.withProgress(id, () => current, c.steps, () =>
      runSft(trainer, samples, c, {
        shouldStop,
        onStep: (s, step, ms) => {
          current = step + 1;
          const log = toLog(s, ms);
          logs.push(log);
          this.emit({ type: 'train-log', id, log, steps: c.steps });
        },
      }),
    );
    await this.refreshAdapter();
    this.emit({ type: 'train-done', id, logs, stopped: r.stopped, ms: performance.now() - t0 });
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
