/**
 * Python in the sandbox worker: one Pyodide per worker, loaded once, with the JavaScript bridge
 * closed before any program runs. Runs inside the worker (Node or browser); the worker's entry
 * file supplies `load`, which knows where Pyodide's files are (node_modules in Node, the app's
 * <base>/pyodide/ in the browser).
 *
 * Doors closed here (see docs/tasks.md for the whole list):
 *   - `js` is an empty object (jsglobals) and is unregistered, as is `pyodide_js`;
 *   - Emscripten's socket layer refuses every connection (it would otherwise open a WebSocket
 *     to the address, or in Node a real TCP connection through the `ws` package);
 *   - environment variables, standard input and the interpreter's own stdout are empty or dropped;
 *   - the Python lockdown (python-harness.ts) then blocks imports and process functions.
 */
import type { PyodideInterface } from 'pyodide';
import { HARNESS, LOCKDOWN } from './python-harness';
import type { RawOutcome, SandboxJob, TestStatus } from './protocol';

/** The loadPyodide options the runner sets; the entry file adds indexURL. */
export interface PyodideLoadOptions {
  jsglobals: object;
  env: Record<string, string>;
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  stdin: () => string | null;
}

export type LoadPyodide = (opts: PyodideLoadOptions) => Promise<PyodideInterface>;

interface PyCallable {
  (arg: string): string;
  destroy?: () => void;
}

/** Emscripten's errno for "operation not permitted". */
const EPERM = 63;

export class PythonRunner {
  private dead: string | null = null;

  private constructor(private readonly runFn: PyCallable) {}

  static async start(load: LoadPyodide, recursionCap: number, interrupt?: SharedArrayBuffer): Promise<PythonRunner> {
    const drop = () => {};
    const py = await load({ jsglobals: Object.freeze(Object.create(null)), env: { HOME: '/home/pyodide', _: 'python' }, stdout: drop, stderr: drop, stdin: () => null });
    py.setStdout({ batched: drop });
    py.setStderr({ batched: drop });
    py.setStdin({ stdin: () => null });
    for (const name of ['js', 'pyodide_js']) {
      try {
        py.unregisterJsModule(name);
      } catch {
        // not registered in this Pyodide version
      }
    }
    closeSockets(py);
    if (interrupt) py.setInterruptBuffer(new Int32Array(interrupt));
    const ns = py.globals.get('dict')();
    ns.set('MAX_RECURSION', recursionCap);
    py.runPython(HARNESS, { globals: ns });
    py.runPython(`import sys\nfor _m in ('js', 'pyodide_js', 'pyodide_js._api'):\n    sys.modules.pop(_m, None)\n${LOCKDOWN}`, { globals: ns });
    const runFn = ns.get('run') as PyCallable;
    ns.destroy?.();
    return new PythonRunner(runFn);
  }

  /** Why the interpreter can no longer be used, or null. */
  get deadReason(): string | null {
    return this.dead;
  }

  run(job: SandboxJob): RawOutcome {
    const t0 = performance.now();
    const test = job.test;
    const req = {
      kind: test.kind,
      code: job.code,
      setup: job.setup ?? '',
      outputLimit: job.outputLimit,
      input: test.kind === 'io' ? test.input : '',
      entry: job.entryPoint ?? '',
      className: job.className ?? '',
      args: test.kind === 'call' ? JSON.stringify(test.args) : '[]',
      expected: test.kind === 'call' ? JSON.stringify(test.expected) : 'null',
      test: test.kind === 'assert' ? test.code : '',
    };
    let raw: string;
    try {
      raw = this.runFn(JSON.stringify(req));
    } catch (e) {
      // The harness catches every Python exception, so this is the interpreter itself failing
      // (a JS stack overflow, a fatal error): it cannot be used again.
      this.dead = (e as Error).message?.split('\n')[0] || String(e);
      return { status: 'crashed', error: `the Python interpreter crashed (${this.dead})`, ms: performance.now() - t0 };
    }
    const res = JSON.parse(raw) as { status: TestStatus | 'ran'; actual?: string; expected?: string; error?: string; line?: number; lineText?: string };
    return { ...res, ms: performance.now() - t0 };
  }
}

/** Make Emscripten's socket layer refuse connections, listening and datagrams. */
function closeSockets(py: PyodideInterface): void {
  const mod = (py as unknown as { _module: { SOCKFS?: { websocket_sock_ops?: Record<string, unknown> }; FS: { ErrnoError: new (errno: number) => Error } } })._module;
  const ops = mod.SOCKFS?.websocket_sock_ops;
  if (!ops) throw new Error('Pyodide has no SOCKFS.websocket_sock_ops: cannot close the socket layer');
  const deny = () => {
    throw new mod.FS.ErrnoError(EPERM);
  };
  for (const name of ['createPeer', 'connect', 'listen', 'accept']) ops[name] = deny;
}
