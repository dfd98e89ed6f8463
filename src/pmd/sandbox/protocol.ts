/**
 * What the sandbox runs and reports, and the messages between a sandbox host (Node
 * worker_threads or a browser Web Worker) and the worker. One job is one test of one program.
 */
import type { CodeLanguage, CodeTest } from '../tasks/types';

export interface SandboxJob {
  language: CodeLanguage;
  /** The program under test. */
  code: string;
  /** Run before `code` in the same namespace (imports and helpers the tests need). */
  setup?: string;
  entryPoint?: string;
  className?: string;
  test: CodeTest;
  /** Wall-clock limit for this test, from the moment the worker starts it. */
  timeLimitMs: number;
  /** Characters of standard output (and, separately, standard error) kept before the program is stopped. */
  outputLimit: number;
}

/**
 * passed / failed: the test ran to the end and the result did (not) match;
 * error: the program raised (or did not compile); timeout, output-limit, memory-limit: stopped
 * at a limit; crashed: the interpreter itself died (the worker is restarted).
 */
export type TestStatus = 'passed' | 'failed' | 'error' | 'timeout' | 'output-limit' | 'memory-limit' | 'crashed';

export interface TestOutcome {
  status: TestStatus;
  /** What the program produced: standard output for io tests, the returned value for call and assert tests. */
  actual?: string;
  /** For assert tests that compare two values: the expected side, as the language prints it. */
  expected?: string;
  /** "ZeroDivisionError: division by zero" and the like. */
  error?: string;
  /** Line of the submitted code where the error happened (1-based), and that line. */
  line?: number;
  lineText?: string;
  /** Time the test took inside the worker (or until the host stopped it). */
  ms: number;
}

/** What a runner reports before io tests are compared: 'ran' is an io program that finished. */
export type RawOutcome = Omit<TestOutcome, 'status'> & { status: TestStatus | 'ran' };

export interface SandboxLimits {
  timeLimitMs: number;
  outputLimit: number;
}

export const DEFAULT_LIMITS: SandboxLimits = { timeLimitMs: 5_000, outputLimit: 1 << 20 };

/** The heap a sandbox worker's interpreters may grow to (WebAssembly memory), by default. */
export const DEFAULT_MEMORY_LIMIT_BYTES = 1 << 30;

export interface SandboxStats {
  /** Interpreter start-up times in ms, one entry per (re)start of that language's interpreter. */
  startups: Partial<Record<CodeLanguage, number[]>>;
  /** Workers terminated and replaced (timeouts without an interrupt, crashes). */
  restarts: number;
  tests: number;
}

/** Runs tests one at a time, each in a fresh namespace of a long-lived interpreter. */
export interface Sandbox {
  run(job: SandboxJob): Promise<TestOutcome>;
  stats(): SandboxStats;
  close(): Promise<void>;
}

export type ToWorker =
  | {
      type: 'init';
      languages: CodeLanguage[];
      memoryLimitBytes: number;
      /** Python's interrupt flag (Int32Array view), where SharedArrayBuffer exists. */
      interrupt?: SharedArrayBuffer;
      /** Browser: the URL folder that holds pyodide/ and quickjs/ (the app's base). */
      assetsBase?: string;
    }
  | { type: 'run'; id: number; job: SandboxJob };

export type FromWorker =
  | { type: 'ready'; startupMs: Partial<Record<CodeLanguage, number>> }
  | { type: 'init-failed'; message: string }
  | { type: 'result'; id: number; outcome: TestOutcome }
  | { type: 'crashed'; id: number; message: string };

/** The failure outcome for a job the host had to stop or lost. */
export function hostOutcome(status: TestStatus, ms: number, error?: string): TestOutcome {
  return error === undefined ? { status, ms } : { status, ms, error };
}
