/**
 * How a question finds memory: the behaviors of a teacher context (PMD-SPEC step 6) and, for an
 * evaluation with memory in context, the insights of the nearest train problems. Both rank by
 * embedding cosine, blended with BM25 word matching by `retrieval.lexicalWeight` (embed/retrieve.ts).
 */
import { retrieve, type RetrievalQuery } from '../embed/retrieve';
import { behaviorText } from '../memory/behavior';
import type { Behavior, MemoryState } from '../memory/types';
import type { PmdConfig } from '../config';

/** `retrieval.lexicalWeight`; 0 (cosine only) for a run stored before the setting existed. */
export const lexicalWeightOf = (c: Partial<Pick<PmdConfig, 'retrieval'>>): number => c.retrieval?.lexicalWeight ?? 0;

/** The k behaviors that best match the question, best first. */
export function retrieveBehaviors(memory: MemoryState, q: RetrievalQuery, k: number, lexicalWeight: number): Behavior[] {
  return retrieve(q, memory.behaviors, { vector: (b) => b.embedding, text: (b) => behaviorText(b.name, b.instruction), k, lexicalWeight }).map((x) => x.item);
}

/** The k problems with insights whose questions best match the question, best first (ties by id). */
export function nearestProblems(memory: MemoryState, q: RetrievalQuery, k: number, lexicalWeight: number): string[] {
  const withInsights = Object.entries(memory.problems)
    .filter(([, pm]) => pm.question && pm.insights.length > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return retrieve(q, withInsights, { vector: ([, pm]) => pm.question!.embedding, text: ([, pm]) => pm.question!.text, k, lexicalWeight }).map((x) => x.item[0]);
}
