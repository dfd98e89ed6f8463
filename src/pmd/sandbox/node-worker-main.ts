/**
 * The Node sandbox worker (Node only; the browser never imports it): Pyodide from
 * node_modules/pyodide, QuickJS's wasm from its package, and Node's own extra wall. Emscripten
 * implements system() in Node with child_process.spawnSync; the worker's child_process module is
 * changed so that every call reports failure without starting anything.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parentPort } from 'node:worker_threads';
import { loadPyodide } from 'pyodide';
import { serveSandbox } from './worker-core';
import { RECURSION_CAP } from './python-harness';
import type { ToWorker } from './protocol';

const require = createRequire(import.meta.url);
const pyodideDir = path.dirname(require.resolve('pyodide/package.json'));
const quickjsWasm = createRequire(require.resolve('quickjs-emscripten')).resolve('@jitl/quickjs-wasmfile-release-sync/wasm');

function closeChildProcesses(): void {
  const cp = require('node:child_process') as Record<string, unknown>;
  const refuse = () => {
    throw new Error('the sandbox cannot start processes');
  };
  for (const name of ['spawn', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork']) cp[name] = refuse;
  // spawnSync is what Emscripten's system() calls; throwing there would kill the interpreter,
  // so it reports "command not found" (exit status 127) instead.
  cp.spawnSync = () => ({ pid: 0, status: 127, signal: null, output: [null, null, null], stdout: null, stderr: null });
}

const port = parentPort;
if (!port) throw new Error('node-worker-main.ts must run in a worker thread');
serveSandbox(
  { post: (m) => port.postMessage(m), listen: (h) => port.on('message', (m: ToWorker) => h(m)) },
  () => ({
    loadPyodide: (opts) => loadPyodide({ indexURL: `${pyodideDir}${path.sep}`, ...opts }),
    loadQuickJsWasm: async () => {
      const b = await readFile(quickjsWasm);
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    },
    closeHostDoors: closeChildProcesses,
    pythonRecursionCap: RECURSION_CAP.node,
  }),
);
