/**
 * The three levels of procedural memory (PMD-SPEC steps 3 to 5) as plain, serializable data:
 *  - experience (level 0, per problem): bounded successful rollouts and (failure, feedback) pairs;
 *  - insight (level 1, per problem): strategies and lessons the reflector wrote;
 *  - behavior (level 2, global bank): named reusable instructions distilled from clusters.
 * Every item records where it came from (the rollouts or the reflection call, and which
 * reflector wrote it), and every change is an event in the run's log.
 */

export type MemoryLevel = 'experience' | 'insight' | 'behavior';

/** Who wrote an item: the policy itself, an OpenAI-compatible endpoint, or a world's rule-based reflector. */
export type ReflectorName = `policy` | `endpoint:${string}` | `rule:${string}`;

/** Where an item comes from: rollouts (by id) and/or one reflection call. */
export interface ItemSource {
  step: number;
  rollouts: string[];
  reflection?: string;
  reflector?: ReflectorName;
}

export interface ExperienceItem {
  id: string;
  kind: 'success' | 'failure';
  /** The rollout's response text (think blocks included: it is what the model wrote). */
  response: string;
  reward: number;
  /** Verifier feedback (failures; '' when the verifier gave none). */
  feedback: string;
  /** Unit-normalised embedding of the response (novelty gate). */
  embedding: number[];
  source: ItemSource;
}

export interface InsightItem {
  id: string;
  kind: 'strategy' | 'lesson';
  title: string;
  content: string;
  embedding: number[];
  source: ItemSource;
}

export interface BehaviorChange {
  step: number;
  op: 'new' | 'update' | 'remove';
  instruction?: string;
  reflection?: string;
}

export interface Behavior {
  /** snake_case, starting with "behavior_"; unique in the bank. */
  name: string;
  instruction: string;
  /** The cluster (at the consolidation that made or last changed it) and its problems. */
  cluster: number;
  problems: string[];
  embedding: number[];
  source: ItemSource;
  history: BehaviorChange[];
}

export interface ProblemMemory {
  /** The question as posed and its embedding (retrieval of this problem's insights for similar questions). */
  question?: { text: string; embedding: number[] };
  experience: ExperienceItem[];
  insights: InsightItem[];
}

export interface MemoryState {
  /** Per problem id. */
  problems: Record<string, ProblemMemory>;
  behaviors: Behavior[];
  /** Consolidations run so far (cadence bookkeeping). */
  consolidations: number;
  /** Step of the last consolidation (0: none yet). */
  lastConsolidation: number;
}

export function emptyMemory(): MemoryState {
  return { problems: {}, behaviors: [], consolidations: 0, lastConsolidation: 0 };
}

/** One change of memory, as logged in memory/events.jsonl. */
export interface MemoryEvent {
  step: number;
  level: MemoryLevel;
  op: 'add' | 'update' | 'remove' | 'evict' | 'reject' | 'clear';
  /** The problem it concerns (experience and insight), absent for behaviors. */
  problem?: string;
  /** Item id (experience, insight) or behavior name. */
  item: string;
  /** Why: the rollouts or reflection call behind it, and a short reason. */
  cause: { rollouts?: string[]; reflection?: string; reflector?: ReflectorName; reason: string };
  before?: unknown;
  after?: unknown;
}

/** The JSON a reflector returns for one problem (PMD-SPEC step 4). */
export interface InsightReply {
  strategies: { title: string; content: string }[];
  lessons: { title: string; content: string }[];
}

/** The JSON a reflector returns at cold start (PMD-SPEC step 5). */
export interface BehaviorColdReply {
  behaviors: { name: string; instruction: string }[];
}

export type BehaviorAction = { action: 'new' | 'update'; name: string; instruction: string } | { action: 'remove'; name: string };

/** The JSON a reflector returns once the bank has behaviors. */
export interface BehaviorEvolveReply {
  actions: BehaviorAction[];
}
