/**
 * Token sampling: the radix ordering of the vocabulary equals a stable sort by logit, so a
 * seeded draw gives the token the straightforward definition gives (every candidate sorted by
 * logit, weights summed in that order); and draws follow the tempered softmax.
 */
import { describe, expect, it } from 'vitest';
import { descendingOrder, sampleToken, type SamplingOptions } from '../../../src/engine/runtime/sampling';
import { Prng } from '../../../src/util/prng';

/** The definition: comparison sort (ties by index), weights and their sum in that order. */
function reference(row: Float32Array, o: SamplingOptions, rng: Prng): number {
  let ids = Array.from({ length: row.length }, (_, i) => i).sort((a, b) => row[b] - row[a] || a - b);
  if (o.topK > 0) ids = ids.slice(0, o.topK);
  const weights = ids.map((i) => Math.exp((row[i] - row[ids[0]]) / o.temperature));
  let total = weights.reduce((a, b) => a + b, 0);
  if (o.topP < 1) {
    let acc = 0;
    let keep = 0;
    while (keep < ids.length) {
      acc += weights[keep++];
      if (acc / total >= o.topP) break;
    }
    ids = ids.slice(0, keep);
    total = acc;
  }
  let u = rng.next() * total;
  for (let j = 0; j < ids.length; j++) {
    u -= weights[j];
    if (u < 0) return ids[j];
  }
  return ids[ids.length - 1];
}

function rows(): Float32Array[] {
  const g = new Prng(1);
  const out: Float32Array[] = [];
  for (const [n, grid] of [
    [5000, 1000],
    [5000, 4], // many ties
    [70000, 1e6], // more than 16 bits of ids
    [384, 1000], // short rows take the comparison sort
    [384, 4],
  ]) {
    const r = Float32Array.from({ length: n }, () => Math.round(g.normal() * 3 * grid) / grid);
    r[3] = -0;
    r[4] = 0;
    r[5] = -1e-30;
    r[6] = 3e38;
    r[7] = -3e38;
    out.push(r);
  }
  return out;
}

describe('sampling', () => {
  it('descendingOrder is a stable sort by value, largest first (-0 equals +0)', () => {
    for (const row of rows()) {
      const want = Array.from({ length: row.length }, (_, i) => i).sort((a, b) => row[b] - row[a] || a - b);
      expect(Array.from(descendingOrder(row))).toEqual(want);
    }
  });

  it('draws the same tokens as the definition for the same seed', () => {
    const settings: SamplingOptions[] = [
      { temperature: 1, topP: 1, topK: 0 },
      { temperature: 0.7, topP: 0.95, topK: 0 },
      { temperature: 1.5, topP: 0.3, topK: 0 },
      { temperature: 1, topP: 0.9, topK: 40 },
    ];
    for (const row of rows()) {
      row[6] = 4;
      row[7] = -4; // finite weights everywhere
      for (const o of settings) {
        const a = new Prng(9);
        const b = new Prng(9);
        for (let i = 0; i < 40; i++) expect(sampleToken(row, o, a)).toBe(reference(row, o, b));
      }
    }
  });

  it('follows the tempered softmax', () => {
    const row = Float32Array.of(2, 1, 0.5, 0.5, -1);
    const T = 0.8;
    const p = Array.from(row, (x) => Math.exp(x / T));
    const z = p.reduce((a, b) => a + b, 0);
    const counts = new Array(row.length).fill(0);
    const rng = new Prng(4);
    const n = 20000;
    for (let i = 0; i < n; i++) counts[sampleToken(row, { temperature: T, topP: 1, topK: 0 }, rng)]++;
    counts.forEach((c, i) => expect(Math.abs(c / n - p[i] / z)).toBeLessThan(0.012));
  });
});
