import { describe, expect, it } from 'vitest';
import { outputsMatch, sameJsonValue } from '../../../src/pmd/sandbox/compare';

describe('output comparison', () => {
  it('ignores trailing spaces, carriage returns and final blank lines', () => {
    expect(outputsMatch('1 2 \r\n3\n\n', '1 2\n3')).toBe(true);
    expect(outputsMatch('1 2\n3', '1 2\n4')).toBe(false);
    expect(outputsMatch('', '')).toBe(true);
  });

  it('falls back to tokens with numbers equal within 1e-6', () => {
    expect(outputsMatch('0.3333333333\n', '0.333333')).toBe(true);
    expect(outputsMatch('1  2\n3', '1 2 3')).toBe(true);
    expect(outputsMatch('0.34', '0.33')).toBe(false);
    expect(outputsMatch('Yes', 'yes')).toBe(false);
  });

  it('compares returned JSON values', () => {
    expect(sameJsonValue([1, [2, { a: 0.1 + 0.2 }]], [1, [2, { a: 0.3 }]])).toBe(true);
    expect(sameJsonValue(3, 3.0000001)).toBe(true);
    expect(sameJsonValue(3, 3.0001)).toBe(false);
    expect(sameJsonValue({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(sameJsonValue([1, 2], { 0: 1, 1: 2 })).toBe(false);
    expect(sameJsonValue(undefined, null)).toBe(false);
  });
});
