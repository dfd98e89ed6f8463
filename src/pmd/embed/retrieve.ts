/**
 * Retrieval of memory items for a question: cosine similarity of embeddings (PMD-SPEC step 6),
 * optionally blended with BM25 word matching (`retrieval.lexicalWeight`, docs/pmd.md):
 *   score = (1 - w) * cosine + w * bm25 / max bm25 over the candidates.
 * With w = 0, or no query text, it is exactly `topK` by cosine.
 */
import { cosine, topK } from './vectors';
import { bm25Scores } from './lexical';

export interface RetrievalQuery {
  vector: ArrayLike<number>;
  /** The question as text (needed for the word-matching part). */
  text?: string;
}

export interface Retrieval<T> {
  vector: (item: T) => ArrayLike<number>;
  text: (item: T) => string;
  k: number;
  /** Share of the score from word matching, 0 to 1. */
  lexicalWeight: number;
}

/** The k items that best match the query, best first; ties keep the earlier item. */
export function retrieve<T>(q: RetrievalQuery, items: readonly T[], r: Retrieval<T>): { item: T; score: number }[] {
  const w = r.lexicalWeight;
  if (!(w > 0) || q.text === undefined) return topK(q.vector, items, r.vector, r.k);
  const lexical = bm25Scores(q.text, items.map(r.text));
  const top = lexical.reduce((m, x) => Math.max(m, x), 0);
  return items
    .map((item, i) => ({ item, i, score: (1 - w) * cosine(q.vector, r.vector(item)) + (top > 0 ? (w * lexical[i]) / top : 0) }))
    .sort((a, b) => b.score - a.score || a.i - b.i)
    .slice(0, Math.max(0, r.k))
    .map(({ item, score }) => ({ item, score }));
}
