import { describe, expect, it } from 'vitest';
import { clip, codeFeedback, FEEDBACK_LIMIT, literal } from '../../../src/pmd/verifiers/feedback';

describe('code feedback', () => {
  it('writes values as literals of the language', () => {
    expect(literal([true, null, { a: 'x' }], 'python')).toBe('[True, None, {"a": "x"}]');
    expect(literal([true, null, { a: 'x' }], 'javascript')).toBe('[true,null,{"a":"x"}]');
  });

  it('names at most two failing tests and never exceeds the limit', () => {
    const huge = 'x'.repeat(50_000);
    const failures = [1, 2, 3].map((n) => ({ number: n, test: { kind: 'io' as const, input: huge, output: huge }, outcome: { status: 'failed' as const, actual: huge, ms: 1 } }));
    const text = codeFeedback(failures, 3, 3, { language: 'python' });
    expect(text.length).toBeLessThanOrEqual(FEEDBACK_LIMIT);
    expect(text).toMatch(/^3 of 3 tests failed\.\n\nTest 1: wrong result\n {2}input: "x{299}… \(49702 more characters\)/);
    expect(text).toContain('Test 2: wrong result');
    expect(text).not.toContain('Test 3');
  });

  it('says how many tests were not run, and the error with its line', () => {
    const text = codeFeedback(
      [{ number: 1, test: { kind: 'call', args: [[1, 2]], expected: 3 }, outcome: { status: 'error', error: 'NameError: name "sm" is not defined', line: 2, lineText: '    return sm(xs)', ms: 1 } }],
      1,
      4,
      { language: 'python', entryPoint: 'total', className: 'Solution' },
    );
    expect(text).toBe('1 of the 1 tests run failed (3 more not run).\n\nTest 1: error\n  call: Solution().total([1, 2])\n  expected: 3\n  error: NameError: name "sm" is not defined (line 2: return sm(xs))');
    expect(clip('abc', 2)).toBe('ab… (1 more characters)');
    expect(codeFeedback([], 3, 3, { language: 'python' })).toBe('');
  });
});
