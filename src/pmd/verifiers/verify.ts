/**
 * The verifier entry point the PMD loop calls for every rollout, the same in Node and in a
 * browser worker: `verifyResponse(task, response, options)` and its batched form. Code needs a
 * sandbox (sandbox/node-host.ts in Node, sandbox/browser-host.ts in the browser); the other kinds
 * are checked in place.
 */
import type { AnswerKind, Task, TestSplit } from '../tasks/types';
import { DEFAULT_LIMITS, type Sandbox, type SandboxLimits } from '../sandbox/protocol';
import { verifyChoice, verifyNumeric } from './answers';
import { verifyCode } from './code';
import { verifyText } from './text';
import type { Verdict } from './verdict';

export type { Verdict, TestSummary } from './verdict';

export interface VerifyOptions {
  /** Runs code; required for code tasks. */
  sandbox?: Sandbox;
  /** Which tests of a code task count: 'train' (the loop's reward and feedback, the default), 'heldout' or 'all'. */
  tests?: TestSplit | 'all';
  /** Code reward = share of passed tests instead of all-or-nothing. Off by default. */
  partialCredit?: boolean;
  /** Per-test time and output limits. */
  limits?: Partial<SandboxLimits>;
}

type KindVerifier<K extends AnswerKind> = (answer: Extract<Task['answer'], { kind: K }>, response: string, opts: VerifyOptions) => Verdict | Promise<Verdict>;

/** One verifier per answer kind; a kind added to `Answer` must be added here. */
export const VERIFIERS: { [K in AnswerKind]: KindVerifier<K> } = {
  numeric: (answer, response) => verifyNumeric(answer, response),
  choice: (answer, response) => verifyChoice(answer, response),
  text: (answer, response) => verifyText(answer, response),
  code: (answer, response, opts) => {
    if (!opts.sandbox) throw new Error('verifying code needs a sandbox (createNodeSandbox in Node, createBrowserSandbox in the browser)');
    return verifyCode(answer, response, {
      sandbox: opts.sandbox,
      tests: opts.tests ?? 'train',
      partialCredit: opts.partialCredit ?? false,
      limits: { ...DEFAULT_LIMITS, ...opts.limits },
    });
  },
};

export async function verifyResponse(task: Task, response: string, opts: VerifyOptions = {}): Promise<Verdict> {
  const verify = VERIFIERS[task.answer.kind] as KindVerifier<AnswerKind>;
  return verify(task.answer as never, response, opts);
}

/** Verify many responses in order (one sandbox runs one test at a time). */
export async function verifyBatch(items: readonly { task: Task; response: string }[], opts: VerifyOptions = {}): Promise<Verdict[]> {
  const out: Verdict[] = [];
  for (const { task, response } of items) out.push(await verifyResponse(task, response, opts));
  return out;
}
