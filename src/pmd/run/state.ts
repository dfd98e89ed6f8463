/**
 * The run as plain data. `RunState` is the whole state of a PMD run between two transitions:
 * config, position (step, phase, cursor), the step's work in progress, memory, the trainer's
 * checkpoint version, and the one effect being awaited. It is persisted after every transition;
 * a run killed at any point resumes from it, re-issues the pending effect (effects are
 * deterministic functions of the state: seeds come from the config seed and the position) and
 * reaches the same state as a run that was never interrupted.
 *
 * Effects are requests for work outside the pure machine (generation, verification,
 * embeddings, reflection, a training step); their results come back as events. Records are the
 * append-only rows a transition produces (rollouts, memory events, reflections, metrics).
 */
import type { Phase, PmdConfig } from '../config';
import type { ContextBlock } from '../reprompt';
import type { InsightReply, BehaviorColdReply, BehaviorEvolveReply, MemoryEvent, MemoryState, ReflectorName } from '../memory/types';
import type { ChatMessage } from '../../engine/models/tokenizer';

export const RUN_STATE_VERSION = 1;

export interface Rollout {
  /** `s<step>-<problem>-<index>` */
  id: string;
  problem: string;
  index: number;
  tokens: number[];
  logprobs: number[];
  text: string;
  finish: string;
  reward: number | null;
  feedback: string | null;
  answer: string | null;
  teacher: { text: string; blocks: ContextBlock[]; empty: boolean; masked: boolean } | null;
  /** Per response token, from the update step (distillation): student and teacher log-probs and the divergence. */
  tokensView: { studentLogp: number[]; teacherLogp: number[]; divergence: number[] } | null;
}

export interface EvalSample {
  text: string;
  answer: string | null;
  reward: number;
}

export interface EvalResult {
  step: number;
  split: 'train' | 'test';
  withMemory: boolean;
  n: number;
  k: number;
  avg_at_n: number;
  pass_at_k: number;
  maj_at_k: number;
  best_at_k: number;
  problems: { id: string; samples: EvalSample[] }[];
}

export interface ReflectionRecord {
  id: string;
  step: number;
  purpose: 'insight' | 'behavior-cold' | 'behavior-evolve';
  /** The problem (insight) or the cluster's problems (behavior). */
  problems: string[];
  reflector: ReflectorName;
  attempts: { text: string; status: 'ok' | 'repaired' | 'invalid'; error?: string }[];
  status: 'ok' | 'repaired' | 'failed';
  reply: InsightReply | BehaviorColdReply | BehaviorEvolveReply | null;
}

/** Work of the phase in progress that later phases of the same step read. */
export interface StepWork {
  step: number;
  /** 'train' or, for frozen-memory's first steps, 'memory-build' (no update, no evaluation). */
  stage: 'train' | 'memory-build';
  problems: string[];
  rollouts: Rollout[];
  /** Problems still to reflect on (insight), clusters still to consolidate (behavior). */
  queue: string[];
  /** The reflection being attempted (attempt number) for the head of the queue. */
  attempt: number;
  /** Raw outputs of the current reflection's attempts. */
  reflectionDraft: ReflectionRecord | null;
  /**
   * First attempts of insight reflections asked for together (`reflector.batch`), by reflection
   * id, not yet taken up by the queue; absent in runs stored before batching.
   */
  prefetched?: Record<string, { text: string; reflector: ReflectorName }>;
  /** Behavior consolidation plan: clusters (problem ids per cluster) made at the phase start. */
  clusters: { members: string[]; centroid: number[] }[] | null;
  /** Retrieval query embeddings (teacher phase, with feedback), per rollout id. */
  queries: Record<string, number[]> | null;
  update: { loss: number | null; gradNorm: number | null; tokens: number; masked: number; trainerVersion: number } | null;
  eval: {
    ids: string[];
    withMemory: boolean;
    /** Samples verified so far, per problem, in sample order. */
    done: Record<string, EvalSample[]>;
    /** Requests finished (generated and verified). */
    finished: number;
    /** Generated, awaiting verification. */
    generated: { key: string; text: string }[] | null;
    queries: Record<string, number[]> | null;
  } | null;
  evalResult: EvalResult | null;
}

export type GenPurpose = 'rollout' | 'eval' | 'reflect';

export interface GenRequest {
  key: string;
  /** The user message (the chat template is applied by the executor). */
  prompt: string;
}

