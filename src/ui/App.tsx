/**
 * Placeholder shell: shows the app name and the inference backend a worker detected. The real
 * panels replace this later.
 */
import { useEffect, useState } from 'react';
import type { BackendInfo, SmokeResponse } from '../worker/smoke.worker';

type Probe = { state: 'probing' } | { state: 'ready'; info: BackendInfo } | { state: 'error'; message: string };

function useBackendProbe(): Probe {
  const [probe, setProbe] = useState<Probe>({ state: 'probing' });
  useEffect(() => {
    const worker = new Worker(new URL('../worker/smoke.worker.ts', import.meta.url), { type: 'module', name: 'probe' });
    worker.onmessage = (ev: MessageEvent<SmokeResponse>) => {
      const res = ev.data;
      if (res.type === 'error') setProbe({ state: 'error', message: res.message });
      else setProbe({ state: 'ready', info: res.info });
      worker.terminate();
    };
    worker.onerror = (ev) => setProbe({ state: 'error', message: ev.message || 'worker failed to start' });
    worker.postMessage({ type: 'probe' });
    return () => worker.terminate();
  }, []);
  return probe;
}

function formatBytes(n: number): string {
  if (!n) return 'n/a';
  return n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : `${Math.round(n / 2 ** 20)} MiB`;
}

export function App() {
  const probe = useBackendProbe();
  return (
    <main style={{ fontFamily: 'system-ui, sans-serif', padding: '2rem', maxWidth: 720 }}>
      <h1>PMD Lab</h1>
      <p>In-browser research playground for Procedural Memory Distillation.</p>
      <section aria-label="backend">
        {probe.state === 'probing' && <p data-testid="backend-status">Detecting inference backend…</p>}
        {probe.state === 'error' && <p data-testid="backend-status">Backend error: {probe.message}</p>}
        {probe.state === 'ready' && (
          <>
            <p data-testid="backend-status">
              Backend: <strong data-testid="backend">{probe.info.backend}</strong>
            </p>
            <ul>
              <li>Adapter: {probe.info.adapterInfo}</li>
              <li>shader-f16: {probe.info.shaderF16 ? 'yes' : 'no'}</li>
              <li>Max buffer: {formatBytes(probe.info.maxBufferBytes)}, max storage binding: {formatBytes(probe.info.maxStorageBindingBytes)}</li>
              <li>onnxruntime-web {probe.info.ortVersion}</li>
              {probe.info.fallbackReason && <li>Fallback reason: {probe.info.fallbackReason}</li>}
            </ul>
          </>
        )}
      </section>
    </main>
  );
}
