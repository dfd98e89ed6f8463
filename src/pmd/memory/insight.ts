/**
 * Insight memory (PMD-SPEC step 4): strategies and lessons per problem, appended, never
 * overwritten. A new item closer than the novelty threshold (cosine of embeddings) to a stored
 * item of its kind is rejected, and so is one beyond `maxPerKind`.
 */
import { cosine } from '../embed/vectors';
import type { InsightItem, InsightReply, ItemSource, MemoryEvent, ProblemMemory } from './types';

export interface InsightBounds {
  novelty: number;
  maxPerKind: number;
}

export function insightView(x: InsightItem): Omit<InsightItem, 'embedding'> {
  const { embedding: _e, ...rest } = x;
  return rest;
}

/** The reply's items in a fixed order (strategies first), with the ids they will get. */
export function insightCandidates(reply: InsightReply, idPrefix: string): { id: string; kind: InsightItem['kind']; title: string; content: string }[] {
  return [
    ...reply.strategies.map((x, i) => ({ id: `${idPrefix}-s${i}`, kind: 'strategy' as const, ...x })),
    ...reply.lessons.map((x, i) => ({ id: `${idPrefix}-l${i}`, kind: 'lesson' as const, ...x })),
  ];
}

/** Text an insight item is embedded from. */
export const insightText = (x: { title: string; content: string }) => `${x.title}: ${x.content}`;

export function mergeInsights(
  pm: ProblemMemory,
  reply: InsightReply,
  embeddings: Record<string, number[]>,
  b: InsightBounds,
  source: ItemSource,
  idPrefix: string,
  problem: string,
): { memory: ProblemMemory; events: MemoryEvent[] } {
  const items = [...pm.insights];
  const events: MemoryEvent[] = [];
  const cause = { rollouts: source.rollouts, reflection: source.reflection, reflector: source.reflector };
  for (const c of insightCandidates(reply, idPrefix)) {
    const embedding = embeddings[c.id];
    if (!embedding) throw new Error(`insight ${c.id} has no embedding`);
    const same = items.filter((x) => x.kind === c.kind);
    let sim = -Infinity;
    for (const x of same) sim = Math.max(sim, cosine(embedding, x.embedding));
    if (sim > b.novelty) {
      events.push({ step: source.step, level: 'insight', op: 'reject', problem, item: c.id, cause: { ...cause, reason: `near-duplicate of a stored ${c.kind} (cosine ${sim.toFixed(4)} > ${b.novelty})` }, after: { title: c.title, content: c.content } });
      continue;
    }
    if (same.length >= b.maxPerKind) {
      events.push({ step: source.step, level: 'insight', op: 'reject', problem, item: c.id, cause: { ...cause, reason: `this problem already keeps ${b.maxPerKind} ${c.kind === 'strategy' ? 'strategies' : 'lessons'}` }, after: { title: c.title, content: c.content } });
      continue;
    }
    const item: InsightItem = { ...c, embedding, source };
    items.push(item);
    events.push({ step: source.step, level: 'insight', op: 'add', problem, item: c.id, cause: { ...cause, reason: `new ${c.kind}` }, after: insightView(item) });
  }
  return { memory: { ...pm, insights: items }, events };
}
