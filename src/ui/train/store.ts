/**
 * UI state of the training panel: the user's LoRA/SFT settings and data (kept in localStorage,
 * checked field by field on the way back in) and the live state of the worker's trainer (reset
 * on every page load and whenever another model loads).
 */
import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';
import { resolveTrainConfig, TRAIN_DEFAULTS, type TrainConfig } from '../../worker/protocol';
import { isRecord } from '../../util/records';

export interface TrainUiSettings {
  /** Training settings: the engine's TrainConfig, defaults and validation included. */
  config: TrainConfig;
  /** SFT data: one {"prompt": ..., "response": ...} object per line. */
  jsonl: string;
  /** The loss history of the adapter saved for each model (restored with it). */
  histories: Record<string, StepPoint[]>;
}

export const DEFAULT_JSONL = [
  { prompt: 'What is 2 + 3?', response: '2 + 3 = 5.' },
  { prompt: 'Reverse the word "stop".', response: 'pots' },
  { prompt: 'Is 7 a prime number?', response: 'Yes, 7 is prime.' },
  { prompt: 'Name the opposite of "up".', response: 'down' },
]
  .map((r) => JSON.stringify(r))
  .join('\n');

export const DEFAULT_TRAIN_UI: TrainUiSettings = { config: TRAIN_DEFAULTS, jsonl: DEFAULT_JSONL, histories: {} };

/** One optimizer step as the panel shows it. */
export interface StepPoint {
  step: number;
  loss: number;
  gradNorm: number;
  ms: number;
}

export interface TrainRuntime {
  status: 'idle' | 'starting' | 'training' | 'saving' | 'exporting';
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
  /** The worker's adapter differs from the saved one (imported from files, or saving failed). */
  unsaved: boolean;
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
  unsaved: false,
};

export type TrainState = TrainUiSettings &
  TrainRuntime & {
    setTrain(patch: Partial<TrainRuntime & { jsonl: string; histories: Record<string, StepPoint[]> }>): void;
    /** Replace the training settings (checked by the config's own validation before use). */
    setConfig(config: TrainConfig): void;
  };

/** The settings that fix a trainer (a change needs a fresh adapter to take effect; steps and batch size do not). */
export function trainKey(s: TrainUiSettings): string {
  const { steps: _steps, batchSize: _batch, ...fixed } = s.config;
  return JSON.stringify({ ...fixed, lora: { ...fixed.lora, targets: [...fixed.lora.targets].sort() } });
}

export const TRAIN_SETTINGS_KEY = 'pmd-lab.train';
/** Data above this size is used but not kept across reloads (localStorage is small). */
const MAX_PERSISTED_JSONL = 512 * 1024;

export const useTrain = create<TrainState>()(
  persist(
    (set) => ({
      ...DEFAULT_TRAIN_UI,
      ...INITIAL_TRAIN_RUNTIME,
      // Edited data or settings make an error about the old ones stale.
      setTrain: (patch) => set('jsonl' in patch ? { error: null, ...patch } : patch),
      setConfig: (config) => set({ config, error: null }),
    }),
    {
      name: TRAIN_SETTINGS_KEY,
      version: 2,
      storage: createJSONStorage(() => localStorage),
      partialize: (s): TrainUiSettings => ({ config: s.config, jsonl: s.jsonl.length <= MAX_PERSISTED_JSONL ? s.jsonl : DEFAULT_JSONL, histories: s.histories }),
      migrate: (persisted) => sanitizeTrainSettings(persisted) as unknown as TrainState,
      merge: (persisted, current) => ({ ...current, ...sanitizeTrainSettings(persisted) }),
    },
  ),
);


/** Persisted settings back from storage: a config that no longer validates falls back to the defaults. */
export function sanitizeTrainSettings(v: unknown): TrainUiSettings {
  const d = DEFAULT_TRAIN_UI;
  if (!isRecord(v)) return d;
  let config = d.config;
  try {
    config = resolveTrainConfig(v.config);
  } catch {
    // an old or edited value: keep the defaults
  }
  const histories: Record<string, StepPoint[]> = {};
  if (isRecord(v.histories)) {
    for (const [model, h] of Object.entries(v.histories)) {
      if (Array.isArray(h)) histories[model] = h.filter((p): p is StepPoint => isRecord(p) && [p.step, p.loss, p.gradNorm, p.ms].every((x) => typeof x === 'number'));
    }
  }
  return { config, jsonl: typeof v.jsonl === 'string' ? v.jsonl : d.jsonl, histories };
}

/** Longest loss history kept per model. */
export const MAX_KEPT_HISTORY = 5000;
