/**
 * Messages between the UI thread and the engine worker. The worker owns the GPU and the model;
 * the UI sends requests and renders the events it gets back. Every request carries an id, and
 * every event that answers one repeats it.
 */
import type { LoraTarget } from '../engine/models/types';
import type { TrainSample } from '../engine/train/batching';
import type { LossSpec } from '../engine/train/losses';
import type { TrainConfig } from '../engine/train/config';
import type { PmdConfig, Phase, Variant } from '../pmd/config';
import type { RunMeta } from '../pmd/run/library';
import type { EvalResult, RunRecord } from '../pmd/run/state';
import type { RunView, RolloutView, RunRecordView } from '../pmd/run/view';
import type { ReflectionRecord, StepMetric } from '../pmd/run/state';
import type { Behavior, MemoryEvent, MemoryLevel, ItemSource } from '../pmd/memory/types';
import type { BlockKind, ContextBlock } from '../pmd/reprompt';

export type { LossSpec, TrainSample, TrainConfig, LoraTarget, PmdConfig, Phase, Variant, RunMeta, RunRecord, RunView, RolloutView, EvalResult };
// Types the playground's run panels read (records, memory items, teacher-context blocks).
export type { RunRecordView, ReflectionRecord, StepMetric, Behavior, MemoryEvent, MemoryLevel, ItemSource, BlockKind, ContextBlock };
// The UI reaches the PMD config object (defaults, fields, presets, validation) through the protocol.
export { PMD_DEFAULTS, PMD_FIELDS, VARIANTS, PHASES, MEMORY_LEVELS, VARIANT_PRESETS, variantDefaults, validatePmdConfig, resolvePmdConfig, configDifferences } from '../pmd/config';
export { BLOCK_LEVEL } from '../pmd/reprompt';
// The UI reaches training's one config object (defaults, fields, validation) through the protocol.
export { TRAIN_DEFAULTS, TRAIN_FIELDS, validateTrainConfig, resolveTrainConfig } from '../engine/train/config';
export { LORA_TARGETS } from '../engine/models/types';

export type ModelSourceSpec =
  | { kind: 'embedded'; url: string; label?: string }
  | { kind: 'hub'; repo: string; revision?: string; endpoint?: string; token?: string }
  | { kind: 'files'; files: File[] };

export interface SamplingSpec {
  maxNewTokens: number;
  temperature: number;
  topP: number;
  topK: number;
  seed: number;
  stopAtEos: boolean;
}

export type EngineRequest =
  | { type: 'init'; id: number; preferWebGpu: boolean }
  | { type: 'load'; id: number; source: ModelSourceSpec }
  | { type: 'logits'; id: number; ids: number[][] }
  | { type: 'generate'; id: number; prompts: number[][]; sampling: SamplingSpec }
  | { type: 'chat'; id: number; text: string; sampling: SamplingSpec }
  | { type: 'stop'; id: number }
  /**
   * Start (or restart) training on the loaded model: a fresh adapter seeded by `config.seed`, or
   * `adapter` (PEFT files) to continue. `baseModel` goes into adapter_config.json (null: the model's label).
   */
  | { type: 'train-start'; id: number; config: TrainConfig; baseModel: string | null; adapter?: Record<string, Uint8Array> }
  /** One optimizer step on explicit samples (ids, response starts, teacher contexts). */
  | { type: 'train-step'; id: number; samples: TrainSample[]; loss: LossSpec }
  /** SFT steps on JSONL lines {"prompt", "response"}; 'stop' ends it after the current step. */
  | { type: 'train-sft'; id: number; jsonl: string; steps: number; batchSize: number; seed: number }
  /** The student (or EMA teacher) adapter as PEFT files. */
  | { type: 'adapter-export'; id: number; which: 'student' | 'teacher' }
  /** Which adapter generation and logits use from now on (kept current after training). */
  | { type: 'adapter-use'; id: number; which: AdapterChoice }
  // --- PMD runs (worker/run-host.ts); every run lives in IndexedDB ---
  /** Runs stored in this browser. */
  | { type: 'run-list'; id: number }
  /** A new run on the loaded model: a (partial) PmdConfig and a task suite as JSONL text. */
  | { type: 'run-create'; id: number; name: string; config: unknown; suite: { name: string; text: string } }
  /** Open a stored run (the loaded model must be the one it was made with). */
  | { type: 'run-open'; id: number; runId: string }
  /** Advance the open run to a boundary; 'stop' pauses it after the piece of work in flight. */
  | { type: 'run-advance'; id: number; runId: string; until: 'effect' | 'phase' | 'step' | 'end' }
  /** Live switches, applied between steps. */
  | { type: 'run-freeze'; id: number; runId: string; policy?: boolean; memory?: boolean }
  /** A run's records (all kinds, or some), oldest first. */
  | { type: 'run-records'; id: number; runId: string; kinds?: RunRecord['kind'][] }
  /** A stored run's resolved config and position, without opening it (comparing runs). */
  | { type: 'run-config'; id: number; runId: string }
  /** The 2-D map of the run's question embeddings with current clusters. */
  | { type: 'run-map'; id: number; runId: string }
  /** The same question answered by the student with and without the run's memory in the prompt. */
  | { type: 'run-compare'; id: number; runId: string; problem: string; seed: number }
  /** The student (or EMA teacher) adapter of the open run as PEFT files. */
  | { type: 'run-adapter'; id: number; runId: string; which: 'student' | 'teacher' }
  /** The whole run as one zip (the same layout as a pmd-lab run folder). */
  | { type: 'run-export'; id: number; runId: string }
  /** Import a run zip (checked before anything is stored). */
  | { type: 'run-import'; id: number; bytes: Uint8Array; name: string }
  | { type: 'run-delete'; id: number; runId: string }
  /** Convert a public dataset file to the project's task JSONL (or check a project JSONL). */
  | { type: 'tasks-import'; id: number; format: 'gsm8k' | 'sciknoweval' | 'mbpp' | 'livecodebench' | 'project'; text: string };

