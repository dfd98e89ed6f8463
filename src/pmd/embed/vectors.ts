/** Vector helpers on plain number arrays (embeddings are stored as JSON). */

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

export function norm(a: ArrayLike<number>): number {
  return Math.sqrt(dot(a, a));
}

/** Cosine similarity (0 when either vector is zero). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const d = norm(a) * norm(b);
  return d > 0 ? dot(a, b) / d : 0;
}

export function unit(a: ArrayLike<number>): number[] {
  const n = norm(a) || 1;
  return Array.from(a, (x) => x / n);
}

/** Mean of vectors (empty input: empty vector). */
export function mean(vs: readonly ArrayLike<number>[]): number[] {
  if (vs.length === 0) return [];
  const out = new Array<number>(vs[0].length).fill(0);
  for (const v of vs) for (let i = 0; i < out.length; i++) out[i] += v[i] / vs.length;
  return out;
}

/** Indices of the k items most similar to `query`, best first; ties keep the earlier item. */
export function topK<T>(query: ArrayLike<number>, items: readonly T[], vec: (t: T) => ArrayLike<number>, k: number): { item: T; score: number }[] {
  return items
    .map((item, i) => ({ item, score: cosine(query, vec(item)), i }))
    .sort((a, b) => b.score - a.score || a.i - b.i)
    .slice(0, Math.max(0, k))
    .map(({ item, score }) => ({ item, score }));
}

/** Embeddings are kept at 6 significant digits in JSON; this rounds a vector the same way. */
export function compact(v: ArrayLike<number>): number[] {
  return Array.from(v, (x) => Number(x.toPrecision(6)));
}
