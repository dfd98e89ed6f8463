/**
 * The sandbox worker's message loop, the same code in Node (worker_threads) and in the browser
 * (a Web Worker); the entry files only say where the interpreters' files are.
 *
 * On `init` it caps WebAssembly memory, loads the requested interpreters (timing each), applies
 * the environment's own walls and then the realm lockdown, and answers `ready`. Each `run` is one
 * test, answered with a `result`; an interpreter that died answers `crashed`, and the host
 * replaces the worker.
 */
import { compareOutput } from './compare';
import { capWasmMemory, lockDownRealm } from './lockdown';
import { JavaScriptRunner } from './js-runner';
import type { FromWorker, RawOutcome, SandboxJob, ToWorker } from './protocol';
import { PythonRunner, type LoadPyodide } from './python-runner';

export interface SandboxEnvironment {
  loadPyodide: LoadPyodide;
  loadQuickJsWasm: () => Promise<ArrayBuffer>;
  /** Largest Python recursion limit this worker's JavaScript stack survives (python-harness.ts). */
  pythonRecursionCap: number;
  /** Walls only this environment needs (Node: child processes), applied before the lockdown. */
  closeHostDoors?: () => void;
}

export interface WorkerPort {
  post(msg: FromWorker): void;
  listen(handler: (msg: ToWorker) => void): void;
}

/** QuickJS's own heap limit, as a share of the worker's memory limit. */
const QUICKJS_HEAP_SHARE = 0.75;

export function serveSandbox(port: WorkerPort, environment: (init: Extract<ToWorker, { type: 'init' }>) => SandboxEnvironment): void {
  let python: PythonRunner | null = null;
  let javascript: JavaScriptRunner | null = null;
  port.listen((msg) => {
    if (msg.type === 'init') {
      void (async () => {
        try {
          const env = environment(msg);
          capWasmMemory(msg.memoryLimitBytes);
          const startupMs: Partial<Record<'python' | 'javascript', number>> = {};
          for (const lang of msg.languages) {
            const t0 = performance.now();
            if (lang === 'python') python = await PythonRunner.start(env.loadPyodide, env.pythonRecursionCap, msg.interrupt);
            else javascript = await JavaScriptRunner.start(env.loadQuickJsWasm, Math.floor(msg.memoryLimitBytes * QUICKJS_HEAP_SHARE));
            startupMs[lang] = performance.now() - t0;
          }
          env.closeHostDoors?.();
          lockDownRealm();
          port.post({ type: 'ready', startupMs });
        } catch (e) {
          port.post({ type: 'init-failed', message: (e as Error)?.message ?? String(e) });
        }
      })();
      return;
    }
    const runner = msg.job.language === 'python' ? python : javascript;
    if (!runner) {
      port.post({ type: 'crashed', id: msg.id, message: `the ${msg.job.language} interpreter is not loaded in this worker` });
      return;
    }
    let raw: RawOutcome;
    try {
      raw = runner.run(msg.job);
    } catch (e) {
      port.post({ type: 'crashed', id: msg.id, message: (e as Error)?.message ?? String(e) });
      return;
    }
    if (raw.status === 'crashed') port.post({ type: 'crashed', id: msg.id, message: raw.error ?? 'the interpreter crashed' });
    else port.post({ type: 'result', id: msg.id, outcome: compareOutput(raw, msg.job as SandboxJob) });
  });
}
