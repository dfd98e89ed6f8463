/**
 * Importing public datasets into the task format. Each format has its own module that turns one
 * source row into a task, a skip (a well-formed row with nothing exact to check) or problems
 * (a row that does not match the format as the dataset publishes it). This module runs them over
 * a JSONL file, checks every produced task with the task validator, and keeps ids unique.
 *
 * Ids are `<format>-<source id>` where the source has one, else `<format>-<n>` with n the 0-based
 * line number of the row in the source file (skipped and blank lines keep their numbers).
 */
import { isRecord } from '../../util/records';
import { readJsonLines } from './jsonl';
import { ProblemSink, shown, type InputProblem } from './problems';
import { validateTask } from './validate';
import type { Task, TaskSplit } from './types';
import { gsm8kRow } from './gsm8k';
import { sciKnowEvalRow } from './sciknoweval';
import { mbppRow } from './mbpp';
import { liveCodeBenchRow } from './livecodebench';

export type { RowContext, RowImporter, RowResult } from './import-row';
import type { RowImporter } from './import-row';

export const IMPORT_FORMATS = {
  gsm8k: gsm8kRow,
  sciknoweval: sciKnowEvalRow,
  mbpp: mbppRow,
  livecodebench: liveCodeBenchRow,
} satisfies Record<string, RowImporter>;

export type ImportFormat = keyof typeof IMPORT_FORMATS;

export function isImportFormat(name: string): name is ImportFormat {
  return Object.hasOwn(IMPORT_FORMATS, name);
}

export interface SkippedRow {
  /** 1-based line number in the source file. */
  line: number;
  reason: string;
}

export interface ImportResult {
  tasks: Task[];
  skipped: SkippedRow[];
  problems: InputProblem[];
}

export function importTasks(format: ImportFormat, text: string, opts: { split?: TaskSplit } = {}): ImportResult {
  const problems: InputProblem[] = [];
  const tasks: Task[] = [];
  const skipped: SkippedRow[] = [];
  const firstLine = new Map<string, number>();
  for (const { line, value } of readJsonLines(text, problems)) {
    const sink = new ProblemSink(problems, line);
    if (!isRecord(value)) {
      sink.report(`must be a JSON object (a ${format} row), got ${shown(value)}`);
      continue;
    }
    const before = problems.length;
    const result = IMPORT_FORMATS[format](value, { index: line - 1, split: opts.split ?? 'train', sink });
    if (result === null || problems.length > before) continue;
    if ('skip' in result) {
      skipped.push({ line, reason: result.skip });
      continue;
    }
    // The produced task must itself be valid; a failure here is a row the format module let through.
    const task = validateTask(JSON.parse(JSON.stringify(result)), sink);
    if (!task) continue;
    const seen = firstLine.get(task.id);
    if (seen !== undefined) {
      sink.report(`gives the id ${shown(task.id)} that line ${seen} already gave`);
      continue;
    }
    firstLine.set(task.id, line);
    tasks.push(task);
  }
  return { tasks, skipped, problems };
}

/** "12 skipped: 10 type "filling" has no exact answer, 2 ..." grouped by reason; '' when none. */
export function summarizeSkipped(skipped: readonly SkippedRow[]): string {
  if (skipped.length === 0) return '';
  const counts = new Map<string, number>();
  for (const s of skipped) counts.set(s.reason, (counts.get(s.reason) ?? 0) + 1);
  return [...counts].map(([reason, n]) => `${n} × ${reason}`).join('; ');
}
