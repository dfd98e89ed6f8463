/** The `text` answer kind: validation with line and field, the prompt, and the verifier through verifyResponse. */
import { describe, expect, it } from 'vitest';
import { parseTaskSuite } from '../../../src/pmd/tasks/validate';
import { renderPrompt } from '../../../src/pmd/tasks/prompt';
import type { Task } from '../../../src/pmd/tasks/types';
import { verifyResponse } from '../../../src/pmd/verifiers/verify';
import { NO_TEXT_ANSWER_FEEDBACK, parseTextFeedback } from '../../../src/pmd/verifiers/text';

const text = { id: 't1', split: 'test', domain: 'procedures', problem: 'Apply kadel to 4 6 8 7 1.', answer: { kind: 'text', value: '8 7 1 4 6' }, meta: { reflector: 'x' } };
const lines = (...rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n');

describe('text answers', () => {
  it('validate: a one-line non-empty value, no other fields', () => {
    const ok = parseTaskSuite(lines(text));
    expect(ok.problems).toEqual([]);
    expect(ok.tasks[0]).toEqual(text);
    const bad = parseTaskSuite(
      lines(
        { ...text, id: 'a', answer: { kind: 'text' } },
        { ...text, id: 'b', answer: { kind: 'text', value: 42 } },
        { ...text, id: 'c', answer: { kind: 'text', value: '  ' } },
        { ...text, id: 'd', answer: { kind: 'text', value: '1\n2' } },
        { ...text, id: 'e', answer: { kind: 'text', value: '1 2', tolerance: 1 } },
        { ...text, id: 'f', answer: { kind: 'texts', value: '1' } },
      ),
    );
    expect(bad.tasks).toEqual([]);
    expect(bad.problems.map((p) => [p.line, p.field])).toEqual([
      [1, 'answer.value'],
      [2, 'answer.value'],
      [3, 'answer.value'],
      [4, 'answer.value'],
      [5, 'answer.tolerance'],
      [6, 'answer.kind'],
    ]);
    expect(bad.problems[5].message).toContain('"text"');
  });

  it('the prompt is the problem as written', () => {
    expect(renderPrompt(text as Task)).toBe('Apply kadel to 4 6 8 7 1.');
  });

  it('verifies the last answer line exactly, and feedback locates mistakes without quoting the answer', async () => {
    const v = (response: string) => verifyResponse(text as Task, response);
    expect(await v('Start: 4 6 8 7 1\nAnswer: 8  7 1 4 6 ')).toEqual({ reward: 1, feedback: '', answer: '8 7 1 4 6' });
    expect(await v('Answer: 8 7 1 4 6\nAnswer: 1 1 1 1 1')).toMatchObject({ reward: 0 });
    const wrong = await v('Answer: 8 1 7 4 6');
    expect(wrong).toEqual({ reward: 0, feedback: 'The answer is wrong at positions 2 and 3; the other positions are right.', answer: '8 1 7 4 6' });
    expect(parseTextFeedback(wrong.feedback)).toEqual({ kind: 'positions', wrong: [2, 3] });
    expect((await v('Answer: 8 7 1')).feedback).toBe('The answer has 3 symbols but should have 5.');
    expect(await v('8 7 1 4 6')).toEqual({ reward: 0, feedback: NO_TEXT_ANSWER_FEEDBACK, answer: null });
    for (const r of ['Answer: 8 7 1 4 0', 'Answer: 0 0 0 0 0', 'Answer: 6 4 1 7 8', 'no answer']) {
      const f = (await v(r)).feedback;
      expect(f).not.toContain('8 7');
      expect(f).not.toContain('4 6');
      expect(parseTextFeedback(f).kind).not.toBe('unknown');
    }
  });
});
