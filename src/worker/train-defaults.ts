/** Default trainer settings of the worker protocol, kept apart from the trainer so the UI can import them cheaply. */
import { LORA_TARGETS } from '../engine/models/types';
import type { TrainSettings } from './protocol';

export const DEFAULT_TRAIN_SETTINGS: TrainSettings = {
  rank: 8,
  alpha: 16,
  targets: [...LORA_TARGETS],
  useRslora: false,
  seed: 0,
  optimizer: { lr: 1e-3, warmupSteps: 0, weightDecay: 0.01, maxGradNorm: 1 },
  teacher: 'ema',
  emaTau: 0.05,
  microBatchSize: null,
  baseModel: null,
};
