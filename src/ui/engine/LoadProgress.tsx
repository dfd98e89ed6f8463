/** Per-file progress of the current (or last) model load. */
import { useLab, type FileProgress } from '../store';
import { formatBytes } from '../format';

const STATUS = { loading: 'Loading', done: 'Loaded', failed: 'Failed' } as const;

function fraction(f: FileProgress): number | null {
  if (f.total === null || f.total === 0) return null;
  return Math.min(1, f.loaded / f.total);
}

export function LoadProgress() {
  const load = useLab((s) => s.load);
  if (!load) return null;
  return (
    <section className="panel" aria-labelledby="progress-title" data-testid="load-progress" data-status={load.status}>
      <h2 id="progress-title">
        {STATUS[load.status]}: <span className="plain">{load.label}</span>
      </h2>
      {load.files.length === 0 && load.status === 'loading' && <p className="muted">Opening the model folder…</p>}
      {load.files.length > 0 && (
        <table className="progress">
          <tbody>
            {load.files.map((f) => {
              const p = fraction(f);
              return (
                <tr key={f.file}>
                  <td className="file" title={f.file}>
                    {f.file}
                  </td>
                  <td className="bytes">
                    {f.origin === 'network' ? `${formatBytes(f.loaded)} / ${formatBytes(f.total)}` : formatBytes(f.loaded)}
                  </td>
                  <td className="origin">{f.origin === 'cache' ? 'from cache' : f.origin === 'local' ? 'local' : p === 1 ? 'downloaded' : ''}</td>
                  <td className="bar-cell">
                    <progress max={1} value={p ?? undefined} aria-label={`${f.file} progress`} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {load.weights && (
        <p className="muted small">
          Weights decoded: {load.weights.done}/{load.weights.total} file{load.weights.total === 1 ? '' : 's'}
          {load.weights.done < load.weights.total && <> (reading {load.weights.file})</>}
        </p>
      )}
    </section>
  );
}
