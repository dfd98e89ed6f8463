/** Offered at start when the last session ended on a model other than the embedded one. */
import { useLab } from '../store';
import { loadEmbedded, resumeLast } from './controller';

export function ResumeNotice() {
  const resume = useLab((s) => s.resume);
  const busy = useLab((s) => s.engine.state !== 'ready' || s.load?.status === 'loading');
  if (!resume || resume.kind === 'embedded') return null;
  return (
    <section className="panel notice" data-testid="resume">
      {resume.kind === 'hub' ? (
        <>
          <p>
            Last session used <strong>{resume.repo}</strong>
            {resume.revision !== 'main' && <> at <code>{resume.revision}</code></>} from {resume.endpoint}. Nothing is loaded yet.
          </p>
          <p className="hint">A gated or private repo needs its token again: tokens are never stored.</p>
          <div className="row">
            <button type="button" onClick={() => void resumeLast()} disabled={busy} data-testid="resume-hub">
              Reload {resume.repo}
            </button>
            <button type="button" className="secondary" onClick={() => void loadEmbedded()} disabled={busy}>
              Load embedded instead
            </button>
          </div>
        </>
      ) : (
        <>
          <p>
            Last session used the local folder <strong>{resume.label}</strong>. Browsers do not let a page reopen a folder by
            itself, so it cannot be reloaded automatically: choose it again below.
          </p>
          <div className="row">
            <button type="button" className="secondary" onClick={() => void loadEmbedded()} disabled={busy} data-testid="resume-embedded">
              Load embedded instead
            </button>
          </div>
        </>
      )}
    </section>
  );
}
