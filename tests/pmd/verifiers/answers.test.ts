import { describe, expect, it } from 'vitest';
import { verifyBatch, verifyResponse } from '../../../src/pmd/verifiers/verify';
import type { Task } from '../../../src/pmd/tasks/types';

const num: Task = { id: 'n', split: 'train', domain: 'math', problem: 'p', answer: { kind: 'numeric', value: 18 } };
const approx: Task = { ...num, id: 'a', answer: { kind: 'numeric', value: 3.14159, tolerance: 0.01 } };
const mcq: Task = { id: 'c', split: 'train', domain: 'sci', problem: 'p', answer: { kind: 'choice', options: [{ label: 'A', text: 'x' }, { label: 'B', text: 'y' }], correct: 'B' } };

describe('numeric and choice verification', () => {
  it('rewards the right answer with empty feedback and the normalised answer', async () => {
    expect(await verifyResponse(num, 'So she has 18.00 left.\n#### 18.00')).toEqual({ reward: 1, feedback: '', answer: '18' });
    expect(await verifyResponse(approx, 'Answer: 3.14')).toEqual({ reward: 1, feedback: '', answer: '3.14' });
    expect(await verifyResponse(mcq, 'Answer: (B)')).toEqual({ reward: 1, feedback: '', answer: 'B' });
  });

  it('a wrong answer gets 0 and feedback that does not give the right one away', async () => {
    const v = await verifyResponse(num, 'The answer is 17.');
    expect(v).toEqual({ reward: 0, feedback: 'The final answer 17 is not correct.', answer: '17' });
    expect(v.feedback).not.toContain('18');
    expect(await verifyResponse(approx, 'Answer: 3.2')).toMatchObject({ reward: 0, answer: '3.2' });
    expect(await verifyResponse(mcq, 'The answer is A')).toEqual({ reward: 0, feedback: 'The chosen option A is not correct.', answer: 'A' });
  });

  it('no answer in the text: reward 0 and feedback that says so', async () => {
    expect(await verifyResponse(num, "I don't know.")).toEqual({ reward: 0, feedback: 'No final answer was found in the response: end it with "Answer: <number>".', answer: null });
    expect(await verifyResponse(mcq, '<think>B</think>')).toEqual({
      reward: 0,
      feedback: 'No choice was found in the response: end it with "Answer: <label>", the label being one of A, B.',
      answer: null,
    });
  });

  it('batches keep the order; code without a sandbox is a clear error', async () => {
    const out = await verifyBatch([{ task: num, response: '#### 18' }, { task: mcq, response: 'A' }]);
    expect(out.map((v) => v.reward)).toEqual([1, 0]);
    const code: Task = { id: 'p', split: 'train', domain: 'code', problem: 'p', answer: { kind: 'code', language: 'python', tests: [{ kind: 'io', input: '', output: '1' }] } };
    await expect(verifyResponse(code, 'print(1)')).rejects.toThrow(/verifying code needs a sandbox/);
  });
});
