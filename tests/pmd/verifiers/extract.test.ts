import { describe, expect, it } from 'vitest';
import { extractChoice, extractNumber, finalText, normalizeNumber } from '../../../src/pmd/verifiers/extract';
import { extractCode } from '../../../src/pmd/verifiers/extract-code';

const ABCD = ['A', 'B', 'C', 'D'].map((label, i) => ({ label, text: ['Golgi apparatus', 'Mitochondrion', 'Ribosome', 'Lysosome'][i] }));
const YES_NO = [{ label: 'Yes', text: '' }, { label: 'No', text: '' }];

describe('think blocks', () => {
  it('are never read', () => {
    expect(finalText('<think>maybe 12</think>The answer is 18.')).toBe(' The answer is 18.');
    expect(finalText('reasoning the template opened</think>\nAnswer: 4')).toBe('\nAnswer: 4');
    expect(finalText('Sure. <think>still thinking about 99')).toBe('Sure. ');
    expect(extractNumber('<think>The answer is 12.</think>')).toBeNull();
  });
});

describe('numbers', () => {
  it.each([
    ['#### 18', 18, 'hashes'],
    ['so 3 + 15 = 18\n#### 18\nDone, 7 steps.', 18, 'hashes'],
    ['The total is \\boxed{18}.', 18, 'boxed'],
    ['\\boxed{\\$70{,}000}', 70000, 'boxed'],
    ['\\boxed{\\frac{3}{4}}', 0.75, 'boxed'],
    ['\\boxed{18 \\text{ apples}}', 18, 'boxed'],
    ['Step 1 is 5. The answer is 18.', 18, 'statement'],
    ['Answer: $70,000', 70000, 'statement'],
    ['**Final answer:** 64.00 after 3 weeks', 64, 'statement'],
    ['The answer is -3 degrees.', -3, 'statement'],
    ['It costs 12 dollars, so she pays 3 times 12 = 36', 36, 'last-number'],
    ['She has $1,234.50 left.', 1234.5, 'last-number'],
  ])('%j -> %d (%s)', (text, value, rule) => {
    expect(extractNumber(text)).toEqual({ value, rule });
  });

  it('no number at all is null', () => {
    expect(extractNumber('I am not sure how to solve this.')).toBeNull();
  });

  it('normalises for voting', () => {
    expect([64, 64.0, 0.5, -3, 1 / 3, -0].map(normalizeNumber)).toEqual(['64', '64', '0.5', '-3', '0.333333333333', '0']);
  });
});

describe('choices', () => {
  it.each([
    ['B', 'B'],
    ['(B)', 'B'],
    ['**B**', 'B'],
    ['Answer: B', 'B'],
    ['answer: b', 'B'],
    ['**Answer:** (C)', 'C'],
    ['B) Mitochondrion', 'B'],
    ['<answer>B</answer>', 'B'],
    ['<answer> (d) </answer>', 'D'],
    ['The answer is D', 'D'],
    ['The answer is D.', 'D'],
    ['After weighing it, the correct option is C) Ribosome, because...', 'C'],
    ['So \\boxed{A}', 'A'],
    ['I first thought (A).\nAnswer: C', 'C'],
    ['The answer is Mitochondrion.', 'B'],
    ['Options:\nA) Golgi apparatus\nB) Mitochondrion\nC) Ribosome\nD) Lysosome\n\nThe energy comes from respiration.\nB', 'B'],
  ])('%j -> %s', (text, label) => {
    expect(extractChoice(text, ABCD)).toBe(label);
  });

  it('does not read English words as option letters', () => {
    expect(extractChoice('The answer is a cell membrane protein.', ABCD)).toBeNull();
    expect(extractChoice('A cell needs energy. I cannot decide.', ABCD)).toBeNull();
    expect(extractChoice('A) Golgi apparatus\nB) Mitochondrion\nC) Ribosome\nD) Lysosome', ABCD)).toBeNull();
  });

  it.each([
    ['Yes', 'Yes'],
    ['no.', 'No'],
    ['NO', 'No'],
    ['Yes, sound is faster in solids.', 'Yes'],
    ['It depends on density.\nAnswer: no', 'No'],
    ['The statement is **True**', 'Yes'],
    ['<answer>false</answer>', 'No'],
    ['The answer is yes.', 'Yes'],
  ])('yes/no %j -> %s', (text, label) => {
    expect(extractChoice(text, YES_NO)).toBe(label);
  });

  it('no choice is null', () => {
    expect(extractChoice('Hard to say.', YES_NO)).toBeNull();
    expect(extractChoice('<think>Answer: B</think>I do not know.', ABCD)).toBeNull();
  });
});

describe('code', () => {
  it('takes the last block in the language, else the last untagged one, else the text', () => {
    const two = 'First try:\n```python\ndef f():\n    return 1\n```\nBetter:\n```python\ndef f():\n    return 2\n```\nExample:\n```\nf()\n```';
    expect(extractCode(two, 'python')).toBe('def f():\n    return 2\n');
    expect(extractCode('```js\nconsole.log(1)\n```\n```python\nprint(2)\n```', 'javascript')).toBe('console.log(1)\n');
    expect(extractCode('```\nprint(3)\n```', 'python')).toBe('print(3)\n');
    expect(extractCode('def g():\n    return 4', 'python')).toBe('def g():\n    return 4\n');
    expect(extractCode('Cut off:\n```python\ndef h():\n    return', 'python')).toBe('def h():\n    return\n');
    expect(extractCode('<think>```python\nbad()\n```</think>```python\ngood()\n```', 'python')).toBe('good()\n');
    expect(extractCode('   ', 'python')).toBeNull();
    expect(extractCode('```ruby\nputs 1\n```', 'python')).toBeNull();
  });
});
