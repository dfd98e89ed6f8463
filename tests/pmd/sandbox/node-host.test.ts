/**
 * Node sandbox host behaviour beyond the shared cases: a program that ignores the interrupt is
 * ended by terminating the worker (and the next test still runs), crashes are contained, state a
 * program changes does not leak into the next test, and returned objects cannot fake equality.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeSandbox } from '../../../src/pmd/sandbox/node-host';
import type { SandboxHost } from '../../../src/pmd/sandbox/host';
import type { SandboxJob } from '../../../src/pmd/sandbox/protocol';

let sandbox: SandboxHost;
const LIMIT = 1_500;

beforeAll(async () => {
  sandbox = createNodeSandbox({ memoryLimitBytes: 384 << 20, graceMs: 500 });
  await sandbox.prepare(['python']);
});

afterAll(async () => {
  await sandbox?.close();
});

const io = (code: string, output = 'ok'): SandboxJob => ({ language: 'python', code, test: { kind: 'io', input: '', output }, timeLimitMs: LIMIT, outputLimit: 10_000 });

describe('Node sandbox host', () => {
  it('a program that swallows the interrupt is stopped by terminating the worker; the next test runs', async () => {
    const t0 = performance.now();
    const o = await sandbox.run(io('while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass'));
    expect(o.status).toBe('timeout');
    expect(performance.now() - t0).toBeLessThan(LIMIT + 500 + 1_000);
    expect(sandbox.stats().restarts).toBe(1);
    expect(await sandbox.run(io('print("ok")'))).toMatchObject({ status: 'passed' });
    expect(sandbox.stats().startups.python).toHaveLength(2);
  });

  it('deep recursion is a RecursionError, not a crash', async () => {
    const o = await sandbox.run(io('import sys\nsys.setrecursionlimit(10**6)\ndef f(n):\n    return f(n + 1) + 1\nf(0)'));
    expect(o).toMatchObject({ status: 'error', error: 'RecursionError: maximum recursion depth exceeded', line: 4 });
    expect(await sandbox.run(io('import sys\nprint("ok" if sys.getrecursionlimit() == 1000 else sys.getrecursionlimit())'))).toMatchObject({ status: 'passed' });
    expect(await sandbox.run(io('import sys\nsys.setrecursionlimit(10**6)\nprint("ok" if sys.getrecursionlimit() == 10000 else sys.getrecursionlimit())'))).toMatchObject({ status: 'passed' });
  });

  it('builtins and standard streams a program replaces are restored for the next test', async () => {
    await sandbox.run(io('import builtins, sys\nbuiltins.print = lambda *a, **k: None\nbuiltins.len = lambda x: 0\nsys.stdout = None'));
    expect(await sandbox.run(io('print("ok" if len([1]) == 1 else "broken")'))).toMatchObject({ status: 'passed', actual: 'ok\n' });
  });

  it('an object that claims to equal anything does not pass', async () => {
    const cheat = 'class Anything:\n    def __eq__(self, other):\n        return True\ndef f(x):\n    return Anything()';
    const call = await sandbox.run({ ...io(cheat), entryPoint: 'f', test: { kind: 'call', args: [1], expected: 2 } });
    expect(call).toMatchObject({ status: 'error', error: expect.stringMatching(/returned a Anything, which cannot be compared/) });
    const assert = await sandbox.run({ ...io(cheat), test: { kind: 'assert', code: 'assert f(1) == 2' } });
    expect(assert).toMatchObject({ status: 'failed', expected: '2' });
    const early = await sandbox.run({ ...io('import sys\nsys.exit(0)'), test: { kind: 'assert', code: 'assert False' } });
    expect(early).toMatchObject({ status: 'error', error: 'SystemExit: the program exited before the test ran' });
  });

  it('tuples compare as lists, floats within 1e-6, and methods of class Solution are called', async () => {
    const code = 'class Solution:\n    def pair(self, a):\n        return (a, a / 3)';
    const o = await sandbox.run({ ...io(code), entryPoint: 'pair', className: 'Solution', test: { kind: 'call', args: [1], expected: [1, 0.3333333] } });
    expect(o).toMatchObject({ status: 'passed', actual: '(1, 0.3333333333333333)' });
  });
});
