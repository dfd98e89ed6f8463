/**
 * UI state of the training panel: the user's LoRA/SFT settings and data (kept in localStorage,
 * checked field by field on the way back in) and the live state of the worker's trainer (reset
 * on every page load and whenever another model loads).
 */
import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';
import { LORA_TARGETS, type LoraTarget } from '../../engine/models/types';
import { isRecord } from '../../util/records';

export interface TrainUiSettings {
  rank: number;
  alpha: number;
  useRslora: boolean;
  targets: LoraTarget[];
  lr: number;
  warmupSteps: number;
  steps: number;
  batchSize: number;
  seed: number;
  /** SFT data: one {"prompt": ..., "response": ...} object per line. */
  jsonl: string;
}

export const DEFAULT_JSONL = [
  { prompt: 'What is 2 + 3?', response: '2 + 3 = 5.' },
  { prompt: 'Reverse the word "stop".', response: 'pots' },
  { prompt: 'Is 7 a prime number?', response: 'Yes, 7 is prime.' },
  { prompt: 'Name the opposite of "up".', response: 'down' },
]
  .map((r) => JSON.stringify(r))
  .join('\n');

export const DEFAULT_TRAIN_UI: TrainUiSettings = {
  rank: 8,
  alpha: 16,
  useRslora: false,
  targets: [...LORA_TARGETS],
  lr: 2e-3,
  warmupSteps: 0,
  steps: 20,
  batchSize: 4,
  seed: 0,
  jsonl: DEFAULT_JSONL,
};

/** One optimizer step as the panel shows it. */
export interface StepPoint {
  step: number;
  loss: number;
  gradNorm: number;
  ms: number;
}

export interface TrainRuntime {
  status: 'idle' | 'starting' | 'training' | 'exporting';
  /** The settings (as trainKey) the worker's current trainer was started with; null: none yet. */
  startedWith: string | null;
  trainedSteps: number;
  /** Steps the adapter had before the worker's current trainer (a restored adapter's). */
  stepOffset: number;
  history: StepPoint[];
  progress: { step: number; steps: number; phase: string } | null;
  /** Generation uses the trained adapter. */
  useAdapter: boolean;
  error: string | null;
  /** An adapter saved in IndexedDB for the loaded model, offered for restoring. */
  saved: { model: string; steps: number; savedAt: number } | null;
}

export const INITIAL_TRAIN_RUNTIME: TrainRuntime = {
  status: 'idle',
  startedWith: null,
  trainedSteps: 0,
  stepOffset: 0,
  history: [],
  progress: null,
  useAdapter: false,
  error: null,
  saved: null,
};

export type TrainState = TrainUiSettings & TrainRuntime & { setTrain(patch: Partial<TrainUiSettings>): void };

/** The settings that fix a trainer (a change needs a fresh adapter to take effect). */
export function trainKey(s: TrainUiSettings): string {
  return JSON.stringify([s.rank, s.alpha, s.useRslora, [...s.targets].sort(), s.lr, s.warmupSteps, s.seed]);
}

export const TRAIN_SETTINGS_KEY = 'pmd-lab.train';
/** Data above this size is used but not kept across reloads (localStorage is small). */
const MAX_PERSISTED_JSONL = 512 * 1024;

export const useTrain = create<TrainState>()(
  persist(
    (set) => ({
      ...DEFAULT_TRAIN_UI,
      ...INITIAL_TRAIN_RUNTIME,
      setTrain: (patch) => set(patch),
    }),
    {
      name: TRAIN_SETTINGS_KEY,
      version: 1,
      storage: createJSONStorage(() => localStorage),
      partialize: (s): TrainUiSettings => ({
        rank: s.rank,
        alpha: s.alpha,
        useRslora: s.useRslora,
        targets: s.targets,
        lr: s.lr,
        warmupSteps: s.warmupSteps,
        steps: s.steps,
        batchSize: s.batchSize,
        seed: s.seed,
        jsonl: s.jsonl.length <= MAX_PERSISTED_JSONL ? s.jsonl : DEFAULT_JSONL,
      }),
      merge: (persisted, current) => ({ ...current, ...sanitizeTrainSettings(persisted) }),
    },
  ),
);


function num(v: unknown, fallback: number, ok: (n: number) => boolean): number {
  return typeof v === 'number' && Number.isFinite(v) && ok(v) ? v : fallback;
}

const whole = (min: number) => (n: number) => Number.isInteger(n) && n >= min;

export function sanitizeTrainSettings(v: unknown): TrainUiSettings {
  const d = DEFAULT_TRAIN_UI;
  if (!isRecord(v)) return d;
  const targets = Array.isArray(v.targets) ? LORA_TARGETS.filter((t) => (v.targets as unknown[]).includes(t)) : d.targets;
  return {
    rank: num(v.rank, d.rank, whole(1)),
    alpha: num(v.alpha, d.alpha, (n) => n > 0),
    useRslora: typeof v.useRslora === 'boolean' ? v.useRslora : d.useRslora,
    targets: targets.length > 0 ? targets : d.targets,
    lr: num(v.lr, d.lr, (n) => n > 0),
    warmupSteps: num(v.warmupSteps, d.warmupSteps, whole(0)),
    steps: num(v.steps, d.steps, whole(1)),
    batchSize: num(v.batchSize, d.batchSize, whole(1)),
    seed: num(v.seed, d.seed, whole(0)),
    jsonl: typeof v.jsonl === 'string' ? v.jsonl : d.jsonl,
  };
}