/** One reflection of a reflect-batch effect: what a reflect effect carries, keyed by the reflection's id. */
export interface ReflectRequest {
  key: string;
  purpose: ReflectionRecord['purpose'];
  messages: ChatMessage[];
  evidence: ReflectEvidence;
  seed: number;
}

export type Effect =
  | { kind: 'generate'; id: string; purpose: GenPurpose; requests: GenRequest[]; sampling: { temperature: number; topP: number; topK: number; maxNewTokens: number; seed: number } }
  | { kind: 'verify'; id: string; items: { key: string; task: string; response: string }[]; tests: 'train' | 'all' }
  | { kind: 'embed'; id: string; items: { key: string; text: string }[] }
  | {
      kind: 'reflect';
      id: string;
      purpose: ReflectionRecord['purpose'];
      messages: ChatMessage[];
      /** Structured evidence for a rule-based reflector (the same content as the prompt). */
      evidence: ReflectEvidence;
      seed: number;
    }
  | {
      /** First attempts of several insight reflections at once (one generation call for the policy reflector). */
      kind: 'reflect-batch';
      id: string;
      requests: ReflectRequest[];
    }
  | {
      kind: 'train';
      id: string;
      loss: { kind: 'distill'; alpha: number; topk: number } | { kind: 'grpo'; clipEps: number };
      samples: { key: string; prompt: string; teacher: string | null; response: number[]; advantage?: number }[];
      /** The checkpoint version the result is saved under. */
      version: number;
    };

export type ReflectEvidence =
  | { purpose: 'insight'; problem: string; question: string; successes: string[]; failures: { response: string; feedback: string }[]; correct: number; total: number }
  | {
      purpose: 'behavior-cold' | 'behavior-evolve';
      problems: { id: string; question: string; strategies: string[]; lessons: string[]; successes: string[] }[];
      existing: { name: string; instruction: string }[];
    };

export type EffectResult =
  | { kind: 'generate'; outputs: Record<string, { tokens: number[]; logprobs: number[]; text: string; finish: string }> }
  | { kind: 'verify'; verdicts: Record<string, { reward: number; feedback: string; answer: string | null }> }
  | { kind: 'embed'; vectors: Record<string, number[]> }
  | { kind: 'reflect'; text: string; reflector: ReflectorName }
  | { kind: 'reflect-batch'; replies: Record<string, { text: string; reflector: ReflectorName }> }
  | {
      kind: 'train';
      loss: number;
      gradNorm: number;
      tokens: number;
      /** Per sample key, per response token (distillation). */
      diagnostics: Record<string, { studentLogp: number[]; teacherLogp: number[]; divergence: number[] }>;
    };

export type RunEvent =
  | { type: 'next' }
  | { type: 'result'; effect: string; result: EffectResult }
  | { type: 'set-freeze'; policy?: boolean; memory?: boolean };

/** Rows a transition appends to the run's logs. */
export type RunRecord =
  | { kind: 'rollout'; step: number; rollout: Rollout }
  | { kind: 'memory-event'; event: MemoryEvent }
  | { kind: 'reflection'; reflection: ReflectionRecord }
  | { kind: 'metric'; metric: StepMetric }
  | { kind: 'eval'; eval: EvalResult }
  | { kind: 'control'; step: number; change: { freezePolicy?: boolean; freezeMemory?: boolean } }
  /** Wall-clock time of one effect (written by the driver, not the machine: it differs between runs). */
  | { kind: 'timing'; step: number; phase: string; effect: Effect['kind']; ms: number };

export interface StepMetric {
  step: number;
  stage: StepWork['stage'];
  reward_mean: number;
  loss: number | null;
  masked: number;
  grad_norm: number | null;
  divergence_mean: number | null;
  memory: { experience: number; insights: number; behaviors: number };
  eval?: { avg_at_n: number; pass_at_k: number; maj_at_k: number; best_at_k: number; with_memory: boolean };
}

export interface RunState {
  version: typeof RUN_STATE_VERSION;
  config: PmdConfig;
  /** Transitions committed so far (records carry the seq of the transition that wrote them). */
  seq: number;
  /** The step in progress (1-based); steps completed = step - 1 while running. */
  step: number;
  phase: Phase | 'done';
  /** Effects issued within the current phase (part of every effect id). */
  cursor: number;
  work: StepWork | null;
  memory: MemoryState;
  /** Trainer checkpoint the state corresponds to (0: the fresh adapter). */
  trainerVersion: number;
  /** The effect awaited, if any. */
  pending: Effect | null;
  /** Total steps including frozen-memory's build steps. */
  totalSteps: number;
}
