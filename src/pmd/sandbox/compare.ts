/**
 * When a program's result counts as the expected one.
 *
 * Standard output: the same lines, ignoring spaces at line ends, carriage returns and blank
 * lines at the end; failing that, the same whitespace-separated tokens where tokens that are
 * both numbers may differ by 1e-6 (absolute or relative), as judges of contest problems with
 * real-valued answers accept.
 *
 * Returned values (JavaScript; Python compares in Python with the same rule): equal JSON data,
 * numbers within 1e-6 unless both are integers.
 */
import type { RawOutcome, SandboxJob, TestOutcome } from './protocol';

const TOLERANCE = 1e-6;

/** A runner's report as the test's outcome: io programs that ran to the end are compared here. */
export function compareOutput(raw: RawOutcome, job: SandboxJob): TestOutcome {
  if (raw.status !== 'ran') return raw as TestOutcome;
  const expected = job.test.kind === 'io' ? job.test.output : '';
  return { ...raw, status: outputsMatch(raw.actual ?? '', expected) ? 'passed' : 'failed' };
}

export function outputsMatch(actual: string, expected: string): boolean {
  const lines = (s: string) => {
    const out = s.replace(/\r/g, '').split('\n').map((l) => l.trimEnd());
    while (out.length && out[out.length - 1] === '') out.pop();
    return out;
  };
  const a = lines(actual);
  const e = lines(expected);
  if (a.length === e.length && a.every((l, i) => l === e[i])) return true;
  const ta = actual.split(/\s+/).filter(Boolean);
  const te = expected.split(/\s+/).filter(Boolean);
  return ta.length === te.length && ta.every((t, i) => t === te[i] || numbersClose(t, te[i]));
}

function numbersClose(a: string, b: string): boolean {
  const NUM = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;
  if (!NUM.test(a) || !NUM.test(b)) return false;
  return closeEnough(Number(a), Number(b));
}

function closeEnough(a: number, b: number): boolean {
  return Math.abs(a - b) <= TOLERANCE * Math.max(1, Math.abs(b));
}

export function sameJsonValue(actual: unknown, expected: unknown): boolean {
  if (typeof actual === 'number' && typeof expected === 'number') {
    return Number.isInteger(actual) && Number.isInteger(expected) ? actual === expected : closeEnough(actual, expected);
  }
  if (Array.isArray(actual) || Array.isArray(expected)) {
    return Array.isArray(actual) && Array.isArray(expected) && actual.length === expected.length && actual.every((x, i) => sameJsonValue(x, expected[i]));
  }
  if (actual && expected && typeof actual === 'object' && typeof expected === 'object') {
    const ka = Object.keys(actual);
    const ke = Object.keys(expected);
    return ka.length === ke.length && ka.every((k) => Object.hasOwn(expected, k) && sameJsonValue((actual as Record<string, unknown>)[k], (expected as Record<string, unknown>)[k]));
  }
  return actual === expected;
}
