/**
 * Code verification: extract the program, run the selected tests one by one in the sandbox, and
 * score. Without partial credit the reward is 1 only when every selected test passes, and a run
 * stops once it has the failures its feedback can name (the rest could not change the reward).
 * With partial credit every test runs and the reward is the passed share.
 */
import { selectTests, type CodeAnswer, type TestSplit } from '../tasks/types';
import type { Sandbox, SandboxLimits, TestStatus } from '../sandbox/protocol';
import { extractCode } from './extract-code';
import { codeFeedback, FEEDBACK_TESTS, type FailedTest } from './feedback';
import type { Verdict } from './verdict';

export interface CodeVerifyOptions {
  sandbox: Sandbox;
  tests: TestSplit | 'all';
  partialCredit: boolean;
  limits: SandboxLimits;
}

const FENCE = { python: '```python', javascript: '```javascript' } as const;

export async function verifyCode(answer: CodeAnswer, response: string, opts: CodeVerifyOptions): Promise<Verdict> {
  const tests = selectTests(answer, opts.tests);
  const total = tests.length;
  const code = extractCode(response, answer.language);
  if (!code) return { reward: 0, feedback: `No code was found in the response: reply with the solution in a ${FENCE[answer.language]} code block.`, answer: null, tests: { total, run: 0, passed: 0, statuses: [] } };
  if (total === 0) return { reward: 0, feedback: `This task has no ${opts.tests} tests to run.`, answer: null, tests: { total, run: 0, passed: 0, statuses: [] } };
  const failures: FailedTest[] = [];
  let run = 0;
  let passed = 0;
  const statuses: TestStatus[] = [];
  for (const test of tests) {
    const outcome = await opts.sandbox.run({
      language: answer.language,
      code,
      setup: answer.setup,
      entryPoint: answer.entry_point,
      className: answer.class_name,
      test,
      timeLimitMs: opts.limits.timeLimitMs,
      outputLimit: opts.limits.outputLimit,
    });
    run++;
    statuses.push(outcome.status);
    if (outcome.status === 'passed') passed++;
    else failures.push({ number: run, test, outcome });
    if (!opts.partialCredit && failures.length >= FEEDBACK_TESTS) break;
  }
  const reward = opts.partialCredit ? passed / total : passed === total ? 1 : 0;
  const feedback = codeFeedback(failures, run, total, { language: answer.language, entryPoint: answer.entry_point, className: answer.class_name });
  return { reward, feedback, answer: null, tests: { total, run, passed, statuses } };
}

