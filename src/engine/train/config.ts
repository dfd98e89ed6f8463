/**
 * TrainConfig: every setting of LoRA training (SFT in the CLI and the browser, and the update
 * step of the PMD loop), with its one default, its one-line explanation and its valid range.
 * The CLI's flags, the worker protocol and the UI's training form are derived from
 * TRAIN_FIELDS and TRAIN_DEFAULTS; `validateTrainConfig` returns every problem with its path.
 * A config is plain JSON, so a run can be reproduced from its file.
 */
import { ConfigError, mergeConfig, validateFields, type ConfigField, type ConfigProblem } from '../../util/config-fields';
import { LORA_TARGETS, type LoraConfig, type LoraTarget } from '../models/types';

export interface OptimizerConfig {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Global-norm clipping threshold; null disables clipping. */
  maxGradNorm: number | null;
  /** 0 for a constant rate, else the number of linear warm-up steps. */
  warmupSteps: number;
}

export interface TrainConfig {
  lora: {
    rank: number;
    /** null: twice the rank. */
    alpha: number | null;
    targets: LoraTarget[];
    useRslora: boolean;
  };
  optimizer: OptimizerConfig;
  /** Distillation teacher: an EMA copy of the student's adapter, or the student itself. */
  teacher: 'ema' | 'student';
  emaTau: number;
  /** Samples per micro-batch (gradients accumulate); null: the whole batch at once. */
  microBatchSize: number | null;
  /** Optimizer steps (SFT). */
  steps: number;
  /** Examples per step (SFT). */
  batchSize: number;
  /** Seeds the adapter's initial A matrices and the data order. */
  seed: number;
}

export const TRAIN_DEFAULTS: TrainConfig = {
  lora: { rank: 8, alpha: null, targets: [...LORA_TARGETS], useRslora: false },
  optimizer: { lr: 2e-4, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, maxGradNorm: 1.0, warmupSteps: 0 },
  teacher: 'ema',
  emaTau: 0.05,
  microBatchSize: null,
  steps: 100,
  batchSize: 8,
  seed: 0,
};

/** Largest LoRA rank accepted before the model is known (the model's widths cap it further). */
export const MAX_LORA_RANK = 4096;

export const TRAIN_FIELDS: readonly ConfigField[] = [
  { path: 'lora.rank', flag: 'rank', help: 'LoRA rank r: width of the low-rank update B·A.', spec: { kind: 'number', integer: true, min: 1, max: MAX_LORA_RANK } },
  { path: 'lora.alpha', flag: 'alpha', help: 'LoRA alpha: the update is scaled by alpha / r (alpha / √r with rsLoRA).', spec: { kind: 'number', min: 0, above: true, max: 1e6, nullable: true }, nullMeans: 'twice the rank' },
  { path: 'lora.targets', flag: 'targets', help: 'Projections that get a LoRA update.', spec: { kind: 'set', values: LORA_TARGETS, minItems: 1, item: 'target module' } },
  { path: 'lora.useRslora', flag: 'rslora', help: 'Rank-stabilised LoRA: scale by alpha / √r instead of alpha / r.', spec: { kind: 'boolean' } },
  { path: 'optimizer.lr', flag: 'lr', help: 'AdamW learning rate.', spec: { kind: 'number', min: 0, above: true, max: 10 } },
  { path: 'optimizer.beta1', help: 'AdamW first-moment decay.', spec: { kind: 'number', min: 0, max: 0.999999 } },
  { path: 'optimizer.beta2', help: 'AdamW second-moment decay.', spec: { kind: 'number', min: 0, max: 0.999999 } },
  { path: 'optimizer.eps', help: 'AdamW epsilon in the denominator.', spec: { kind: 'number', min: 0, above: true, max: 1 } },
  { path: 'optimizer.weightDecay', flag: 'weight-decay', help: 'Decoupled weight decay (AdamW).', spec: { kind: 'number', min: 0, max: 1 } },
  { path: 'optimizer.maxGradNorm', flag: 'max-grad-norm', help: 'Clip gradients to this global L2 norm (null: no clipping).', spec: { kind: 'number', min: 0, above: true, nullable: true }, nullMeans: 'no clipping' },
  { path: 'optimizer.warmupSteps', flag: 'warmup', help: 'Linear learning-rate warm-up over this many steps (0: constant).', spec: { kind: 'number', integer: true, min: 0 } },
  { path: 'teacher', help: 'Distillation teacher: an EMA of the student adapter, or the student itself.', spec: { kind: 'enum', values: ['ema', 'student'] } },
  { path: 'emaTau', flag: 'ema-tau', help: 'EMA rate: teacher ← (1 − τ)·teacher + τ·student after each step.', spec: { kind: 'number', min: 0, max: 1 } },
  { path: 'microBatchSize', flag: 'micro-batch', help: 'Samples per forward/backward pass; gradients accumulate over the batch (null: all at once).', spec: { kind: 'number', integer: true, min: 1, nullable: true }, nullMeans: 'the whole batch' },
  { path: 'steps', flag: 'steps', help: 'Optimizer steps of a supervised fine-tuning run.', spec: { kind: 'number', integer: true, min: 1, max: 1e7 } },
  { path: 'batchSize', flag: 'batch-size', help: 'Examples per supervised fine-tuning step.', spec: { kind: 'number', integer: true, min: 1, max: 1e5 } },
  { path: 'seed', flag: 'seed', help: 'Seed of the adapter initialisation and the data order.', spec: { kind: 'number', integer: true, min: 0, max: 2 ** 32 - 1 } },
];

export function validateTrainConfig(c: unknown): ConfigProblem[] {
  return validateFields(TRAIN_FIELDS, TRAIN_DEFAULTS, c);
}

/** Defaults overlaid with `partial`, validated; throws a ConfigError listing every problem. */
export function resolveTrainConfig(partial: unknown = {}): TrainConfig {
  const c = mergeConfig(TRAIN_DEFAULTS, partial);
  const problems = validateTrainConfig(c);
  if (problems.length) throw new ConfigError('training config', problems);
  return c;
}

/** The LoRA shape of a config (alpha resolved). */
export function loraConfigOf(c: TrainConfig): LoraConfig {
  return { r: c.lora.rank, alpha: c.lora.alpha ?? 2 * c.lora.rank, targetModules: [...c.lora.targets], useRslora: c.lora.useRslora };
}
