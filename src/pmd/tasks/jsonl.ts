/**
 * JSONL reading and writing: one JSON value per line, blank lines skipped. Line numbers are
 * 1-based (as editors show them); importers that name tasks by source line subtract one.
 */
import type { InputProblem } from './problems';

export interface JsonLine {
  /** 1-based line number in the file. */
  line: number;
  value: unknown;
}

/** Every non-blank line parsed; lines that are not JSON become problems and are left out. */
export function readJsonLines(text: string, problems: InputProblem[]): JsonLine[] {
  const out: JsonLine[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return;
    try {
      out.push({ line: i + 1, value: JSON.parse(line) });
    } catch (e) {
      problems.push({ line: i + 1, field: '', message: `not valid JSON (${(e as Error).message})` });
    }
  });
  return out;
}

/** One compact JSON value per line, with a final newline. */
export function formatJsonLines(values: readonly unknown[]): string {
  return values.map((v) => JSON.stringify(v)).join('\n') + (values.length ? '\n' : '');
}
