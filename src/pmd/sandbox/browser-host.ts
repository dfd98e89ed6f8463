/**
 * The browser sandbox host: the shared SandboxHost over a module Web Worker
 * (sandbox.worker.ts). Works from a page or from inside another worker. The interpreters' files
 * come from the app's own `<base>/pyodide/` and `<base>/quickjs/` (npm run assets puts them in
 * public/). Pages that are not cross-origin isolated have no SharedArrayBuffer, so a Python
 * timeout there terminates the worker and the next test waits for a fresh interpreter.
 */
import { SandboxHost, type SandboxHostOptions } from './host';

/** The URL folder the app is served from (Vite's BASE_URL), absolute. */
export function defaultAssetsBase(): string {
  const base = (import.meta.env?.BASE_URL as string | undefined) ?? '/';
  return new URL(base.endsWith('/') ? base : `${base}/`, self.location.href).href;
}

export function createBrowserSandbox(opts: SandboxHostOptions = {}): SandboxHost {
  const assetsBase = opts.assetsBase ?? defaultAssetsBase();
  return new SandboxHost((events) => {
    const worker = new Worker(new URL('./sandbox.worker.ts', import.meta.url), { type: 'module', name: 'pmd-sandbox' });
    worker.onmessage = (e) => events.message(e.data);
    worker.onerror = (e) => {
      e.preventDefault();
      events.exit(e.message || 'the sandbox worker failed to load', false);
    };
    return { post: (m) => worker.postMessage(m), terminate: () => worker.terminate() };
  }, { ...opts, assetsBase });
}
