/** The exact-text checker and the answer format. */
import { describe, expect, it } from 'vitest';
import { checkTextAnswer, NO_ANSWER_FEEDBACK, parseFeedback } from '../../../src/pmd/world/text-answer';
import { extractAnswer, parseSteps, problemText, parseProblem, solutionText } from '../../../src/pmd/world/format';
import { operationById } from '../../../src/pmd/world/operations';

describe('checkTextAnswer', () => {
  const value = '5 1 8 3';

  it('rewards an exact final answer (white space runs count as one space)', () => {
    expect(checkTextAnswer(value, 'Step: zovik reverses the order of the symbols: 5 1 8 3\nAnswer: 5 1 8 3')).toEqual({ reward: 1, feedback: '', answer: '5 1 8 3' });
    expect(checkTextAnswer(value, 'Answer:   5 1  8 3  ').reward).toBe(1);
    // The last answer line counts.
    expect(checkTextAnswer(value, 'Answer: 1 1 1 1\nAnswer: 5 1 8 3').reward).toBe(1);
    expect(checkTextAnswer(value, 'Answer: 5 1 8 3\nAnswer: 1 1 1 1').reward).toBe(0);
  });

  it('names the wrong positions of a wrong answer', () => {
    const r = checkTextAnswer(value, 'Answer: 5 3 8 1');
    expect(r).toMatchObject({ reward: 0, answer: '5 3 8 1' });
    expect(r.feedback).toBe('The answer is wrong at positions 2 and 4; the other positions are right.');
    expect(checkTextAnswer(value, 'Answer: 0 0 0 0').feedback).toBe('The answer is wrong at positions 1, 2, 3 and 4; no position is right.');
    expect(checkTextAnswer(value, 'Answer: 5 1 8 x').feedback).toBe('The answer is wrong at position 4; the other positions are right.');
  });

  it('says when the length is wrong or the answer line is missing', () => {
    expect(checkTextAnswer(value, 'Answer: 5 1 8').feedback).toBe('The answer has 3 symbols but should have 4.');
    expect(checkTextAnswer(value, 'Answer: 5 1 8 3 3').feedback).toBe('The answer has 5 symbols but should have 4.');
    expect(checkTextAnswer(value, 'Answer: 5').feedback).toBe('The answer has 1 symbol but should have 4.');
    expect(checkTextAnswer(value, '5 1 8 3')).toEqual({ reward: 0, feedback: NO_ANSWER_FEEDBACK, answer: null });
    expect(checkTextAnswer(value, 'Answer:')).toEqual({ reward: 0, feedback: NO_ANSWER_FEEDBACK, answer: '' });
    expect(checkTextAnswer(value, '')).toMatchObject({ reward: 0, answer: null });
  });

  it('never reveals the expected answer, and its feedback reads back', () => {
    const attempts = ['Answer: 5 1 8', 'Answer: 5 1 8 3 3', 'Answer: 3 8 1 5', 'Answer: 5 1 3 8', 'nothing', 'Answer: 9 9 9 9', 'Answer: 5 1 8 4'];
    for (const a of attempts) {
      const r = checkTextAnswer(value, a);
      expect(r.reward).toBe(0);
      expect(r.feedback).not.toContain(value);
      for (const d of ['5 1', '1 8', '8 3']) expect(r.feedback).not.toContain(d);
      expect(parseFeedback(r.feedback).kind).not.toBe('unknown');
    }
    expect(parseFeedback(checkTextAnswer(value, 'Answer: 5 3 8 1').feedback)).toEqual({ kind: 'positions', wrong: [2, 4] });
    expect(parseFeedback(checkTextAnswer(value, 'Answer: 5 1 8').feedback)).toEqual({ kind: 'length', got: 3, want: 4 });
    expect(parseFeedback('')).toEqual({ kind: 'correct' });
  });
});

describe('format', () => {
  it('writes and reads problems and worked solutions', () => {
    const p = problemText(['zovik', 'tamel'], [3, 8, 1, 5]);
    expect(p).toBe('Apply zovik then tamel to 3 8 1 5.');
    expect(parseProblem(p)).toEqual({ names: ['zovik', 'tamel'], input: [3, 8, 1, 5] });
    expect(parseProblem('Apply zovik to three.')).toBeNull();
    const reverse = operationById('reverse');
    const left = operationById('rotate_left_1');
    const s = solutionText([3, 8, 1, 5], [{ name: 'zovik', operation: reverse, result: [5, 1, 8, 3] }, { name: 'tamel', operation: left, result: [1, 8, 3, 5] }]);
    expect(s).toBe('Start: 3 8 1 5\nStep: zovik reverses the order of the symbols: 5 1 8 3\nStep: tamel moves the first symbol to the end: 1 8 3 5\nAnswer: 1 8 3 5');
    expect(extractAnswer(s)).toBe('1 8 3 5');
    expect(parseSteps(s)).toEqual([
      { name: 'zovik', operation: reverse, symbols: [5, 1, 8, 3] },
      { name: 'tamel', operation: left, symbols: [1, 8, 3, 5] },
    ]);
    // A step line whose phrase is not of the description language still gives its symbols.
    expect(parseSteps('Step: zovik does something: 1 2')).toEqual([{ name: 'zovik', operation: null, symbols: [1, 2] }]);
  });
});
