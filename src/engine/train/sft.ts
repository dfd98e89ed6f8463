/**
 * Supervised fine-tuning, written once for `pmd-lab sft` and the browser worker: JSONL rows
 * {"prompt", "response"} are tokenized (sft-data.ts), a Trainer is made from a TrainConfig, and
 * `runSft` takes `config.steps` optimizer steps of `config.batchSize` examples in a seeded
 * order, reporting each step and stopping early when asked.
 */
import { initLoraState, loraStateFromAdapter } from './lora-state';
import { loraConfigOf, type TrainConfig } from './config';
import { SftSchedule } from './sft-data';
import { Trainer, type StepResult, type TrainerOptions } from './trainer';
import type { LoraAdapter } from '../models/types';
import type { TrainSample } from './batching';

/** The Trainer options a TrainConfig sets; the caller adds backend, model, weights and pad id. */
export function trainerSettings(c: TrainConfig): Pick<TrainerOptions, 'teacher' | 'emaTau' | 'optimizer' | 'microBatchSize'> {
  return { teacher: c.teacher, emaTau: c.emaTau, optimizer: { ...c.optimizer }, microBatchSize: c.microBatchSize ?? undefined };
}

/** A trainer for a TrainConfig: a fresh seeded adapter, or `adapter` to continue from. */
export function createTrainer(base: Omit<TrainerOptions, 'state' | 'teacher' | 'emaTau' | 'optimizer' | 'microBatchSize'>, c: TrainConfig, adapter?: LoraAdapter): Promise<Trainer> {
  const state = adapter ? loraStateFromAdapter(base.config, adapter) : initLoraState(base.config, loraConfigOf(c), c.seed);
  return Trainer.create({ ...base, ...trainerSettings(c), state });
}

export interface SftHooks {
  /** After each optimizer step (1-based). */
  onStep?: (r: StepResult, step: number, ms: number) => void;
  /** Checked before each step; true ends the run early. */
  shouldStop?: () => boolean;
}

export interface SftRun {
  steps: StepResult[];
  stopped: boolean;
}

export async function runSft(trainer: Trainer, samples: readonly TrainSample[], c: Pick<TrainConfig, 'steps' | 'batchSize' | 'seed'>, hooks: SftHooks = {}): Promise<SftRun> {
  const schedule = new SftSchedule(samples, Math.min(c.batchSize, samples.length), c.seed);
  const steps: StepResult[] = [];
  for (let s = 1; s <= c.steps; s++) {
    if (hooks.shouldStop?.()) return { steps, stopped: true };
    const t0 = performance.now();
    const r = await trainer.step(schedule.next(), { kind: 'ce' });
    steps.push(r);
    hooks.onStep?.(r, s, performance.now() - t0);
  }
  return { steps, stopped: false };
}
