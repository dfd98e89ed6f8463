import { describe, expect, it } from 'vitest';
import { importTasks } from '../../../src/pmd/tasks/importers';
import { fixture } from './fixtures';

describe('GSM8K import', () => {
  it('reads the #### line as an exact number; ids are 0-based source lines', () => {
    const { tasks, skipped, problems } = importTasks('gsm8k', fixture('gsm8k.jsonl'), { split: 'test' });
    expect(problems).toEqual([]);
    expect(skipped).toEqual([]);
    expect(tasks.map((t) => [t.id, t.answer])).toEqual([
      ['gsm8k-0', { kind: 'numeric', value: 72 }],
      ['gsm8k-1', { kind: 'numeric', value: 1250 }],
      ['gsm8k-3', { kind: 'numeric', value: -3 }], // line 2 is blank and keeps its number
      ['gsm8k-4', { kind: 'numeric', value: 1.5 }],
    ]);
    expect(tasks[0]).toMatchObject({
      split: 'test',
      domain: 'math',
      problem: expect.stringMatching(/^A baker makes 48 rolls/),
      source: { format: 'gsm8k', id: '0' },
      meta: { reference: 'In the afternoon the baker makes 48 / 2 = <<48/2=24>>24 rolls.\nIn all that is 48 + 24 = <<48+24=72>>72 rolls.' },
    });
  });

  it('names the line and field of malformed rows and keeps the rest', () => {
    const text = [
      JSON.stringify({ question: 'Q?', answer: 'no final line' }),
      JSON.stringify({ question: 'Q?' }),
      JSON.stringify({ question: 'Q?', answer: 'ok\n#### 5' }),
      '"just a string"',
    ].join('\n');
    const { tasks, problems } = importTasks('gsm8k', text);
    expect(tasks.map((t) => t.id)).toEqual(['gsm8k-2']);
    expect(tasks[0].split).toBe('train');
    expect(problems).toEqual([
      { line: 1, field: 'answer', message: 'the last line must be "#### <number>", got "no final line"' },
      { line: 2, field: 'answer', message: 'is missing (expected a non-empty string)' },
      { line: 4, field: '', message: 'must be a JSON object (a gsm8k row), got "just a string"' },
    ]);
  });
});
