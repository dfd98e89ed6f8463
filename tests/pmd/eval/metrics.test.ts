/** Evaluation metrics against brute force: pass@k is the share of k-subsets with a correct sample. */
import { describe, expect, it } from 'vitest';
import { evalMetrics, majorityReward, passAtK } from '../../../src/pmd/eval/metrics';
import { groupAdvantages } from '../../../src/pmd/grpo';

function subsets(n: number, k: number): number[][] {
  if (k === 0) return [[]];
  if (n < k) return [];
  return [...subsets(n - 1, k - 1).map((s) => [...s, n - 1]), ...subsets(n - 1, k)];
}

describe('metrics', () => {
  it('pass@k equals the brute-force share of k-subsets holding a correct sample', () => {
    for (let n = 1; n <= 7; n++) {
      for (let c = 0; c <= n; c++) {
        for (let k = 1; k <= n; k++) {
          const all = subsets(n, k);
          const hit = all.filter((s) => s.some((i) => i < c)).length / all.length;
          expect(passAtK(n, c, k)).toBeCloseTo(hit, 12);
        }
      }
    }
    expect(() => passAtK(2, 1, 3)).toThrow(/k <= n/);
  });

  it('maj@k takes the most common answer (first seen on ties; no answer does not vote), best@k the best reward', () => {
    expect(majorityReward([{ answer: '3', reward: 0 }, { answer: '4', reward: 1 }, { answer: '4', reward: 1 }])).toBe(1);
    expect(majorityReward([{ answer: '3', reward: 0 }, { answer: '4', reward: 1 }])).toBe(0);
    expect(majorityReward([{ answer: null, reward: 0 }, { answer: null, reward: 0 }, { answer: '4', reward: 1 }])).toBe(1);
    const m = evalMetrics([[{ answer: '1', reward: 1 }, { answer: '2', reward: 0 }], [{ answer: null, reward: 0 }, { answer: '5', reward: 0 }]], 2);
    expect(m).toEqual({ avg_at_n: 0.25, pass_at_k: 0.5, maj_at_k: 0.5, best_at_k: 0.5 });
  });

  it('GRPO advantages are (r - mean) / (sample std + eps), zero for a flat group', () => {
    const a = groupAdvantages([1, 0, 0, 1]);
    const std = Math.sqrt((4 * 0.25) / 3);
    expect(a[0]).toBeCloseTo(0.5 / (std + 1e-6), 12);
    expect(a.reduce((x, y) => x + y, 0)).toBeCloseTo(0, 12);
    expect(groupAdvantages([1, 1, 1])).toEqual([0, 0, 0]);
  });
});
