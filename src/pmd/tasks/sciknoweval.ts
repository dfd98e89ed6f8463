/**
 * SciKnowEval rows as published: `question`, `choices: {text: [...], label: [...]}`,
 * `answerKey` (multiple choice), `answer` ("Yes"/"No" for true_or_false, free text elsewhere),
 * `type`, `domain`, `details: {level, task, subtask, source}` and a `prompt` we do not use
 * (the project renders its own). Only types with an exact answer are imported:
 * `mcq-4-choices`, `mcq-2-choices` and `true_or_false`; the others (open-ended-qa, filling,
 * relation_extraction) are skipped with the reason.
 */
import { isRecord } from '../../util/records';
import type { RowContext, RowResult } from './import-row';
import { shown } from './problems';
import { nonEmptyStringField, stringField } from './source-fields';
import type { ChoiceOption } from './types';

const MULTIPLE_CHOICE = new Set(['mcq-4-choices', 'mcq-2-choices']);

export function sciKnowEvalRow(row: Record<string, unknown>, { index, split, sink }: RowContext): RowResult {
  const type = nonEmptyStringField(row, 'type', sink);
  if (type === undefined) return null;
  if (!MULTIPLE_CHOICE.has(type) && type !== 'true_or_false') return { skip: `type "${type}" has no exact answer to check` };
  const question = nonEmptyStringField(row, 'question', sink);
  const domain = nonEmptyStringField(row, 'domain', sink);
  const details = isRecord(row.details) ? row.details : {};
  if (row.details !== undefined && !isRecord(row.details)) sink.at('details').report(`must be an object {level, task, subtask}, got ${shown(row.details)}`);

  let options: ChoiceOption[] = [];
  let correct: string | undefined;
  if (type === 'true_or_false') {
    const answer = stringField(row, 'answer', sink, '"Yes" or "No"');
    options = [{ label: 'Yes', text: '' }, { label: 'No', text: '' }];
    correct = options.find((o) => o.label.toLowerCase() === answer?.trim().toLowerCase())?.label;
    if (answer !== undefined && !correct) sink.at('answer').report(`must be "Yes" or "No" for a true_or_false question, got ${shown(answer)}`);
  } else {
    const choices = row.choices;
    const text = isRecord(choices) ? choices.text : undefined;
    const label = isRecord(choices) ? choices.label : undefined;
    const strings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');
    if (!strings(text) || !strings(label) || (text as string[]).length !== (label as string[]).length || (label as string[]).length < 2) {
      sink.at('choices').report(`must be {"text": [...], "label": [...]} with two or more options of each, got ${shown(choices)}`);
    } else {
      options = (label as string[]).map((l, i) => ({ label: l, text: (text as string[])[i] }));
      const key = stringField(row, 'answerKey', sink, 'the label of the right choice');
      correct = options.find((o) => o.label === key?.trim())?.label;
      if (key !== undefined && !correct) sink.at('answerKey').report(`${shown(key)} is not one of the labels ${(label as string[]).join(', ')}`);
    }
  }
  if (question === undefined || domain === undefined || correct === undefined) return null;
  const meta: Record<string, unknown> = { type };
  for (const k of ['level', 'task', 'subtask'] as const) if (typeof details[k] === 'string') meta[k] = details[k];
  return {
    id: `sciknoweval-${index}`,
    split,
    domain,
    problem: question,
    answer: { kind: 'choice', options, correct },
    source: { format: 'sciknoweval', id: String(index) },
    meta,
  };
}
