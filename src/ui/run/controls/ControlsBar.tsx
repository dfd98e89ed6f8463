/**
 * The run's controls: Phase (to the end of the current phase), Step (to the start of the next
 * step), Run (until the end, phase by phase), Pause (after the piece of work in flight), Reset
 * (start over with the seed beside it), the status line with progress and the time left, and
 * the keyboard shortcuts.
 */
import { useCallback, useEffect, useState } from 'react';
import { useSession } from '../../session';
import { useSetup } from '../../setup/store';
import { advance, pause, resetRun } from '../controller';
import { estimate } from '../eta';
import { useRun } from '../store';
import { keysFor, SHORTCUTS, useShortcuts } from './shortcuts';
import { statusText } from './status';

export function ControlsBar() {
  const r = useRun();
  const activity = useSession((s) => s.activity);
  const o = r.open;
  const done = o?.view.phase === 'done';
  const idle = activity === null && r.busy === null;
  const canAdvance = o !== null && !done && idle;
  const seedText = useSetup((s) => s.drafts.seed ?? String(s.overrides.seed ?? 0));
  const setField = useSetup((s) => s.setField);
  const seedOk = /^\d+$/.test(seedText.trim()) && Number(seedText) < 2 ** 32;

  // Re-render every second while advancing, for the time left.
  const [, tick] = useState(0);
  useEffect(() => {
    if (!r.advancing) return;
    const t = setInterval(() => tick((x) => x + 1), 1000);
    return () => clearInterval(t);
  }, [r.advancing]);

  const act = useCallback(
    (action: string) => {
      const st = useRun.getState();
      const can = st.open !== null && st.open.view.phase !== 'done' && useSession.getState().activity === null && st.busy === null;
      if (action === 'Phase' && can) void advance('phase');
      else if (action === 'Step' && can) void advance('step');
      else if (action === 'Run' && can) void advance('run');
      else if (action === 'Pause') void pause();
      else if (action === 'Reset' && st.open && st.busy === null && seedOk) void resetRun(Number(seedText));
    },
    [seedOk, seedText],
  );
  useShortcuts(act, true);

  const est = o ? estimate(r.index.timings, o.view, r.advancing && r.transitionAt ? Date.now() - r.transitionAt : 0) : null;
  const text = statusText(r, est);
  const p = r.progress;
  return (
    <section className="panel controls" aria-labelledby="controls-title">
      <h2 id="controls-title" className="sr-only">
        Controls
      </h2>
      <div className="row controls-row">
        <button type="button" onClick={() => act('Phase')} disabled={!canAdvance} aria-keyshortcuts={keysFor('Phase')} title="Advance to the end of the current phase (P)">
          Phase
        </button>
        <button type="button" onClick={() => act('Step')} disabled={!canAdvance} aria-keyshortcuts={keysFor('Step')} title="Advance to the start of the next step (S)">
          Step
        </button>
        <button type="button" onClick={() => act('Run')} disabled={!canAdvance} aria-keyshortcuts={keysFor('Run')} title="Run to the end, phase by phase (R)">
          Run
        </button>
        <button type="button" className="secondary" onClick={() => act('Pause')} disabled={!r.advancing || r.pausing} aria-keyshortcuts={keysFor('Pause')} title="Pause after the piece of work in flight (Escape)">
          Pause
        </button>
        <button type="button" className="secondary" onClick={() => act('Reset')} disabled={!o || r.busy !== null || !seedOk} aria-keyshortcuts={keysFor('Reset')} title="Start this run over with the seed beside it (Shift+R); asks first">
          Reset
        </button>
        <label className="field seed">
          <span>Seed</span>
          <input
            type="text"
            inputMode="numeric"
            value={seedText}
            aria-invalid={!seedOk}
            className={seedOk ? undefined : 'invalid'}
            onChange={(e) => {
              const t = e.target.value;
              const n = Number(t.trim());
              setField('seed', /^\d+$/.test(t.trim()) ? n : undefined, t);
            }}
            data-testid="run-seed"
          />
        </label>
        {o && <span className="hint">this run: seed {o.view.config.seed}</span>}
        <details className="shortcuts">
          <summary>Keyboard</summary>
          <ul>
            {SHORTCUTS.map((s) => (
              <li key={s.label}>
                <kbd>{s.label}</kbd> {s.action}
              </li>
            ))}
            <li>Tab moves between controls; Enter or Space presses one.</li>
          </ul>
        </details>
      </div>
      {!seedOk && <p className="field-error">seed: enter a whole number from 0 to 4294967295</p>}
      <p className="run-status" role="status" aria-live="polite" data-testid="run-status">
        {text}
      </p>
      {r.advancing && (
        <progress className="run-progress" max={p && p.total > 0 ? p.total : undefined} value={p && p.total > 0 ? Math.min(p.done, p.total) : undefined} aria-label="Progress of the work in flight" />
      )}
    </section>
  );
}
