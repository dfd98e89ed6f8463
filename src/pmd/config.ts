/**
 * PmdConfig: every setting of a PMD run, with its one default, its one-line explanation and
 * its valid range (PMD_FIELDS), the variant presets that change defaults, and one validation
 * that returns every problem with its field path. The CLI (`pmd-lab run`), the worker and the
 * playground's setup form derive from it; a resolved config is plain JSON and reproduces a run.
 *
 * Defaults are the playground's scaled-down values (a tiny model on a CPU); docs/pmd.md lists
 * them beside the paper's.
 */
import { TRAIN_DEFAULTS, TRAIN_FIELDS, type OptimizerConfig, type TrainConfig } from '../engine/train/config';
import { ConfigError, mergeConfig, validateFields, type ConfigField, type ConfigProblem } from '../util/config-fields';
import { isRecord } from '../util/records';

export const VARIANTS = ['pmd', 'pmd-transient', 'frozen-memory', 'frozen-policy', 'sdpo', 'grpo'] as const;
export type Variant = (typeof VARIANTS)[number];

export const MEMORY_LEVELS = ['experience', 'insight', 'behavior'] as const;
export type MemoryLevelName = (typeof MEMORY_LEVELS)[number];

export const PHASES = ['rollout', 'verify', 'experience', 'insight', 'behavior', 'teacher', 'update', 'evaluate'] as const;
export type Phase = (typeof PHASES)[number];

export interface PmdConfig {
  variant: Variant;
  seed: number;
  /** Training steps of the run. */
  steps: number;
  /** B: problems per step. */
  problemsPerStep: number;
  /** G: rollouts per problem. */
  rolloutsPerProblem: number;
  /** Memory levels the teacher sees (empty for sdpo and grpo). */
  memoryLevels: MemoryLevelName[];
  rollout: { temperature: number; topP: number; topK: number; maxNewTokens: number; /** sequences per generate call */ chunk: number };
  experience: { maxSuccesses: number; maxFailures: number; /** cosine above which a new item is a near-duplicate */ novelty: number };
  insight: { novelty: number; /** items per kind (strategy, lesson) kept per problem */ maxPerKind: number };
  behavior: {
    /** Consolidate every K steps. */
    every: number;
    maxBank: number;
    /** Number of k-means clusters; 0: about the square root of half the problems seen. */
    clusters: number;
    /** Below this bank size a consolidation asks for new behaviors from scratch (cold start). */
    coldStartBelow: number;
    /** Existing behaviors shown to the reflector per cluster when evolving the bank. */
    evolveShown: number;
    /** Top-K behaviors in a teacher context. */
    retrieveK: number;
    /** Add the rollout's feedback to the retrieval query. */
    retrieveWithFeedback: boolean;
    novelty: number;
  };
  teacher: {
    /** Feedback block: always when the rollout failed with feedback, or only when no solution is shown (SDPO's default). */
    feedback: 'always' | 'when-no-solution';
    /** A rollout counts as a success at or above this reward. */
    successThreshold: number;
    maxBlockChars: number;
  };
  loss: { alpha: number; topk: number; clipEps: number };
  train: Pick<TrainConfig, 'lora' | 'optimizer' | 'emaTau' | 'microBatchSize'>;
  reflector: {
    kind: 'policy' | 'endpoint' | 'rule';
    /** OpenAI-compatible chat endpoint (kind "endpoint"): base URL, model name. */
    endpoint: string;
    model: string;
    temperature: number;
    maxNewTokens: number;
    /** Insight reflections of a step asked for together: one generation call for the policy reflector. */
    batch: number;
  };
  embedder: { kind: 'policy' | 'transformers'; /** model folder or Hub id for "transformers" */ model: string };
  /** How a question finds memory (behaviors for the teacher; insights and behaviors at evaluation). */
  retrieval: { /** Share of the score from BM25 word matching; the rest is embedding cosine (0: the paper's cosine only). */ lexicalWeight: number };
  eval: { every: number; n: number; k: number; split: 'train' | 'test'; maxProblems: number; temperature: number; withMemory: 'auto' | 'always' | 'never' };
  /** Live switches, also set by the variants. */
  freeze: { policy: boolean; memory: boolean };
  /** frozen-memory: steps of memory building with the initial policy before the memory is fixed (0: one pass over the train split). */
  memoryBuildSteps: number;
}

