/**
 * How the world's problems and solutions are written, in one place:
 *   problem   "Apply zovik then tamel to 3 8 1 5."
 *   solution  the input again, one line per procedure saying what it does and its result,
 *             then the answer:
 *             "Start: 3 8 1 5
 *              Step: zovik reverses the order of the symbols: 5 1 8 3
 *              Step: tamel moves the first symbol to the end: 1 8 3 5
 *              Answer: 1 8 3 5"
 * Symbols are digits separated by single spaces. Restating the input makes every procedure
 * line a function of the line just above it, so a model learns to apply one procedure to the
 * latest result, which is what lets it chain procedures in combinations it never saw. Each
 * step line first states, in the description language of the memory items, what the procedure
 * does: reading memory then means copying the sentence memory gives for the name (a short
 * in-context copy, which a tiny model learns quickly) and applying the operation it has just
 * written. A name is written after a space everywhere (problem, memory, step lines), so it is
 * one token. The answer line is what the checker reads; the step lines are what the reflector
 * reads to tell which operation a response applied.
 */
import { describeOperation, operationFromPhrase, type Operation } from './operations';

export const ANSWER_PREFIX = 'Answer:';
export const STEP_PREFIX = 'Step:';
export const START_PREFIX = 'Start:';

/** Digits separated by single spaces. */
export function formatSymbols(s: readonly number[]): string {
  return s.join(' ');
}

/** Digits separated by white space, or null when anything else is there. */
export function parseSymbols(text: string): number[] | null {
  const parts = text.trim().split(/\s+/);
  if (parts.length === 0 || parts[0] === '') return null;
  if (!parts.every((p) => /^[0-9]$/.test(p))) return null;
  return parts.map(Number);
}

export function problemText(names: readonly string[], input: readonly number[]): string {
  if (names.length === 0) throw new Error('a problem needs at least one procedure');
  return `Apply ${names.join(' then ')} to ${formatSymbols(input)}.`;
}

export interface ParsedProblem {
  names: string[];
  input: number[];
}

/** Read a problem written by problemText (first line of the text); null when it is not one. */
export function parseProblem(text: string): ParsedProblem | null {
  const m = /^\s*Apply ([a-z]+(?: then [a-z]+)*) to ([0-9](?: [0-9])*)\.\s*$/.exec(text.split('\n')[0] ?? '');
  if (!m) return null;
  return { names: m[1].split(' then '), input: m[2].split(' ').map(Number) };
}

export function answerLine(s: readonly number[]): string {
  return `${ANSWER_PREFIX} ${formatSymbols(s)}`;
}

/** One step line: "Step: name <what its operation does>: result". */
export function stepLine(name: string, operation: Operation, result: readonly number[]): string {
  return `${STEP_PREFIX} ${name} ${describeOperation(operation)}: ${formatSymbols(result)}`;
}

/** A worked solution: the start line, one step line per procedure, then the answer line. */
export function solutionText(input: readonly number[], steps: readonly { name: string; operation: Operation; result: readonly number[] }[]): string {
  if (steps.length === 0) throw new Error('a solution needs at least one step');
  const lines = steps.map((s) => stepLine(s.name, s.operation, s.result));
  return [`${START_PREFIX} ${formatSymbols(input)}`, ...lines, answerLine(steps[steps.length - 1].result)].join('\n');
}

/** The text after the last "Answer:" line of a response (trimmed), or null when there is none. */
export function extractAnswer(response: string): string | null {
  let found: string | null = null;
  for (const line of response.split('\n')) {
    const t = line.trim();
    if (t.startsWith(ANSWER_PREFIX)) found = t.slice(ANSWER_PREFIX.length).trim();
  }
  return found;
}

export interface StepLine {
  name: string;
  /** The operation the line says the procedure performs (null when the phrase is none of the language). */
  operation: Operation | null;
  symbols: number[];
}

/** The "Step: name phrase: digits" step lines of a response, in order (lines of any other form are skipped). */
export function parseSteps(response: string): StepLine[] {
  const out: StepLine[] = [];
  for (const line of response.split('\n')) {
    const m = /^\s*Step: ([a-z]+) ([a-z0-9 ]+?):\s*(.*)$/.exec(line);
    if (!m) continue;
    const symbols = parseSymbols(m[3]);
    if (symbols) out.push({ name: m[1], operation: operationFromPhrase(m[2]), symbols });
  }
  return out;
}
