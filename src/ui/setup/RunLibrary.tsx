/** The runs stored in this browser: open one, take its settings into the form, delete it, or import a run file. */
import type { RunMeta } from '../../worker/protocol';
import { useOpen } from '../layout';
import { deleteRun, openRun } from '../run/controller';
import { importRunFile } from '../run/exports';
import { useRun } from '../run/store';
import { useSession } from '../session';
import { useLab } from '../store';
import { adoptRunSettings } from './controller';

const STATUS: Record<RunMeta['status'], string> = { running: 'interrupted', paused: 'paused', done: 'done', failed: 'failed' };

export function RunLibrary() {
  const runs = useRun((s) => s.runs);
  const openId = useRun((s) => s.open?.meta.id ?? null);
  const busy = useRun((s) => s.busy !== null);
  const advancing = useRun((s) => s.advancing !== null);
  const activity = useSession((s) => s.activity);
  const model = useLab((s) => s.model);
  const [unfolded, setUnfolded] = useOpen('library', true);
  return (
    <div className="library">
      <div className="row library-head">
        <button type="button" className="link" aria-expanded={unfolded} aria-controls="run-library" onClick={() => setUnfolded(!unfolded)}>
          {unfolded ? '▾' : '▸'} Runs in this browser ({runs.length})
        </button>
        <label className="file-link">
          Import a run file…
          <input
            type="file"
            accept=".zip"
            disabled={busy || !model}
            onChange={(e) => {
              const f = e.target.files?.[0];
              e.target.value = '';
              if (f) void importRunFile(f);
            }}
            data-testid="import-run"
          />
        </label>
      </div>
      {unfolded && (
        <table className="runs" id="run-library" data-testid="run-library">
          <thead>
            <tr>
              <th scope="col">Run</th>
              <th scope="col">Model · suite</th>
              <th scope="col">Settings</th>
              <th scope="col">Status</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {runs.length === 0 && (
              <tr>
                <td colSpan={5} className="muted">
                  No runs yet.
                </td>
              </tr>
            )}
            {runs.map((m) => {
              const isOpen = openId === m.id;
              const sameModel = model?.label === m.model;
              return (
                <tr key={m.id} className={isOpen ? 'current' : undefined}>
                  <td>
                    <strong>{m.name}</strong>
                    <div className="hint">{new Date(m.created).toLocaleString()}</div>
                  </td>
                  <td>
                    {m.model} · {m.suite}
                  </td>
                  <td className="mono small">{m.summary}</td>
                  <td>{isOpen && advancing ? 'running' : STATUS[m.status]}</td>
                  <td className="actions-cell">
                    <button type="button" className="secondary small-btn" disabled={isOpen || !sameModel || activity !== null || busy} title={sameModel ? undefined : `Made with ${m.model}: load that model to open it`} onClick={() => void openRun(m.id)}>
                      {isOpen ? 'Opened' : 'Open'}
                    </button>
                    <button type="button" className="link" onClick={() => void adoptRunSettings(m.id)} title="Put this run's variant and settings into the form above">
                      Use settings
                    </button>
                    <button type="button" className="link danger-link" disabled={busy || (isOpen && advancing)} onClick={() => void deleteRun(m.id)} aria-label={`Delete ${m.name}`}>
                      Delete
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </div>
  );
}