export const PMD_DEFAULTS: PmdConfig = {
  variant: 'pmd',
  seed: 0,
  steps: 24,
  problemsPerStep: 8,
  rolloutsPerProblem: 4,
  memoryLevels: ['experience', 'insight', 'behavior'],
  rollout: { temperature: 1, topP: 1, topK: 0, maxNewTokens: 48, chunk: 64 },
  experience: { maxSuccesses: 5, maxFailures: 3, novelty: 0.98 },
  insight: { novelty: 0.97, maxPerKind: 6 },
  behavior: { every: 4, maxBank: 500, clusters: 0, coldStartBelow: 8, evolveShown: 8, retrieveK: 3, retrieveWithFeedback: false, novelty: 0.98 },
  teacher: { feedback: 'always', successThreshold: 0.5, maxBlockChars: 2000 },
  loss: { alpha: 0.5, topk: 20, clipEps: 0.2 },
  train: {
    lora: { ...TRAIN_DEFAULTS.lora },
    optimizer: { ...TRAIN_DEFAULTS.optimizer, lr: 2e-3 },
    emaTau: 0.05,
    microBatchSize: null,
  },
  reflector: { kind: 'policy', endpoint: '', model: '', temperature: 0.7, maxNewTokens: 256, batch: 4 },
  embedder: { kind: 'policy', model: '' },
  retrieval: { lexicalWeight: 0 },
  eval: { every: 8, n: 4, k: 4, split: 'test', maxProblems: 64, temperature: 1, withMemory: 'auto' },
  freeze: { policy: false, memory: false },
  memoryBuildSteps: 0,
};

/** What each variant changes in the defaults (the rest is PMD). */
export const VARIANT_PRESETS: Record<Variant, Record<string, unknown>> = {
  pmd: {},
  'pmd-transient': {},
  'frozen-memory': {},
  'frozen-policy': { freeze: { policy: true, memory: false } },
  sdpo: { memoryLevels: [], teacher: { feedback: 'when-no-solution' } },
  grpo: { memoryLevels: [] },
};

const num = (min: number, max: number, integer = false, above = false) => ({ kind: 'number' as const, min, max, integer, above });

const trainFields: ConfigField[] = TRAIN_FIELDS.filter((f) => /^(lora|optimizer)\.|^emaTau$|^microBatchSize$/.test(f.path)).map((f) => ({ ...f, path: `train.${f.path}`, flag: undefined }));

