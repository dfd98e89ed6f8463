/**
 * The device report: the WebGPU adapter the page found (features, limits), the backend the
 * engine runs on and why, and the choice between auto, WebGPU and wasm (changing it restarts
 * the engine, after asking if unsaved work would be lost).
 */
import { useId } from 'react';
import { useLab } from '../store';
import { formatBytes } from '../format';
import { changeBackend } from '../model/controller';
import { useSession } from '../session';
import { BACKEND_PREFS, type BackendPref } from './probe';

const PREF_LABELS: Record<BackendPref, string> = { auto: 'Auto', webgpu: 'WebGPU', wasm: 'wasm (CPU)' };

export function DevicePanel() {
  const engine = useLab((s) => s.engine);
  const device = useLab((s) => s.device);
  const pref = useLab((s) => s.backend);
  const busy = useSession((s) => s.activity !== null) || engine.state === 'starting';
  const name = useId();
  const info = engine.state === 'ready' ? engine.info : null;
  const report = device?.report;
  // Why wasm: the page's own choice (no adapter, a software one, forced), or WebGPU failing in the worker.
  const fallback = info?.backend === 'wasm' ? (info.fallbackReason && info.fallbackReason !== 'WebGPU not requested' ? info.fallbackReason : (device?.choice.why ?? info.fallbackReason)) : null;
  return (
    <section className="panel" aria-labelledby="engine-title">
      <h2 id="engine-title">Device</h2>
      <div className="segmented small-gap" role="radiogroup" aria-label="Backend">
        {BACKEND_PREFS.map((p) => (
          <label key={p} className={pref === p ? 'active' : undefined} title={p === 'auto' ? 'WebGPU on a hardware GPU, wasm otherwise' : `Always ${PREF_LABELS[p]}`}>
            <input type="radio" name={name} value={p} checked={pref === p} disabled={busy} onChange={() => void changeBackend(p)} />
            {PREF_LABELS[p]}
          </label>
        ))}
      </div>
      {engine.state === 'starting' && <p className="muted">Starting the worker and detecting the backend…</p>}
      {engine.state === 'failed' && <p className="bad">The engine did not start.</p>}
      {info && (
        <dl className="facts">
          <dt>Backend</dt>
          <dd>
            <span className={`badge badge-${info.backend}`} data-testid="backend">
              {info.backend}
            </span>
          </dd>
          <dt>Adapter</dt>
          <dd data-testid="adapter" title={info.backend === 'webgpu' ? info.adapterInfo : report?.name}>
            {info.backend === 'webgpu' ? info.adapterInfo : report?.found ? `${report.name} (not used)` : 'none'}
          </dd>
          <dt>shader-f16</dt>
          <dd data-testid="shader-f16">{info.backend === 'webgpu' ? (info.shaderF16 ? 'yes (fp16 weights)' : 'no (fp32 weights)') : report?.shaderF16 ? 'yes (unused: wasm runs fp32)' : 'no (wasm runs fp32)'}</dd>
          <dt>Max storage binding</dt>
          <dd data-testid="max-binding">{info.maxStorageBindingBytes ? formatBytes(info.maxStorageBindingBytes) : report?.found ? `${formatBytes(report.limits.maxStorageBufferBindingSize)} (adapter)` : 'n/a'}</dd>
          {report?.found && (
            <>
              <dt>Max buffer</dt>
              <dd>{formatBytes(report.limits.maxBufferSize)}</dd>
              <dt>Workgroup memory</dt>
              <dd>
                {formatBytes(report.limits.maxComputeWorkgroupStorageSize)}, {report.limits.maxComputeInvocationsPerWorkgroup} invocations
              </dd>
              <dt>Renderer</dt>
              <dd>{report.software ? 'software (runs on the CPU)' : 'hardware GPU'}</dd>
            </>
          )}
        </dl>
      )}
      {info && device && (
        <p className="note" data-testid="backend-why">
          {info.backend === 'webgpu' ? device.choice.why : null}
          {fallback ? <span data-testid="fallback-reason">Fallback reason: {fallback}</span> : null}
        </p>
      )}
    </section>
  );
}
