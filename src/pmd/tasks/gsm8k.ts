/**
 * GSM8K rows as published: `{"question": string, "answer": string}`, where the answer is the
 * worked solution and its last line is `#### <number>` (digits, maybe a sign, decimals or
 * thousands commas). The number becomes an exact numeric answer; the worked solution is kept in
 * `meta.reference` (never shown to the student).
 */
import type { RowContext, RowResult } from './import-row';
import { shown } from './problems';
import { nonEmptyStringField } from './source-fields';

const FINAL_LINE = /^####\s*(.+?)\s*$/;

export function gsm8kRow(row: Record<string, unknown>, { index, split, sink }: RowContext): RowResult {
  const question = nonEmptyStringField(row, 'question', sink);
  const answer = nonEmptyStringField(row, 'answer', sink);
  if (question === undefined || answer === undefined) return null;
  const lines = answer.trimEnd().split('\n');
  const last = lines[lines.length - 1].trim();
  const m = FINAL_LINE.exec(last);
  const value = m ? Number(m[1].replace(/[,$\s]/g, '')) : NaN;
  if (!m || !Number.isFinite(value)) {
    sink.at('answer').report(`the last line must be "#### <number>", got ${shown(last)}`);
    return null;
  }
  return {
    id: `gsm8k-${index}`,
    split,
    domain: 'math',
    problem: question,
    answer: { kind: 'numeric', value },
    source: { format: 'gsm8k', id: String(index) },
    meta: { reference: lines.slice(0, -1).join('\n').trim() },
  };
}
