/**
 * Problems found in input files: where (line and field) and what. Parsers collect every problem
 * instead of stopping at the first, and callers decide whether a problem is fatal.
 */

export interface InputProblem {
  /** 1-based line number in the file; 0 for the file as a whole. */
  line: number;
  /** Field path inside the line's JSON ("answer.tests[2].expected"); '' for the whole line. */
  field: string;
  message: string;
}

export function formatProblem(file: string, p: InputProblem): string {
  const where = p.line > 0 ? `${file} line ${p.line}` : file;
  return p.field ? `${where}, ${p.field}: ${p.message}` : `${where}: ${p.message}`;
}

/** An input file that cannot be used; the message lists its problems (the first 20). */
export class LineProblemsError extends Error {
  constructor(
    readonly file: string,
    readonly problems: InputProblem[],
  ) {
    const shown = problems.slice(0, 20).map((p) => formatProblem(file, p));
    if (problems.length > shown.length) shown.push(`... and ${problems.length - shown.length} more problems`);
    super(shown.join('\n'));
    this.name = 'LineProblemsError';
  }
}

/** Collects problems for one line; `at(field)` narrows the field path. */
export class ProblemSink {
  constructor(
    readonly problems: InputProblem[],
    readonly line: number,
    readonly path = '',
  ) {}

  at(field: string | number): ProblemSink {
    const part = typeof field === 'number' ? `[${field}]` : this.path ? `.${field}` : field;
    return new ProblemSink(this.problems, this.line, this.path + part);
  }

  report(message: string): void {
    this.problems.push({ line: this.line, field: this.path, message });
  }
}

/** JSON of a value for messages, cut short. */
export function shown(v: unknown, max = 60): string {
  const s = v === undefined ? 'nothing' : JSON.stringify(v) ?? String(v);
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}
