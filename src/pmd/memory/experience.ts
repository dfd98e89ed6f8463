/**
 * Experience memory (PMD-SPEC step 3): per problem, at most `maxSuccesses` successful rollouts
 * and `maxFailures` (failure, feedback) pairs. A new rollout whose embedding is closer than the
 * novelty threshold (cosine) to a stored item of the same kind is rejected as a near-duplicate;
 * when a kind is over its bound, the stored item most redundant with the others (highest
 * cosine to its nearest neighbour) is evicted.
 */
import { cosine } from '../embed/vectors';
import type { ExperienceItem, ItemSource, MemoryEvent, ProblemMemory } from './types';

export interface ExperienceBounds {
  maxSuccesses: number;
  maxFailures: number;
  novelty: number;
}

/** A rollout offered to experience memory: an item before it has a source. */
export type ExperienceCandidate = Omit<ExperienceItem, 'source'>;

/** An item as events show it (without its embedding). */
export function experienceView(x: ExperienceItem): Omit<ExperienceItem, 'embedding'> {
  const { embedding: _e, ...rest } = x;
  return rest;
}

function nearest(v: number[], items: readonly ExperienceItem[], skip?: ExperienceItem): number {
  let best = -Infinity;
  for (const it of items) if (it !== skip) best = Math.max(best, cosine(v, it.embedding));
  return best;
}

export function addExperience(pm: ProblemMemory, candidates: readonly ExperienceCandidate[], b: ExperienceBounds, source: Omit<ItemSource, 'rollouts'>, problem: string): { memory: ProblemMemory; events: MemoryEvent[] } {
  const items = [...pm.experience];
  const events: MemoryEvent[] = [];
  for (const c of candidates) {
    const same = items.filter((x) => x.kind === c.kind);
    const bound = c.kind === 'success' ? b.maxSuccesses : b.maxFailures;
    const item: ExperienceItem = { ...c, source: { ...source, rollouts: [c.id] } };
    const cause = { rollouts: [c.id], reason: '' };
    if (bound === 0) {
      events.push({ step: source.step, level: 'experience', op: 'reject', problem, item: c.id, cause: { ...cause, reason: `no ${c.kind}es are kept (bound 0)` } });
      continue;
    }
    const sim = nearest(c.embedding, same);
    if (sim > b.novelty) {
      events.push({ step: source.step, level: 'experience', op: 'reject', problem, item: c.id, cause: { ...cause, reason: `near-duplicate of a stored ${c.kind} (cosine ${sim.toFixed(4)} > ${b.novelty})` } });
      continue;
    }
    items.push(item);
    events.push({ step: source.step, level: 'experience', op: 'add', problem, item: c.id, cause: { ...cause, reason: `new ${c.kind}` }, after: experienceView(item) });
    const pool = items.filter((x) => x.kind === c.kind);
    if (pool.length > bound) {
      // Evict the stored (older) item with the closest neighbour in the pool.
      let victim: ExperienceItem | null = null;
      let worst = -Infinity;
      for (const x of pool) {
        if (x === item) continue;
        const r = nearest(x.embedding, pool, x);
        if (r > worst) {
          worst = r;
          victim = x;
        }
      }
      if (victim) {
        items.splice(items.indexOf(victim), 1);
        events.push({
          step: source.step,
          level: 'experience',
          op: 'evict',
          problem,
          item: victim.id,
          cause: { rollouts: [c.id], reason: `${c.kind}es over ${bound}: the most redundant stored item goes (nearest cosine ${worst.toFixed(4)})` },
          before: experienceView(victim),
        });
      }
    }
  }
  return { memory: { ...pm, experience: items }, events };
}
