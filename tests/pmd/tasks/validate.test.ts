import { describe, expect, it } from 'vitest';
import { parseTaskSuite } from '../../../src/pmd/tasks/validate';
import { formatProblem, LineProblemsError } from '../../../src/pmd/tasks/problems';
import { formatJsonLines } from '../../../src/pmd/tasks/jsonl';

const numeric = { id: 'n1', split: 'train', domain: 'arithmetic', problem: 'What is 2 + 2?', answer: { kind: 'numeric', value: 4 } };
const choice = {
  id: 'c1',
  split: 'test',
  domain: 'physics',
  problem: 'Which is a unit of force?',
  answer: { kind: 'choice', options: [{ label: 'A', text: 'newton' }, { label: 'B', text: 'joule' }], correct: 'a' },
};
const yesNo = { id: 'y1', split: 'train', domain: 'biology', problem: 'Do plants respire?', answer: { kind: 'choice', options: [{ label: 'Yes' }, { label: 'No' }], correct: 'Yes' } };
const code = {
  id: 'p1',
  split: 'train',
  domain: 'code',
  problem: 'Add two numbers.',
  answer: {
    kind: 'code',
    language: 'python',
    entry_point: 'add',
    starter: 'def add(a, b):\n    pass\n',
    tests: [
      { kind: 'call', args: [1, 2], expected: 3 },
      { kind: 'assert', code: 'assert add(2, 2) == 4', split: 'heldout' },
      { kind: 'io', input: '1 2\n', output: '3\n' },
    ],
  },
  source: { format: 'handwritten', id: '1', test_split: { train: 'first', heldout: 'second' } },
  meta: { difficulty: 'easy' },
};

const lines = (...rows: unknown[]) => rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n');

describe('task JSONL validation', () => {
  it('accepts every answer kind and keeps the fields', () => {
    const { tasks, problems } = parseTaskSuite(lines(numeric, choice, yesNo, code));
    expect(problems).toEqual([]);
    expect(tasks.map((t) => t.id)).toEqual(['n1', 'c1', 'y1', 'p1']);
    expect(tasks[1].answer).toMatchObject({ kind: 'choice', correct: 'A' }); // label spelling normalised
    expect(tasks[2].answer).toMatchObject({ options: [{ label: 'Yes', text: '' }, { label: 'No', text: '' }] });
    expect(tasks[3]).toEqual(code);
  });

  it('round-trips through formatJsonLines', () => {
    const { tasks } = parseTaskSuite(lines(numeric, choice, code));
    expect(parseTaskSuite(formatJsonLines(tasks)).tasks).toEqual(tasks);
  });

  it('reports every bad line with its line number and field, and keeps the good ones', () => {
    const text = lines(
      numeric,
      '{not json',
      { ...numeric, id: 'n2', split: 'dev' },
      { ...numeric, id: 'n3', answer: { kind: 'numeric', value: 'four', tolerence: 1 } },
      '',
      { ...choice, id: 'c2', answer: { ...choice.answer, correct: 'C' } },
      { ...code, id: 'p2', answer: { ...code.answer, tests: [{ kind: 'call', args: 1 }] } },
      { ...choice, id: 'c3' },
      [1, 2],
      { ...numeric, answer: { kind: 'graph' } },
    );
    const { tasks, problems } = parseTaskSuite(text);
    expect(tasks.map((t) => t.id)).toEqual(['n1', 'c3']);
    const shown = problems.map((p) => formatProblem('suite.jsonl', p));
    expect(shown).toEqual([
      expect.stringMatching(/^suite\.jsonl line 2: not valid JSON/),
      'suite.jsonl line 3, split: must be "train" or "test", got "dev"',
      'suite.jsonl line 4, answer.tolerence: unknown field (expected kind, value, tolerance)',
      'suite.jsonl line 4, answer.value: must be a finite number, got "four"',
      'suite.jsonl line 6, answer.correct: "C" is not one of the labels A, B',
      'suite.jsonl line 7, answer.tests[0].args: must be the list of arguments, got 1',
      'suite.jsonl line 7, answer.tests[0].expected: is required (the value the call must return)',
      expect.stringMatching(/^suite\.jsonl line 9: must be a JSON object/),
      'suite.jsonl line 10, answer.kind: must be one of "numeric", "choice", "code", "text", got "graph"',
    ]);
  });

  it('names both lines of a duplicate id and keeps the first', () => {
    const { tasks, problems } = parseTaskSuite(lines(numeric, choice, { ...numeric, problem: 'What is 3 + 1?' }));
    expect(tasks.map((t) => t.problem)).toEqual(['What is 2 + 2?', 'Which is a unit of force?']);
    expect(problems).toEqual([{ line: 3, field: 'id', message: 'duplicate id "n1": line 1 already uses it' }]);
  });

  it('checks code answers: entry points, labels, training tests', () => {
    const bad = [
      { ...code, answer: { ...code.answer, entry_point: undefined } },
      { ...code, answer: { ...code.answer, language: 'ruby' } },
      { ...code, answer: { ...code.answer, entry_point: 'not valid', tests: [{ kind: 'assert', code: 'assert True', split: 'heldout' }] } },
      { ...code, answer: { ...code.answer, class_name: 'Solution', entry_point: undefined, tests: [{ kind: 'io', input: '', output: '' }] } },
      { ...choice, answer: { ...choice.answer, options: [{ label: 'A', text: 'x' }, { label: 'a', text: 'y' }] } },
      { ...choice, answer: { ...choice.answer, options: [{ label: 'A B', text: 'x' }] } },
    ];
    const { tasks, problems } = parseTaskSuite(lines(...bad));
    expect(tasks).toEqual([]);
    expect(problems.map((p) => `${p.line} ${p.field}: ${p.message}`)).toEqual([
      `1 answer.tests[0]: a "call" test needs the answer's "entry_point"`,
      '2 answer.language: must be "python" or "javascript", got "ruby"',
      '3 answer.entry_point: must be an identifier, got "not valid"',
      '3 answer.tests: has no training test (a test without "split" or with "split": "train"); the reward needs one',
      '4 answer.entry_point: is required with "class_name" (the method to call)',
      '5 answer.options[1].label: "a" is already the label of options[0]',
      '6 answer.options: must be a list of at least two {"label", "text"} objects, got [{"label":"A B","text":"x"}]',
    ]);
  });

  it('an empty file is a problem; LineProblemsError lists problems with the file name', () => {
    const { problems } = parseTaskSuite('\n\n');
    expect(problems).toEqual([{ line: 0, field: '', message: 'no tasks (expected one JSON object per line)' }]);
    const err = new LineProblemsError('a.jsonl', [{ line: 2, field: 'id', message: 'is required' }, ...problems]);
    expect(err.message).toBe('a.jsonl line 2, id: is required\na.jsonl: no tasks (expected one JSON object per line)');
  });
});
