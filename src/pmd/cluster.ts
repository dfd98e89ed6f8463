/**
 * Clustering of question embeddings for behavior consolidation (PMD-SPEC step 5), by k-means
 * (ml-kmeans, k-means++ initialisation from the run's seed, so a resumed run clusters the same).
 * The default number of clusters is about √(n / 2), the usual rule of thumb, within [1, n].
 */
import { kmeans } from 'ml-kmeans';
import { mean } from './embed/vectors';

export function defaultClusterCount(n: number): number {
  return Math.max(1, Math.min(n, Math.round(Math.sqrt(n / 2))));
}

export interface Cluster {
  members: string[];
  centroid: number[];
}

/** Clusters of the given ids (non-empty ones, ordered by their first member's position in `ids`). */
export function clusterQuestions(ids: readonly string[], vectors: readonly number[][], k: number, seed: number): Cluster[] {
  if (ids.length === 0) return [];
  const kk = Math.max(1, Math.min(k || defaultClusterCount(ids.length), ids.length));
  let labels: number[];
  if (kk === 1) labels = ids.map(() => 0);
  else {
    const r = kmeans(vectors.map((v) => [...v]), kk, { seed: seed >>> 0, initialization: 'kmeans++', maxIterations: 100 });
    labels = r.clusters;
  }
  const groups = new Map<number, string[]>();
  labels.forEach((c, i) => {
    const g = groups.get(c) ?? [];
    g.push(ids[i]);
    groups.set(c, g);
  });
  const byId = new Map(ids.map((id, i) => [id, vectors[i]]));
  return [...groups.values()]
    .sort((a, b) => ids.indexOf(a[0]) - ids.indexOf(b[0]))
    .map((members) => ({ members, centroid: mean(members.map((m) => byId.get(m)!)) }));
}
