/** What an importer of one public format makes of one row (shared by the format modules and the driver in importers.ts). */
import type { ProblemSink } from './problems';
import type { Task, TaskSplit } from './types';

export interface RowContext {
  /** 0-based line number of the row in the source file. */
  index: number;
  split: TaskSplit;
  sink: ProblemSink;
}

/** What a format module makes of one row: a task, a reason to skip it, or null (problems reported). */
export type RowResult = Task | { skip: string } | null;

export type RowImporter = (row: Record<string, unknown>, ctx: RowContext) => RowResult;

