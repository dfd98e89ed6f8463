/**
 * The browser sandbox worker: Pyodide and QuickJS's wasm from the app's own files
 * (`<assetsBase>pyodide/`, `<assetsBase>quickjs/`), then the shared worker loop. postMessage is
 * kept here before the lockdown removes it from the worker's global scope.
 */
import type { PyodideInterface } from 'pyodide';
import { serveSandbox } from './worker-core';
import { RECURSION_CAP } from './python-harness';
import type { ToWorker } from './protocol';

const scope = self as unknown as { postMessage(m: unknown): void; addEventListener(t: 'message', h: (e: MessageEvent) => void): void };
const post = scope.postMessage.bind(scope);

serveSandbox({ post: (m) => post(m), listen: (h) => scope.addEventListener('message', (e) => h(e.data as ToWorker)) }, (init) => {
  const base = init.assetsBase ?? new URL('/', self.location.href).href;
  return {
    loadPyodide: async (opts) => {
      const url = new URL('pyodide/', base).href;
      const mod = (await import(/* @vite-ignore */ `${url}pyodide.mjs`)) as { loadPyodide(o: object): Promise<PyodideInterface> };
      return mod.loadPyodide({ indexURL: url, ...opts });
    },
    loadQuickJsWasm: async () => {
      const res = await fetch(new URL('quickjs/emscripten-module.wasm', base));
      if (!res.ok) throw new Error(`quickjs/emscripten-module.wasm: HTTP ${res.status} (run npm run assets)`);
      return res.arrayBuffer();
    },
    pythonRecursionCap: RECURSION_CAP.browser,
  };
});
