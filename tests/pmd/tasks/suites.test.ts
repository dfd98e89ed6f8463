/**
 * The suites shipped in public/tasks/: valid, unique ids across files, and every code task's
 * reference solution passes all of its tests (train and held out) in the Node sandbox.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTaskSuite } from '../../../src/pmd/tasks/validate';
import type { Task } from '../../../src/pmd/tasks/types';
import { createNodeSandbox } from '../../../src/pmd/sandbox/node-host';
import type { SandboxHost } from '../../../src/pmd/sandbox/host';
import { verifyResponse } from '../../../src/pmd/verifiers/verify';

const DIR = new URL('../../../public/tasks/', import.meta.url);
const files = readdirSync(DIR).filter((f) => f.endsWith('.jsonl')).sort();
const suites = new Map(files.map((f) => [f, parseTaskSuite(readFileSync(new URL(f, DIR), 'utf8'))]));
const codeTasks = [...suites.values()].flatMap((s) => s.tasks).filter((t) => t.answer.kind === 'code');

let sandbox: SandboxHost;
beforeAll(async () => {
  sandbox = createNodeSandbox({ memoryLimitBytes: 256 << 20 });
  await sandbox.prepare(['python', 'javascript']);
});
afterAll(async () => {
  await sandbox?.close();
});

describe('shipped task suites', () => {
  it('are the four documented files, valid, with both splits and unique ids', () => {
    expect(files).toEqual(['arithmetic.jsonl', 'javascript-functions.jsonl', 'python-functions.jsonl', 'science-mcq.jsonl']);
    const ids = new Set<string>();
    for (const [file, suite] of suites) {
      expect(suite.problems, file).toEqual([]);
      expect(new Set(suite.tasks.map((t) => t.split)), file).toEqual(new Set(['train', 'test']));
      for (const t of suite.tasks) {
        expect(ids.has(t.id), t.id).toBe(false);
        ids.add(t.id);
      }
    }
  });

  it.each(codeTasks.map((t) => [t.id, t] as [string, Task]))('%s: the reference solution passes every test', async (_, task) => {
    const fence = task.answer.kind === 'code' ? task.answer.language : '';
    const v = await verifyResponse(task, `\`\`\`${fence}\n${task.meta?.reference as string}\`\`\``, { sandbox, tests: 'all' });
    expect(v.feedback).toBe('');
    expect(v.reward).toBe(1);
  });
});