export const PMD_FIELDS: readonly ConfigField[] = [
  { path: 'variant', flag: 'variant', help: 'Which method runs: PMD, or one of its ablations and baselines.', spec: { kind: 'enum', values: VARIANTS } },
  { path: 'seed', flag: 'seed', help: 'Seeds problem order, sampling, reflection, clustering and the adapter.', spec: num(0, 2 ** 32 - 1, true) },
  { path: 'steps', flag: 'steps', help: 'Training steps (each: rollouts, memory, teacher, update).', spec: num(1, 1e6, true) },
  { path: 'problemsPerStep', help: 'B: problems drawn from the train split per step.', spec: num(1, 4096, true) },
  { path: 'rolloutsPerProblem', help: 'G: student attempts per problem.', spec: num(1, 256, true) },
  { path: 'memoryLevels', help: 'Memory the teacher sees: experience (solutions, feedback), insight, behavior.', spec: { kind: 'set', values: MEMORY_LEVELS, item: 'memory level' } },
  { path: 'rollout.temperature', help: 'Sampling temperature of rollouts (the paper: 1).', spec: num(0, 5) },
  { path: 'rollout.topP', help: 'Nucleus sampling of rollouts (1: off).', spec: num(0, 1, false, true) },
  { path: 'rollout.topK', help: 'Top-k sampling of rollouts (0: off).', spec: num(0, 1e6, true) },
  { path: 'rollout.maxNewTokens', help: 'Longest response a rollout may write.', spec: num(1, 1e5, true) },
  { path: 'rollout.chunk', help: 'Sequences per generation call (a persisted unit of work).', spec: num(1, 4096, true) },
  { path: 'experience.maxSuccesses', help: 'Successful rollouts kept per problem.', spec: num(0, 100, true) },
  { path: 'experience.maxFailures', help: 'Failed rollouts (with feedback) kept per problem.', spec: num(0, 100, true) },
  { path: 'experience.novelty', help: 'Cosine similarity above which a new rollout duplicates a stored one.', spec: num(0, 1) },
  { path: 'insight.novelty', help: 'Cosine similarity above which a new insight duplicates a stored one.', spec: num(0, 1) },
  { path: 'insight.maxPerKind', help: 'Strategies (and lessons) kept per problem; new ones beyond are rejected.', spec: num(1, 1000, true) },
  { path: 'behavior.every', help: 'Consolidate behaviors every K steps.', spec: num(1, 1e6, true) },
  { path: 'behavior.maxBank', help: 'Largest behavior bank.', spec: num(1, 100000, true) },
  { path: 'behavior.clusters', help: 'k-means clusters of questions (0: about √(problems / 2)).', spec: num(0, 10000, true) },
  { path: 'behavior.coldStartBelow', help: 'Below this bank size, ask for behaviors from scratch.', spec: num(0, 100000, true) },
  { path: 'behavior.evolveShown', help: 'Existing behaviors shown per cluster when evolving the bank.', spec: num(0, 1000, true) },
  { path: 'behavior.retrieveK', help: 'Behaviors retrieved into each teacher context.', spec: num(0, 100, true) },
  { path: 'behavior.retrieveWithFeedback', help: "Add the rollout's feedback to the behavior retrieval query.", spec: { kind: 'boolean' } },
  { path: 'behavior.novelty', help: 'Cosine similarity above which a new behavior duplicates one in the bank.', spec: num(0, 1) },
  { path: 'teacher.feedback', help: "When the teacher sees a failed rollout's feedback.", spec: { kind: 'enum', values: ['always', 'when-no-solution'] } },
  { path: 'teacher.successThreshold', help: 'Reward at or above which a rollout is a success.', spec: num(0, 1) },
  { path: 'teacher.maxBlockChars', help: 'Longest text of one memory block in a teacher context.', spec: num(100, 1e6, true) },
  { path: 'loss.alpha', help: 'Divergence: 0 forward KL, 1 reverse KL, between: the mixture form.', spec: num(0, 1) },
  { path: 'loss.topk', help: "Student's top-k tokens per position (plus one tail bucket).", spec: num(1, 1000, true) },
  { path: 'loss.clipEps', help: 'GRPO: clip of the probability ratio.', spec: num(0, 10, false, true) },
  ...trainFields,
  { path: 'reflector.kind', help: 'Who reflects: the policy itself, an OpenAI-compatible endpoint, or the task world’s rules.', spec: { kind: 'enum', values: ['policy', 'endpoint', 'rule'] } },
  { path: 'reflector.endpoint', help: 'Base URL of an OpenAI-compatible server (llama.cpp, Ollama, LM Studio, vLLM).', spec: { kind: 'string' } },
  { path: 'reflector.model', help: 'Model name the endpoint serves.', spec: { kind: 'string' } },
  { path: 'reflector.temperature', help: "Reflector's sampling temperature.", spec: num(0, 5) },
  { path: 'reflector.maxNewTokens', help: 'Longest reflection.', spec: num(16, 1e5, true) },
  { path: 'reflector.batch', help: "Insight reflections of a step asked for together (the policy reflector writes them in one generation call; 1: one at a time).", spec: num(1, 256, true) },
  { path: 'embedder.kind', help: "Embeddings: the policy's mean-pooled hidden state, or a sentence-embedding model.", spec: { kind: 'enum', values: ['policy', 'transformers'] } },
  { path: 'embedder.model', help: 'Sentence-embedding model (folder or Hub id) for "transformers".', spec: { kind: 'string' } },
  { path: 'retrieval.lexicalWeight', help: 'Retrieval score: embedding cosine blended with BM25 word matching (0: cosine only, as the paper; 1: words only).', spec: num(0, 1) },
  { path: 'eval.every', help: 'Evaluate every this many steps (and after the last).', spec: num(1, 1e6, true) },
  { path: 'eval.n', help: 'Samples per evaluation problem (avg@n).', spec: num(1, 1000, true) },
  { path: 'eval.k', help: 'k of pass@k, maj@k and best@k (at most n).', spec: num(1, 1000, true) },
  { path: 'eval.split', help: 'Split evaluated (held out: test).', spec: { kind: 'enum', values: ['train', 'test'] } },
  { path: 'eval.maxProblems', help: 'Evaluate at most this many problems (0: all).', spec: num(0, 1e6, true) },
  { path: 'eval.temperature', help: 'Sampling temperature at evaluation.', spec: num(0, 5) },
  { path: 'eval.withMemory', help: 'Memory in the evaluation prompt: auto (frozen policy only), always, never.', spec: { kind: 'enum', values: ['auto', 'always', 'never'] } },
  { path: 'freeze.policy', help: 'No updates: the adapter stays as it is.', spec: { kind: 'boolean' } },
  { path: 'freeze.memory', help: 'Memory changes no more.', spec: { kind: 'boolean' } },
  { path: 'memoryBuildSteps', help: 'frozen-memory: steps that build memory with the initial policy (0: one pass over the train split).', spec: num(0, 1e6, true) },
];

