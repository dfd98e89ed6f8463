/** BM25 word matching: scores worked out by hand from the formula, and the word splitter. */
import { describe, expect, it } from 'vitest';
import { bm25Scores, words } from '../../../src/pmd/embed/lexical';

describe('words', () => {
  it('lower-cases runs of letters or digits in any script and drops the rest', () => {
    expect(words('Apply kadel then minar to 4 6 8.')).toEqual(['apply', 'kadel', 'then', 'minar', 'to', '4', '6', '8']);
    expect(words('behavior_apply_kadel: Größe 12ab')).toEqual(['behavior', 'apply', 'kadel', 'größe', '12ab']);
    expect(words(' ... ')).toEqual([]);
  });
});

describe('bm25Scores', () => {
  it('matches the formula on a three-document collection (k1 1.2, b 0.75)', () => {
    const docs = ['a b', 'a c c', 'd'];
    // N = 3, average length 2; "a" is in 2 documents, "c" in 1.
    const idfA = Math.log(1 + (3 - 2 + 0.5) / (2 + 0.5));
    const idfC = Math.log(1 + (3 - 1 + 0.5) / (1 + 0.5));
    const norm0 = 1 - 0.75 + (0.75 * 2) / 2;
    const norm1 = 1 - 0.75 + (0.75 * 3) / 2;
    const expected = [
      (idfA * 1 * 2.2) / (1 + 1.2 * norm0),
      (idfA * 1 * 2.2) / (1 + 1.2 * norm1) + (idfC * 2 * 2.2) / (2 + 1.2 * norm1),
      0,
    ];
    const got = bm25Scores('C a a', docs);
    got.forEach((x, i) => expect(x).toBeCloseTo(expected[i], 12));
  });

  it('weighs a word every document shares far below a rare one', () => {
    const docs = ['Apply kadel to 1 2 3', 'Apply minar to 1 2 3', 'Apply rigal to 3 2 1'];
    const shared = bm25Scores('apply', docs)[1];
    const rare = bm25Scores('minar', docs)[1];
    expect(shared).toBeGreaterThan(0);
    expect(rare).toBeGreaterThan(5 * shared);
    const s = bm25Scores('Apply minar to 3 1 2', docs);
    expect(s[1]).toBeGreaterThan(Math.max(s[0], s[2]));
  });

  it('is zero everywhere for a query with no word in the collection, and empty for no documents', () => {
    expect(bm25Scores('zzz', ['a', 'b'])).toEqual([0, 0]);
    expect(bm25Scores('a', [])).toEqual([]);
  });
});
