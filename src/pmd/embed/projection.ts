/**
 * A 2-D map of question embeddings for the behavior-cluster view: UMAP (umap-js) with a seeded
 * random source, so the same run draws the same map. With too few points for UMAP the points are
 * laid on the two leading coordinates instead.
 */
import { UMAP } from 'umap-js';
import { Prng } from '../../util/prng';

export function project2d(vectors: readonly number[][], seed: number): [number, number][] {
  const n = vectors.length;
  if (n === 0) return [];
  if (n < 5) return vectors.map((v) => [v[0] ?? 0, v[1] ?? 0]);
  const rng = new Prng(seed);
  const umap = new UMAP({ nComponents: 2, nNeighbors: Math.max(2, Math.min(15, n - 1)), minDist: 0.1, random: () => rng.next() });
  return umap.fit(vectors.map((v) => [...v])).map((p) => [p[0], p[1]]);
}
