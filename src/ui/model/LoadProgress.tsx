/** Per-file progress of the current (or last) model load, and the worker's current stage. */
import { useLab, type FileProgress } from '../store';
import { formatBytes } from '../format';

const STATUS = { loading: 'Loading', done: 'Loaded', failed: 'Failed' } as const;

function fraction(f: FileProgress): number | null {
  if (f.total === null || f.total === 0) return null;
  return Math.min(1, f.loaded / f.total);
}

function originText(f: FileProgress): string {
  if (f.origin === 'cache') return 'from cache';
  if (f.origin === 'local') return 'local';
  return fraction(f) === 1 ? 'downloaded' : 'downloading';
}

export function LoadProgress() {
  const load = useLab((s) => s.load);
  if (!load) return null;
  return (
    <section className="panel" aria-labelledby="progress-title" data-testid="load-progress" data-status={load.status}>
      <h2 id="progress-title">
        {STATUS[load.status]}: <span className="plain">{load.label}</span>
      </h2>
      {load.files.length === 0 && load.status === 'loading' && !load.stage && <p className="muted small">Opening the model folder…</p>}
      {load.files.length > 0 && (
        <ul className="progress-list">
          {load.files.map((f) => {
            const p = fraction(f);
            return (
              <li key={f.file} data-origin={f.origin}>
                <span className="file" title={f.file}>
                  {f.file}
                </span>
                <span className="bytes">
                  {f.origin === 'network' ? `${formatBytes(f.loaded)} / ${formatBytes(f.total)}` : formatBytes(f.loaded)}
                </span>
                <span className={`origin origin-${f.origin}`}>{originText(f)}</span>
                <span className="bar" aria-hidden="true">
                  <span style={{ width: `${((p ?? 0) * 100).toFixed(1)}%` }} className={p === null ? 'unknown' : undefined} />
                </span>
              </li>
            );
          })}
        </ul>
      )}
      {load.status === 'done' && load.stages.length > 0 && (
        <div className="stages small muted" data-testid="load-stages">
          {load.stages.map((s, i) => (
            <p key={i}>{s}</p>
          ))}
        </div>
      )}
      {load.stage && (
        <p className="muted small stage" data-testid="load-stage">
          {load.status === 'failed' ? 'Failed while ' : ''}
          {load.stage}
          {load.status === 'loading' ? '…' : ''}
        </p>
      )}
    </section>
  );
}
