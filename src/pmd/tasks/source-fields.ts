/**
 * Reading fields of public dataset rows with problems that name the field and say what the
 * dataset publishes there. Extra fields in a row are ignored: datasets add columns over time.
 */
import type { ProblemSink } from './problems';
import { shown } from './problems';

export function stringField(row: Record<string, unknown>, key: string, sink: ProblemSink, what = 'a string'): string | undefined {
  const v = row[key];
  if (typeof v === 'string') return v;
  sink.at(key).report(v === undefined ? `is missing (expected ${what})` : `must be ${what}, got ${shown(v)}`);
  return undefined;
}

export function nonEmptyStringField(row: Record<string, unknown>, key: string, sink: ProblemSink, what = 'a non-empty string'): string | undefined {
  const v = stringField(row, key, sink, what);
  if (v !== undefined && v.trim() === '') {
    sink.at(key).report(`must be ${what}, got an empty string`);
    return undefined;
  }
  return v;
}

export function stringListField(row: Record<string, unknown>, key: string, sink: ProblemSink, what = 'a list of strings'): string[] | undefined {
  const v = row[key];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  sink.at(key).report(v === undefined ? `is missing (expected ${what})` : `must be ${what}, got ${shown(v)}`);
  return undefined;
}

/** A field that holds JSON text (LiveCodeBench's test lists and metadata). */
export function jsonTextField(row: Record<string, unknown>, key: string, sink: ProblemSink, what: string): unknown {
  const text = stringField(row, key, sink, `a JSON string of ${what}`);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    sink.at(key).report(`is not valid JSON (${(e as Error).message}); expected ${what}`);
    return undefined;
  }
}
