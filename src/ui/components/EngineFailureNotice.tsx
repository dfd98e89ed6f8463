/** What happened when the engine worker failed, and what the recovery restored. */
import { useLab } from '../store';

export function EngineFailureNotice() {
  const f = useLab((s) => s.failure);
  if (!f) return null;
  return (
    <section className={`panel failure failure-${f.status}`} role="alert" aria-label="Engine failure" data-testid="engine-failure">
      <div className="error-head">
        <strong>{f.status === 'recovering' ? 'The engine stopped; restarting it…' : f.status === 'recovered' ? 'The engine stopped and was restarted' : 'The engine stopped'}</strong>
        {f.status !== 'recovering' && (
          <button type="button" className="link" aria-label="Dismiss" onClick={() => useLab.setState({ failure: null })}>
            ×
          </button>
        )}
      </div>
      <p>{f.message}</p>
      {f.outcome && <p data-testid="engine-failure-outcome">{f.outcome}</p>}
      <details>
        <summary>Technical detail</summary>
        <code>{f.detail}</code>
      </details>
    </section>
  );
}
