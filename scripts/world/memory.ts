/**
 * A small stand-in for the loop's memory, enough to measure what memory does in this world:
 * per-problem experience (at most 5 successes and 3 failures with feedback) and insights (the
 * rule reflector's replies, new items appended), a behavior bank built by clustering the
 * problems' question embeddings (k-means) and asking the rule reflector per cluster (cold
 * start while the bank is small, evolution afterwards), and retrieval as the loop does it
 * (embedding cosine blended with BM25 word matching by `lexicalWeight`, src/pmd/embed/retrieve.ts).
 * The real loop (another module) owns novelty gates, eviction and event logs; this does not.
 */
import { kmeans } from 'ml-kmeans';
import { retrieve, type RetrievalQuery } from '../../src/pmd/embed/retrieve';
import { behaviorText } from '../../src/pmd/memory/behavior';
import type { InsightReply } from '../../src/pmd/memory/types';
import type { ContextParts } from '../../src/pmd/reprompt';
import { reflectBehaviorsCold, reflectBehaviorsEvolve, type ClusterProblem } from '../../src/pmd/world/behavior-reflector';
import { reflectInsights } from '../../src/pmd/world/insight-reflector';
import type { WorldTask } from '../../src/pmd/world/suite';
import type { ScoredTask } from './rollouts';
import { topK, type HiddenStateEmbedder } from './embedder';

export const EXPERIENCE_LIMITS = { successes: 5, failures: 3 };

export interface ProblemRecord {
  task: WorldTask;
  embedding: number[];
  successes: { response: string }[];
  failures: { response: string; feedback: string }[];
  insights: InsightReply;
}

export interface BehaviorRecord {
  name: string;
  instruction: string;
  embedding: number[];
}

export interface WorldMemory {
  problems: ProblemRecord[];
  behaviors: BehaviorRecord[];
}

export function newRecord(task: WorldTask, embedding: number[]): ProblemRecord {
  return { task, embedding, successes: [], failures: [], insights: { strategies: [], lessons: [] } };
}

/** Store a problem's scored rollouts (distinct texts, within the limits), then reflect on it. */
export function recordRollouts(rec: ProblemRecord, s: Pick<ScoredTask, 'responses' | 'rewards' | 'feedback'>): void {
  s.responses.forEach((response, i) => {
    if (s.rewards[i] >= 0.5) {
      if (rec.successes.length < EXPERIENCE_LIMITS.successes && !rec.successes.some((x) => x.response === response)) rec.successes.push({ response });
    } else if (rec.failures.length < EXPERIENCE_LIMITS.failures && !rec.failures.some((x) => x.response === response)) {
      rec.failures.push({ response, feedback: s.feedback[i] });
    }
  });
  const reply = reflectInsights({ problem: rec.task.problem, successes: rec.successes, failures: rec.failures });
  for (const kind of ['strategies', 'lessons'] as const) {
    for (const item of reply[kind]) {
      if (!rec.insights[kind].some((x) => x.title === item.title && x.content === item.content)) rec.insights[kind].push(item);
    }
  }
}

function clusterSummary(recs: readonly ProblemRecord[]): ClusterProblem[] {
  return recs.map((r) => ({
    problem: r.task.problem,
    insights: [...r.insights.strategies, ...r.insights.lessons],
    evidence: { problem: r.task.problem, successes: r.successes, failures: r.failures },
  }));
}

/**
 * Consolidate behaviors over `recs`: k-means on question embeddings (seeded); per cluster a
 * cold start when the bank has fewer than `coldBelow` behaviors, else evolution against the
 * `retrieve` behaviors most similar to the cluster's centroid.
 */
export async function consolidate(mem: WorldMemory, recs: readonly ProblemRecord[], embedder: HiddenStateEmbedder, o: { clusters: number; seed: number; coldBelow: number; retrieve: number }): Promise<void> {
  if (recs.length === 0) return;
  const k = Math.min(o.clusters, recs.length);
  const { clusters, centroids } = kmeans(recs.map((r) => r.embedding), k, { seed: o.seed, initialization: 'kmeans++' });
  const upsert = async (name: string, instruction: string) => {
    const [embedding] = await embedder.embed([behaviorText(name, instruction)]);
    const at = mem.behaviors.findIndex((b) => b.name === name);
    if (at >= 0) mem.behaviors[at] = { name, instruction, embedding };
    else mem.behaviors.push({ name, instruction, embedding });
  };
  for (let c = 0; c < k; c++) {
    const members = recs.filter((_, i) => clusters[i] === c);
    if (!members.length) continue;
    const summary = clusterSummary(members);
    if (mem.behaviors.length < o.coldBelow) {
      for (const b of reflectBehaviorsCold(summary).behaviors) await upsert(b.name, b.instruction);
      continue;
    }
    const norm = Math.sqrt(centroids[c].reduce((a, x) => a + x * x, 0)) || 1;
    const near = topK(centroids[c].map((x) => x / norm), mem.behaviors.map((b) => b.embedding), o.retrieve).map((i) => mem.behaviors[i]);
    for (const a of reflectBehaviorsEvolve(summary, near).actions) {
      if (a.action === 'remove') mem.behaviors = mem.behaviors.filter((b) => b.name !== a.name);
      else await upsert(a.name, a.instruction);
    }
  }
}

/** Memory blocks for a question: insights of its `neighbors` most similar problems and the top behaviors. */
export function retrieveMemory(mem: WorldMemory, question: RetrievalQuery, o: { neighbors: number; behaviors: number; lexicalWeight: number; exclude?: string }): Pick<ContextParts, 'strategies' | 'lessons' | 'behaviors'> & { neighborIds: string[] } {
  const pool = mem.problems.filter((p) => p.task.id !== o.exclude);
  const near = retrieve(question, pool, { vector: (p) => p.embedding, text: (p) => p.task.problem, k: o.neighbors, lexicalWeight: o.lexicalWeight }).map((x) => x.item);
  const items = (kind: 'strategies' | 'lessons') => {
    const seen = new Set<string>();
    return near.flatMap((p) => p.insights[kind]).filter((x) => !seen.has(x.content) && seen.add(x.content)).map((x, i) => ({ id: `${kind}-${i}`, ...x }));
  };
  const behaviors = retrieve(question, mem.behaviors, { vector: (b) => b.embedding, text: (b) => behaviorText(b.name, b.instruction), k: o.behaviors, lexicalWeight: o.lexicalWeight }).map((x) => x.item);
  return { strategies: items('strategies'), lessons: items('lessons'), behaviors, neighborIds: near.map((p) => p.task.id) };
}
