/**
 * `pmd-lab verify --tasks <tasks.jsonl> --responses <responses.jsonl> --out <results.jsonl>
 *                 [--tests train|heldout|all] [--partial-credit] [--time-limit-ms <n>]`
 *
 * Each response line is {"id": <task id>, "response": <text>}; each result line, in the same
 * order, is {"id", "reward", "feedback"} (feedback '' when the response passed). A malformed line
 * in either input is an error naming it, and nothing is written; a response whose id is not in
 * the tasks file gets reward 0 and the error in its feedback. Code runs in the Node sandbox.
 */
import { Args, UsageError } from '../args';
import { readTextInput } from '../inputs';
import { checkOutputPath, writeFileAtomic } from '../outputs';
import { isRecord } from '../../util/records';
import { formatJsonLines, readJsonLines } from '../../pmd/tasks/jsonl';
import { LineProblemsError, shown, type InputProblem } from '../../pmd/tasks/problems';
import { parseTaskSuite } from '../../pmd/tasks/validate';
import { TEST_SPLITS, type CodeLanguage, type Task, type TestSplit } from '../../pmd/tasks/types';
import { createNodeSandbox } from '../../pmd/sandbox/node-host';
import { verifyResponse } from '../../pmd/verifiers/verify';

export const usage = `verify    --tasks <tasks.jsonl> --responses <responses.jsonl> --out <results.jsonl>
            [--tests train|heldout|all] [--partial-credit] [--time-limit-ms <n>]`;


interface ResponseLine {
  id: string;
  response: string;
}

export function parseResponses(text: string, file: string): ResponseLine[] {
  const problems: InputProblem[] = [];
  const out: ResponseLine[] = [];
  for (const { line, value } of readJsonLines(text, problems)) {
    if (!isRecord(value)) problems.push({ line, field: '', message: `must be an object {"id": <task id>, "response": <text>}, got ${shown(value)}` });
    else if (typeof value.id !== 'string') problems.push({ line, field: 'id', message: `must be a task id (a string), got ${shown(value.id)}` });
    else if (typeof value.response !== 'string') problems.push({ line, field: 'response', message: `must be the response text (a string), got ${shown(value.response)}` });
    else out.push({ id: value.id, response: value.response });
  }
  if (problems.length) throw new LineProblemsError(file, problems.sort((a, b) => a.line - b.line));
  return out;
}

export async function run(args: Args): Promise<void> {
  const tasksFile = args.required('tasks');
  const responsesFile = args.required('responses');
  const out = args.required('out');
  const tests = args.string('tests') ?? 'train';
  const partialCredit = args.has('partial-credit');
  const timeLimitMs = args.integer('time-limit-ms', 5_000, 1);
  args.rejectUnknown();
  if (tests !== 'all' && !(TEST_SPLITS as readonly string[]).includes(tests)) throw new UsageError(`--tests must be train, heldout or all, got "${tests}"`);
  await checkOutputPath('out', out, 'file', { inputs: [tasksFile, responsesFile] });

  const suite = parseTaskSuite(await readTextInput('tasks', tasksFile));
  if (suite.problems.length) throw new LineProblemsError(tasksFile, suite.problems);
  const responses = parseResponses(await readTextInput('responses', responsesFile), responsesFile);
  const byId = new Map<string, Task>(suite.tasks.map((t) => [t.id, t]));

  const languages = new Set<CodeLanguage>();
  for (const r of responses) {
    const t = byId.get(r.id);
    if (t?.answer.kind === 'code') languages.add(t.answer.language);
  }
  const sandbox = languages.size ? createNodeSandbox() : undefined;
  try {
    await sandbox?.prepare([...languages]);
    const results: { id: string; reward: number; feedback: string }[] = [];
    for (const r of responses) {
      const task = byId.get(r.id);
      if (!task) {
        results.push({ id: r.id, reward: 0, feedback: `error: unknown task id ${JSON.stringify(r.id)} (not in ${tasksFile})` });
        continue;
      }
      const v = await verifyResponse(task, r.response, { sandbox, tests: tests as TestSplit | 'all', partialCredit, limits: { timeLimitMs } });
      results.push({ id: r.id, reward: v.reward, feedback: v.feedback });
    }
    await writeFileAtomic(out, formatJsonLines(results));
    const mean = results.length ? results.reduce((s, r) => s + r.reward, 0) / results.length : 0;
    const passed = results.filter((r) => r.reward === 1).length;
    console.log(`verified ${results.length} response${results.length === 1 ? '' : 's'}: ${passed} passed, mean reward ${mean.toFixed(3)}; wrote ${out}`);
  } finally {
    await sandbox?.close();
  }
}
