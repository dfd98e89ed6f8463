/**
 * Word matching for retrieval: Okapi BM25 over a small collection (the behavior bank, the
 * problems with insights), computed when asked, so nothing is stored and a growing collection
 * never leaves stale statistics behind. Document frequencies come from the collection itself:
 * words every document shares (digits of every problem, "the", "symbols") weigh almost nothing,
 * and a word only a few documents contain (a procedure's name, a library function) weighs most.
 */

/** Lower-cased runs of letters or digits, in any script ("behavior_apply_kadel" -> behavior, apply, kadel). */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

export interface Bm25Options {
  /** Term-frequency saturation. */
  k1: number;
  /** Length normalisation (0: none, 1: full). */
  b: number;
}

export const BM25_DEFAULTS: Bm25Options = { k1: 1.2, b: 0.75 };

/**
 * BM25 score of each document for the query: the sum over the query's distinct words of
 * idf(w) * f (k1 + 1) / (f + k1 (1 - b + b |d| / avgdl)), with f the word's count in the
 * document and idf(w) = ln(1 + (N - n + 0.5) / (n + 0.5)) (never negative) for a word in n of N
 * documents. Zero for a document that shares no word with the query.
 */
export function bm25Scores(query: string, docs: readonly string[], o: Bm25Options = BM25_DEFAULTS): number[] {
  const bags = docs.map(words);
  const n = bags.length;
  if (n === 0) return [];
  const avgLen = bags.reduce((a, d) => a + d.length, 0) / n || 1;
  const df = new Map<string, number>();
  for (const bag of bags) for (const w of new Set(bag)) df.set(w, (df.get(w) ?? 0) + 1);
  const terms = [...new Set(words(query))].filter((w) => df.has(w));
  const idf = new Map(terms.map((w) => [w, Math.log(1 + (n - df.get(w)! + 0.5) / (df.get(w)! + 0.5))]));
  return bags.map((bag) => {
    if (!terms.length) return 0;
    const tf = new Map<string, number>();
    for (const w of bag) tf.set(w, (tf.get(w) ?? 0) + 1);
    const lengthNorm = 1 - o.b + (o.b * bag.length) / avgLen;
    let s = 0;
    for (const w of terms) {
      const f = tf.get(w) ?? 0;
      if (f > 0) s += (idf.get(w)! * f * (o.k1 + 1)) / (f + o.k1 * lengthNorm);
    }
    return s;
  });
}