/** Defaults of a variant: PMD_DEFAULTS with the variant's preset laid over. */
export function variantDefaults(variant: Variant): PmdConfig {
  return mergeConfig(PMD_DEFAULTS, { ...VARIANT_PRESETS[variant], variant });
}

export function validatePmdConfig(c: unknown): ConfigProblem[] {
  const problems = validateFields(PMD_FIELDS, PMD_DEFAULTS, c);
  if (problems.length || !isRecord(c)) return problems;
  const cfg = c as unknown as PmdConfig;
  if ((cfg.variant === 'sdpo' || cfg.variant === 'grpo') && cfg.memoryLevels.length > 0) problems.push({ path: 'memoryLevels', message: `must be empty for ${cfg.variant} (it uses no memory)` });
  if (cfg.eval.k > cfg.eval.n) problems.push({ path: 'eval.k', message: `must be <= eval.n (${cfg.eval.n})` });
  if (cfg.reflector.kind === 'endpoint' && !/^https?:\/\//.test(cfg.reflector.endpoint)) problems.push({ path: 'reflector.endpoint', message: 'needs an http(s) URL for the endpoint reflector' });
  if (cfg.embedder.kind === 'transformers' && !cfg.embedder.model) problems.push({ path: 'embedder.model', message: 'names the sentence-embedding model for the transformers embedder' });
  return problems;
}

/**
 * A full config from a partial one (a config file, flags, a form): the variant's defaults with
 * the partial laid over, validated; throws a ConfigError listing every problem.
 */
export function resolvePmdConfig(partial: unknown = {}): PmdConfig {
  if (partial !== undefined && !isRecord(partial)) throw new ConfigError('run config', [{ path: '', message: 'must be a JSON object' }]);
  const v = isRecord(partial) ? partial.variant : undefined;
  const variant = (VARIANTS as readonly unknown[]).includes(v) ? (v as Variant) : 'pmd';
  const c = mergeConfig(variantDefaults(variant), partial ?? {});
  const problems = validatePmdConfig(c);
  if (problems.length) throw new ConfigError('run config', problems);
  return c;
}

/** The TrainConfig the update step uses (SFT-only fields at their defaults). */
export function trainConfigOf(c: PmdConfig): TrainConfig {
  return { ...TRAIN_DEFAULTS, ...c.train, lora: { ...c.train.lora }, optimizer: { ...(c.train.optimizer as OptimizerConfig) }, seed: c.seed, teacher: 'ema' };
}

/** Whether this configuration evaluates with memory in the prompt. */
export function evaluatesWithMemory(c: PmdConfig): boolean {
  return c.eval.withMemory === 'always' || (c.eval.withMemory === 'auto' && c.variant === 'frozen-policy');
}

/** Fields whose values differ between two configs (for comparing runs). */
export function configDifferences(a: PmdConfig, b: PmdConfig): string[] {
  const out: string[] = [];
  for (const f of PMD_FIELDS) {
    const get = (c: PmdConfig) => JSON.stringify(f.path.split('.').reduce<unknown>((o, k) => (isRecord(o) ? o[k] : undefined), c));
    if (get(a) !== get(b)) out.push(f.path);
  }
  return out;
}
