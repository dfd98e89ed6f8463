/** Hybrid retrieval: cosine only at weight 0 (exactly topK), word matching blended in above it. */
import { describe, expect, it } from 'vitest';
import { retrieve } from '../../../src/pmd/embed/retrieve';
import { topK } from '../../../src/pmd/embed/vectors';

interface Item {
  text: string;
  v: number[];
}
const items: Item[] = [
  { text: 'kadel moves the first symbol to the end', v: [0.6, 0.8, 0] },
  { text: 'minar reverses the order of the symbols', v: [0.8, 0.6, 0] },
  { text: 'rigal sorts the symbols', v: [1, 0, 0] },
];
const q = { vector: [1, 0, 0], text: 'Apply minar to 4 6 8 7 1.' };
const by = (w: number, k = 3) => retrieve(q, items, { vector: (x) => x.v, text: (x) => x.text, k, lexicalWeight: w });

describe('retrieve', () => {
  it('is topK by cosine at lexical weight 0 or without query text', () => {
    const cos = topK(q.vector, items, (x) => x.v, 2);
    expect(by(0, 2)).toEqual(cos);
    expect(retrieve({ vector: q.vector }, items, { vector: (x) => x.v, text: (x) => x.text, k: 2, lexicalWeight: 0.5 })).toEqual(cos);
    expect(by(0).map((x) => x.item.text.split(' ')[0])).toEqual(['rigal', 'minar', 'kadel']);
  });

  it('blends (1 - w) cosine with w times BM25 over its maximum', () => {
    const r = by(0.5);
    expect(r[0].item.text.startsWith('minar')).toBe(true);
    expect(r[0].score).toBeCloseTo(0.5 * 0.8 + 0.5 * 1, 12);
    const rigal = r.find((x) => x.item.text.startsWith('rigal'))!;
    expect(rigal.score).toBeCloseTo(0.5 * 1, 12);
    const words = by(1);
    expect(words.map((x) => x.item.text.split(' ')[0])).toEqual(['minar', 'kadel', 'rigal']);
    expect(words[0].score).toBe(1);
    expect(words[1].score).toBeGreaterThan(0); // shares "to"
    expect(words[2].score).toBe(0);
  });

  it('keeps the earlier item on ties and never returns more than k', () => {
    const same = [{ text: 'x', v: [1, 0] }, { text: 'x', v: [1, 0] }];
    const r = retrieve({ vector: [1, 0], text: 'x' }, same, { vector: (x) => x.v, text: (x) => x.text, k: 1, lexicalWeight: 0.5 });
    expect(r).toHaveLength(1);
    expect(r[0].item).toBe(same[0]);
  });
});
