/** The most recent error, with what it concerns; model text never reaches this box. */
import { useLab } from '../store';

const TITLES = { engine: 'Engine failed', load: 'Model load failed', generate: 'Generation failed' } as const;

export function ErrorBox() {
  const error = useLab((s) => s.error);
  const model = useLab((s) => s.model);
  const dismiss = useLab((s) => s.dismissError);
  if (!error) return null;
  return (
    <div className="error" role="alert" data-testid="error">
      <div className="error-head">
        <strong>{TITLES[error.scope]}</strong>
        <button type="button" className="link" onClick={dismiss} aria-label="Dismiss error">
          ×
        </button>
      </div>
      <p className="error-message">{error.message}</p>
      {error.scope === 'load' && model && <p className="muted">Still loaded and usable: {model.label}.</p>}
    </div>
  );
}
