/**
 * Evaluation metrics over n samples per problem (PMD-SPEC "Evaluation"), each averaged over
 * problems:
 *  - avg@n: mean reward of the n samples;
 *  - pass@k: the unbiased estimator 1 - C(n-c, k)/C(n, k), c = samples with reward 1;
 *  - maj@k: reward of the most common extracted answer among the first k samples (ties go to
 *    the answer seen first; samples without an answer do not vote);
 *  - best@k: the best reward among the first k samples.
 */

export interface ScoredSample {
  answer: string | null;
  reward: number;
}

/** 1 - C(n-c, k) / C(n, k), computed as a product so large n stays exact enough. */
export function passAtK(n: number, c: number, k: number): number {
  if (k > n) throw new Error(`pass@k needs k <= n (k=${k}, n=${n})`);
  if (n - c < k) return 1;
  let miss = 1;
  for (let i = n - c + 1; i <= n; i++) miss *= 1 - k / i;
  return 1 - miss;
}

export function majorityReward(samples: readonly ScoredSample[]): number {
  const votes = new Map<string, { count: number; reward: number; first: number }>();
  samples.forEach((s, i) => {
    if (s.answer === null) return;
    const v = votes.get(s.answer);
    if (v) v.count++;
    else votes.set(s.answer, { count: 1, reward: s.reward, first: i });
  });
  let best: { count: number; reward: number; first: number } | null = null;
  for (const v of votes.values()) if (!best || v.count > best.count || (v.count === best.count && v.first < best.first)) best = v;
  return best ? best.reward : 0;
}

export interface Metrics {
  avg_at_n: number;
  pass_at_k: number;
  maj_at_k: number;
  best_at_k: number;
}

export function evalMetrics(problems: readonly (readonly ScoredSample[])[], k: number): Metrics {
  if (problems.length === 0) return { avg_at_n: 0, pass_at_k: 0, maj_at_k: 0, best_at_k: 0 };
  let avg = 0;
  let pass = 0;
  let maj = 0;
  let best = 0;
  for (const s of problems) {
    const n = s.length;
    if (n === 0) continue;
    const kk = Math.min(k, n);
    avg += s.reduce((a, x) => a + x.reward, 0) / n;
    pass += passAtK(n, s.filter((x) => x.reward >= 1).length, kk);
    const first = s.slice(0, kk);
    maj += majorityReward(first);
    best += Math.max(...first.map((x) => x.reward));
  }
  const m = problems.length;
  return { avg_at_n: avg / m, pass_at_k: pass / m, maj_at_k: maj / m, best_at_k: best / m };
}
