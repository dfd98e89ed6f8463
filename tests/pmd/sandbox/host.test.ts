/**
 * SandboxHost's own logic with a scripted fake worker (no interpreter): start-up failures, lost
 * workers, and stopping a job that never answers.
 */
import { describe, expect, it } from 'vitest';
import { SandboxHost, type WorkerEvents } from '../../../src/pmd/sandbox/host';
import type { SandboxJob, ToWorker } from '../../../src/pmd/sandbox/protocol';

const job: SandboxJob = { language: 'python', code: 'x', test: { kind: 'io', input: '', output: '' }, timeLimitMs: 200, outputLimit: 100 };

/** A host whose workers answer with `behave`; counts spawns and terminations. */
function fakeHost(behave: (msg: ToWorker, events: WorkerEvents) => void) {
  const log = { spawned: 0, terminated: 0 };
  const host = new SandboxHost((events) => {
    log.spawned++;
    return { post: (m) => queueMicrotask(() => behave(m, events)), terminate: () => void log.terminated++ };
  }, { graceMs: 100, startupTimeoutMs: 1_000 });
  return { host, log };
}

describe('SandboxHost', () => {
  it('an interpreter that fails to load is an error naming the language, not a test outcome', async () => {
    const { host } = fakeHost((m, ev) => m.type === 'init' && ev.message({ type: 'init-failed', message: 'pyodide.asm.wasm: HTTP 404' }));
    await expect(host.run(job)).rejects.toThrow('could not start the python sandbox: pyodide.asm.wasm: HTTP 404');
  });

  it('a worker that never answers a job is terminated after the limit and replaced for the next one', async () => {
    let runs = 0;
    const { host, log } = fakeHost((m, ev) => {
      if (m.type === 'init') ev.message({ type: 'ready', startupMs: { python: 1 } });
      else if (++runs > 1) ev.message({ type: 'result', id: m.id, outcome: { status: 'passed', ms: 1 } });
    });
    const t0 = performance.now();
    const first = await host.run(job);
    expect(first).toMatchObject({ status: 'timeout', error: 'stopped after the time limit of 200 ms' });
    expect(performance.now() - t0).toBeLessThan(200 + 100 + 500);
    expect(await host.run(job)).toMatchObject({ status: 'passed' });
    expect(log).toEqual({ spawned: 2, terminated: 1 });
    expect(host.stats()).toMatchObject({ restarts: 1, tests: 2, startups: { python: [1, 1] } });
  });

  it('a crash or a lost worker fails the running test; memory exhaustion is reported as such', async () => {
    let n = 0;
    const { host } = fakeHost((m, ev) => {
      if (m.type === 'init') return ev.message({ type: 'ready', startupMs: {} });
      n++;
      if (n === 1) ev.message({ type: 'crashed', id: m.id, message: 'RangeError: Maximum call stack size exceeded' });
      else if (n === 2) ev.exit('ERR_WORKER_OUT_OF_MEMORY', true);
      else ev.exit('exited with code 1', false);
    });
    expect(await host.run(job)).toMatchObject({ status: 'crashed', error: 'RangeError: Maximum call stack size exceeded' });
    expect(await host.run(job)).toMatchObject({ status: 'memory-limit', error: 'the sandbox worker stopped: ERR_WORKER_OUT_OF_MEMORY' });
    expect(await host.run(job)).toMatchObject({ status: 'crashed', error: 'the sandbox worker stopped: exited with code 1' });
    await host.close();
    await expect(host.run(job)).rejects.toThrow('the sandbox is closed');
  });
});
