/** What the worker's `init` found: backend, adapter and the limits that matter for loading. */
import { useLab } from '../store';
import { formatBytes } from '../format';

export function BackendPanel() {
  const engine = useLab((s) => s.engine);
  return (
    <section className="panel" aria-labelledby="engine-title">
      <h2 id="engine-title">Engine</h2>
      {engine.state === 'starting' && <p className="muted">Starting the worker and detecting the backend…</p>}
      {engine.state === 'failed' && <p className="bad">The engine did not start.</p>}
      {engine.state === 'ready' && (
        <>
          <dl className="facts">
            <dt>Backend</dt>
            <dd>
              <span className={`badge badge-${engine.info.backend}`} data-testid="backend">
                {engine.info.backend}
              </span>
            </dd>
            <dt>Adapter</dt>
            <dd data-testid="adapter" title={engine.info.adapterInfo}>
              {engine.info.adapterInfo || 'n/a'}
            </dd>
            <dt>shader-f16</dt>
            <dd data-testid="shader-f16">{engine.info.shaderF16 ? 'yes (fp16 weights)' : 'no (fp32 weights)'}</dd>
            <dt>Max storage binding</dt>
            <dd data-testid="max-binding">{engine.info.maxStorageBindingBytes ? formatBytes(engine.info.maxStorageBindingBytes) : 'n/a'}</dd>
          </dl>
          {engine.info.fallbackReason && (
            <p className="note warn" data-testid="fallback-reason">
              Fallback reason: {engine.info.fallbackReason}
            </p>
          )}
        </>
      )}
    </section>
  );
}
