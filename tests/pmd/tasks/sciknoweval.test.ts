import { describe, expect, it } from 'vitest';
import { importTasks, summarizeSkipped } from '../../../src/pmd/tasks/importers';
import { fixture } from './fixtures';

describe('SciKnowEval import', () => {
  it('imports mcq-4-choices, mcq-2-choices and true_or_false; skips the rest and says why', () => {
    const { tasks, skipped, problems } = importTasks('sciknoweval', fixture('sciknoweval.jsonl'));
    expect(problems).toEqual([]);
    expect(tasks.map((t) => t.id)).toEqual(['sciknoweval-0', 'sciknoweval-1', 'sciknoweval-2', 'sciknoweval-6']);
    expect(tasks[0]).toEqual({
      id: 'sciknoweval-0',
      split: 'train',
      domain: 'Biology',
      problem: 'Which organelle carries out most of the aerobic respiration in a eukaryotic cell?',
      answer: {
        kind: 'choice',
        options: [
          { label: 'A', text: 'Golgi apparatus' },
          { label: 'B', text: 'Mitochondrion' },
          { label: 'C', text: 'Ribosome' },
          { label: 'D', text: 'Lysosome' },
        ],
        correct: 'B',
      },
      source: { format: 'sciknoweval', id: '0' },
      meta: { type: 'mcq-4-choices', level: 'L1', task: 'cell_biology_basics', subtask: 'organelles' },
    });
    expect(tasks[1].answer).toMatchObject({ options: [{ label: 'A', text: 'Nitrogen' }, { label: 'B', text: 'Oxygen' }], correct: 'A' });
    expect(tasks[2].answer).toEqual({ kind: 'choice', options: [{ label: 'Yes', text: '' }, { label: 'No', text: '' }], correct: 'Yes' });
    expect(tasks[3].answer).toMatchObject({ correct: 'No' });
    expect(skipped).toEqual([
      { line: 4, reason: 'type "open-ended-qa" has no exact answer to check' },
      { line: 5, reason: 'type "filling" has no exact answer to check' },
      { line: 6, reason: 'type "relation_extraction" has no exact answer to check' },
    ]);
    expect(summarizeSkipped(skipped)).toBe(
      '1 × type "open-ended-qa" has no exact answer to check; 1 × type "filling" has no exact answer to check; 1 × type "relation_extraction" has no exact answer to check',
    );
  });

  it('reports rows whose answer does not fit the options', () => {
    const row = JSON.parse(fixture('sciknoweval.jsonl').split('\n')[0]);
    const text = [
      JSON.stringify({ ...row, answerKey: 'E' }),
      JSON.stringify({ ...row, choices: { text: ['x'], label: ['A', 'B'] } }),
      JSON.stringify({ ...row, type: 'true_or_false', answer: 'Maybe' }),
    ].join('\n');
    const { tasks, problems } = importTasks('sciknoweval', text);
    expect(tasks).toEqual([]);
    expect(problems.map((p) => `${p.line} ${p.field}: ${p.message}`)).toEqual([
      '1 answerKey: "E" is not one of the labels A, B, C, D',
      '2 choices: must be {"text": [...], "label": [...]} with two or more options of each, got {"text":["x"],"label":["A","B"]}',
      '3 answer: must be "Yes" or "No" for a true_or_false question, got "Maybe"',
    ]);
  });
});
