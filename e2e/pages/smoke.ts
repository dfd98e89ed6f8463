/**
 * Test-only page (served by the Vite dev server, not part of the production build): runs the
 * smoke worker's op suite and exposes the response as `window.__smoke` for Playwright.
 */
import type { SmokeRequest, SmokeResponse } from '../harness/smoke.worker';

declare global {
  interface Window {
    __smoke?: SmokeResponse;
  }
}

const status = document.getElementById('status')!;
const params = new URLSearchParams(location.search);
const request: SmokeRequest = {
  type: params.get('mode') === 'probe' ? 'probe' : 'ops',
  preferWebGpu: params.get('backend') !== 'wasm',
};

const worker = new Worker(new URL('../harness/smoke.worker.ts', import.meta.url), { type: 'module', name: 'smoke' });
worker.onmessage = (ev: MessageEvent<SmokeResponse>) => {
  const res = ev.data;
  window.__smoke = res;
  if (res.type === 'error') {
    status.textContent = `error: ${res.message}`;
  } else {
    const lines = [`backend: ${res.info.backend} (${res.info.adapterInfo}), init ${res.info.initMs} ms`];
    if (res.type === 'ops') {
      for (const c of res.cases) lines.push(`${c.ok ? 'ok  ' : 'FAIL'} ${c.name} (${c.ms} ms)${c.error ? `: ${c.error}` : ''}`);
      lines.push(`total ${res.totalMs} ms`);
    }
    status.textContent = lines.join('\n');
  }
  worker.terminate();
};
worker.onerror = (ev) => {
  window.__smoke = { type: 'error', message: `worker error: ${ev.message}` };
  status.textContent = window.__smoke.message;
};
worker.postMessage(request);
