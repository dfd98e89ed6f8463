/** One reflection call as the run recorded it: what it was for, who answered, every attempt's raw text, and the reply used. */
import { useRecordIndex } from '../Panel';
import { useSelection } from '../selection';

export function ReflectionDetail({ id }: { id: string }) {
  const [ix] = useRecordIndex();
  const close = useSelection((s) => s.selectReflection);
  const r = ix.reflections.get(id);
  return (
    <div className="reflection" data-testid="reflection">
      <div className="row">
        <h3>
          Reflection <code>{id}</code>
        </h3>
        <button type="button" className="link" onClick={() => close(null)} aria-label="Close the reflection">
          close
        </button>
      </div>
      {!r ? (
        <p className="hint">This reflection is not in the records loaded here.</p>
      ) : (
        <>
          <p className="hint">
            step {r.step} · {r.purpose} · by {r.reflector} · {r.status} · problems {r.problems.join(', ')}
          </p>
          <ol className="attempts-raw">
            {r.attempts.map((a, i) => (
              <li key={i}>
                <span className={`pill ${a.status}`}>{a.status}</span>
                {a.error && <span className="hint"> {a.error}</span>}
                <pre className="prompt small">{a.text || '(empty reply)'}</pre>
              </li>
            ))}
          </ol>
          {r.reply && (
            <details>
              <summary>Reply used</summary>
              <pre className="prompt small">{JSON.stringify(r.reply, null, 2)}</pre>
            </details>
          )}
        </>
      )}
    </div>
  );
}
