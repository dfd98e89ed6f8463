/**
 * Feedback text for a failed code rollout, read by the teacher and the reflector: how many tests
 * failed, then up to two failing tests with their input, the expected output and what the program
 * produced (or its error and the line it happened on). Every field is cut short and the whole
 * text never exceeds FEEDBACK_LIMIT characters.
 */
import type { CodeLanguage, CodeTest } from '../tasks/types';
import type { TestOutcome, TestStatus } from '../sandbox/protocol';

export const FEEDBACK_LIMIT = 2000;
/** Failing tests named in the feedback. */
export const FEEDBACK_TESTS = 2;
const FIELD_LIMIT = 300;

export interface FailedTest {
  /** 1-based position among the tests the verification ran. */
  number: number;
  test: CodeTest;
  outcome: TestOutcome;
}

export interface CallStyle {
  language: CodeLanguage;
  entryPoint?: string;
  className?: string;
}

const WHAT: Record<Exclude<TestStatus, 'passed'>, string> = {
  failed: 'wrong result',
  error: 'error',
  timeout: 'time limit exceeded',
  'output-limit': 'output limit exceeded',
  'memory-limit': 'memory limit exceeded',
  crashed: 'the interpreter crashed',
};

/** A text cut to `max` characters, saying how much was left out. */
export function clip(text: string, max = FIELD_LIMIT): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

/** A JSON value as a literal of the language (True/None/dicts for Python). */
export function literal(v: unknown, language: CodeLanguage): string {
  if (language === 'javascript') return JSON.stringify(v) ?? 'undefined';
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number' || typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map((x) => literal(x, language)).join(', ')}]`;
  if (typeof v === 'object') return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${JSON.stringify(k)}: ${literal(x, language)}`).join(', ')}}`;
  return String(v);
}

function callText(args: unknown[], style: CallStyle): string {
  const target = style.className ? `${style.className}().${style.entryPoint}` : style.entryPoint ?? 'f';
  return `${target}(${args.map((a) => literal(a, style.language)).join(', ')})`;
}

function describeTest(f: FailedTest, style: CallStyle): string[] {
  const { test, outcome } = f;
  const lines = [`Test ${f.number}: ${WHAT[outcome.status as Exclude<TestStatus, 'passed'>] ?? outcome.status}`];
  if (test.kind === 'io') {
    lines.push(`  input: ${clip(JSON.stringify(test.input))}`, `  expected output: ${clip(JSON.stringify(test.output))}`);
    if (outcome.actual !== undefined) lines.push(`  actual output: ${clip(JSON.stringify(outcome.actual))}`);
  } else if (test.kind === 'call') {
    lines.push(`  call: ${clip(callText(test.args, style))}`, `  expected: ${clip(literal(test.expected, style.language))}`);
    if (outcome.actual !== undefined) lines.push(`  actual: ${clip(outcome.actual)}`);
  } else {
    lines.push(`  test: ${clip(test.code.trim())}`);
    if (outcome.expected !== undefined) lines.push(`  expected: ${clip(outcome.expected)}`);
    if (outcome.actual !== undefined) lines.push(`  actual: ${clip(outcome.actual)}`);
  }
  if (outcome.error && !(outcome.status === 'failed' && /^AssertionError$/.test(outcome.error) && outcome.actual !== undefined)) {
    const where = outcome.line ? ` (line ${outcome.line}${outcome.lineText?.trim() ? `: ${clip(outcome.lineText.trim(), 120)}` : ''})` : '';
    lines.push(`  error: ${clip(outcome.error)}${where}`);
  }
  return lines;
}

export function codeFeedback(failures: readonly FailedTest[], ran: number, total: number, style: CallStyle): string {
  if (failures.length === 0) return '';
  const notRun = total - ran;
  const head =
    notRun > 0
      ? `${failures.length} of the ${ran} tests run failed (${notRun} more not run).`
      : `${failures.length} of ${total} tests failed.`;
  const text = [head, ...failures.slice(0, FEEDBACK_TESTS).flatMap((f) => ['', ...describeTest(f, style)])].join('\n');
  return text.length <= FEEDBACK_LIMIT ? text : `${text.slice(0, FEEDBACK_LIMIT - 1)}…`;
}
