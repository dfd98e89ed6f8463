/**
 * MBPP rows as published: `task_id` (number), `text` (the problem), `code` (a reference
 * solution), `test_list` (assert lines), `test_setup_code` (usually empty) and
 * `challenge_test_list` (extra, harder asserts; usually empty). `test_list` becomes the training
 * tests and `challenge_test_list` the held-out tests. The function the tests call is taken from
 * the reference solution (a `def` whose name the tests call) so the prompt can name it; the
 * reference solution itself is kept in `meta.reference`.
 */
import type { RowContext, RowResult } from './import-row';
import { shown } from './problems';
import { nonEmptyStringField, stringField, stringListField } from './source-fields';
import type { CodeAnswer, CodeTest } from './types';

export function mbppRow(row: Record<string, unknown>, { split, sink }: RowContext): RowResult {
  const taskId = row.task_id;
  if (typeof taskId !== 'number' || !Number.isInteger(taskId)) sink.at('task_id').report(`must be a whole number, got ${shown(taskId)}`);
  const text = nonEmptyStringField(row, 'text', sink);
  const code = stringField(row, 'code', sink, 'the reference solution');
  const tests = stringListField(row, 'test_list', sink, 'a list of assert lines');
  const setup = row.test_setup_code === undefined ? '' : stringField(row, 'test_setup_code', sink);
  const challenge = row.challenge_test_list === undefined ? [] : stringListField(row, 'challenge_test_list', sink, 'a list of assert lines');
  if (tests && tests.length === 0) sink.at('test_list').report('is empty; a task needs at least one test');
  if (typeof taskId !== 'number' || text === undefined || code === undefined || !tests?.length || setup === undefined || !challenge) return null;

  const asserts = (lines: string[], s: 'train' | 'heldout'): CodeTest[] =>
    lines.filter((l) => l.trim() !== '').map((l) => ({ kind: 'assert', code: l, ...(s === 'heldout' ? { split: s } : {}) }));
  const answer: CodeAnswer = { kind: 'code', language: 'python', tests: [...asserts(tests, 'train'), ...asserts(challenge, 'heldout')] };
  const entry = calledFunction(code, tests);
  if (entry) answer.entry_point = entry;
  if (setup.trim() !== '') answer.setup = setup;
  return {
    id: `mbpp-${taskId}`,
    split,
    domain: 'code',
    problem: text,
    answer,
    source: {
      format: 'mbpp',
      id: String(taskId),
      test_split: { train: 'test_list', ...(challenge.length ? { heldout: 'challenge_test_list' } : {}) },
    },
    meta: { reference: code },
  };
}

/** The first function defined in `code` that the first test calls, else the first one any test calls. */
export function calledFunction(code: string, tests: readonly string[]): string | undefined {
  const defined = [...code.matchAll(/^\s*def\s+([A-Za-z_]\w*)\s*\(/gm)].map((m) => m[1]);
  for (const t of tests) {
    const calls = [...t.matchAll(/([A-Za-z_]\w*)\s*\(/g)].map((m) => m[1]);
    const hit = calls.find((c) => defined.includes(c));
    if (hit) return hit;
  }
  return undefined;
}
