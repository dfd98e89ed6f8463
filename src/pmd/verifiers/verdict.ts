/** What verifying one response gives the PMD loop. */
import type { TestStatus } from '../sandbox/protocol';

export interface TestSummary {
  /** Tests selected for this verification. */
  total: number;
  /** Tests actually run (a failing rollout stops after the failures its feedback can name). */
  run: number;
  passed: number;
  /** The outcome of each test run, in order. */
  statuses: TestStatus[];
}

export interface Verdict {
  /** In [0, 1]: 1 when right (for code: every selected test passed, or the passed share with partial credit). */
  reward: number;
  /** '' when the response passed; otherwise what went wrong, at most 2,000 characters. */
  feedback: string;
  /**
   * The final answer in normalised form, for majority voting: a number as "64" or "0.5", a
   * choice as its label. null when none was found, and always null for code.
   */
  answer: string | null;
  tests?: TestSummary;
}