export type AdapterChoice = 'none' | 'student' | 'teacher';

export interface TrainerInfo {
  /** Trainable parameters. */
  params: number;
  modules: number;
  rank: number;
  alpha: number;
  useRslora: boolean;
  targets: LoraTarget[];
  step: number;
  teacher: 'ema' | 'student';
}

export interface TrainStepLog {
  step: number;
  loss: number;
  tokenCount: number;
  gradNorm: number;
  clipScale: number;
  lr: number;
  ms: number;
  /** Per-token outputs of the train graph, per sample, per response token. */
  diagnostics: Record<string, number[][]>;
}

export interface AdapterFiles {
  'adapter_config.json': Uint8Array;
  'adapter_model.safetensors': Uint8Array;
}

export interface BackendInfo {
  backend: 'webgpu' | 'wasm' | 'node-cpu';
  adapterInfo: string;
  shaderF16: boolean;
  maxStorageBindingBytes: number;
  fallbackReason?: string;
}

export interface ModelSummary {
  label: string;
  family: string;
  layers: number;
  hiddenSize: number;
  vocabSize: number;
  params: number;
  tied: boolean;
  hasTokenizer: boolean;
  hasChatTemplate: boolean;
  loadMs: number;
}

export type EngineEvent =
  | { type: 'ready'; id: number; info: BackendInfo }
  | { type: 'progress'; id: number; file: string; loaded: number; total: number | null; fromCache: boolean }
  | { type: 'stage'; id: number; message: string }
  | { type: 'loaded'; id: number; model: ModelSummary }
  | { type: 'logits'; id: number; vocabSize: number; logits: Float32Array[][] }
  | { type: 'token'; id: number; step: number; tokens: (number | null)[]; text?: string }
  | { type: 'generated'; id: number; tokens: number[][]; logprobs: number[][]; finish: string[]; text?: string; ms: number }
  | { type: 'stopped'; id: number }
  | { type: 'error'; id: number; message: string }
  | { type: 'train-ready'; id: number; info: TrainerInfo }
  | { type: 'train-progress'; id: number; phase: string; microBatch: number; microBatches: number; step: number; steps: number }
  | { type: 'train-log'; id: number; log: TrainStepLog; steps: number }
  | { type: 'train-stepped'; id: number; log: TrainStepLog }
  | { type: 'train-done'; id: number; logs: TrainStepLog[]; stopped: boolean; ms: number }
  | { type: 'adapter'; id: number; which: 'student' | 'teacher'; files: AdapterFiles; baseModel: string | null }
  | { type: 'adapter-used'; id: number; which: AdapterChoice }
  | { type: 'run-list'; id: number; runs: RunMeta[] }
  | { type: 'run-opened'; id: number; meta: RunMeta; view: RunView }
  /** Progress inside the piece of work in flight. */
  | { type: 'run-progress'; id: number; runId: string; step: number; phase: string; what: string; done: number; total: number }
  /** After every committed transition: the new view and the records it wrote. */
  | { type: 'run-transition'; id: number; runId: string; view: RunView; records: { seq: number; record: RunRecordView }[] }
  /** The end of a run-advance (or run-freeze): where the run now rests. */
  | { type: 'run-stopped'; id: number; runId: string; view: RunView; reason: 'boundary' | 'paused' | 'done' }
  | { type: 'run-records'; id: number; runId: string; records: { seq: number; record: RunRecordView }[] }
  | { type: 'run-config'; id: number; runId: string; config: PmdConfig; step: number; phase: string }
  | { type: 'run-map'; id: number; runId: string; points: { id: string; x: number; y: number; cluster: number; question: string }[]; clusters: { index: number; members: string[]; behaviors: string[] }[] }
  | { type: 'run-compared'; id: number; runId: string; problem: string; without: { prompt: string; text: string; reward: number; feedback: string }; with: { prompt: string; text: string; reward: number; feedback: string } }
  | { type: 'run-bundle'; id: number; runId: string; bytes: Uint8Array; fileName: string }
  | { type: 'run-deleted'; id: number; runId: string }
  | { type: 'tasks-imported'; id: number; text: string; tasks: number; train: number; test: number; skipped: string; problems: string[] };
