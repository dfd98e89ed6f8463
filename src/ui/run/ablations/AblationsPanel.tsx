/**
 * Ablations: the live switches (Freeze policy, Freeze memory: applied between steps, logged as
 * control records), the same suite run with another variant preset, and the runs on this suite
 * side by side (variant, progress, last reward and evaluation, what differs).
 */
import { useEffect, useMemo } from 'react';
import { VARIANTS, VARIANT_PRESETS, variantDefaults, type PmdConfig, type Variant } from '../../../worker/protocol';
import { getPath } from '../../../util/config-fields';
import { useLayout } from '../../layout';
import { useSession } from '../../session';
import { applyVariant, effectiveConfig, presetPaths } from '../../setup/config-draft';
import { VARIANT_ABOUT } from '../../setup/SetupPanel';
import { configDifferences } from '../../../worker/protocol';
import { createRun, runRecipe, setFreeze } from '../controller';
import { loadSeries, seriesOf, useOverlay } from '../curves/overlay';
import { differenceLabel } from '../curves/series';
import { NoRun, Panel, useRecordIndex } from '../Panel';
import { useRun } from '../store';

/** The open run's settings under another variant: the variant's preset replaces its own fields, the rest stays. */
export function withVariant(c: PmdConfig, v: Variant): PmdConfig {
  const overrides: Record<string, unknown> = {};
  for (const p of configDifferences(variantDefaults(c.variant), c)) if (p !== 'variant') overrides[p] = getPath(c, p);
  const draft = applyVariant({ variant: c.variant, overrides, drafts: {} }, v, [...presetPaths(VARIANT_PRESETS[c.variant]), ...presetPaths(VARIANT_PRESETS[v])]);
  return effectiveConfig(draft, {});
}

export function AblationsPanel() {
  const open = useRun((s) => s.open !== null);
  const phase = useRun((s) => s.open?.view.phase ?? null);
  const freeze = useRun((s) => s.open?.view.config.freeze ?? null);
  const busy = useRun((s) => s.busy);
  const activity = useSession((s) => s.activity);
  const [ix, version] = useRecordIndex();
  const controls = useMemo(() => [...ix.controls].reverse(), [ix, version]);
  const done = phase === 'done';
  const disabled = !open || done || busy !== null;
  return (
    <Panel id="ablations" title="Ablations">
      {!open ? (
        <NoRun what="the ablation switches" />
      ) : (
        <>
          <div className="switches" role="group" aria-label="Live switches">
            <label className="switch">
              <input type="checkbox" role="switch" checked={freeze?.policy ?? false} disabled={disabled} onChange={(e) => void setFreeze('policy', e.target.checked)} aria-describedby="freeze-policy-help" />
              Freeze policy
            </label>
            <span className="hint" id="freeze-policy-help">
              No more updates: the adapter stays byte-identical.
            </span>
            <label className="switch">
              <input type="checkbox" role="switch" checked={freeze?.memory ?? false} disabled={disabled} onChange={(e) => void setFreeze('memory', e.target.checked)} aria-describedby="freeze-memory-help" />
              Freeze memory
            </label>
            <span className="hint" id="freeze-memory-help">
              Memory changes no more; the teacher keeps reading it.
            </span>
          </div>
          <p className="hint">
            {done ? 'The run is complete; switches apply to runs still going.' : activity === 'running' ? 'Switching pauses the run after the piece of work in flight, applies the switch and goes on.' : 'Switches take effect from the next phase that reads them (the update, the memory phases).'}
          </p>
          {controls.length > 0 && (
            <ul className="hint controls-log" data-testid="control-log">
              {controls.map((c, i) => (
                <li key={i}>
                  step {c.step}:{' '}
                  {[c.change.freezePolicy !== undefined && `policy ${c.change.freezePolicy ? 'frozen' : 'unfrozen'}`, c.change.freezeMemory !== undefined && `memory ${c.change.freezeMemory ? 'frozen' : 'unfrozen'}`].filter(Boolean).join(', ')}
                </li>
              ))}
            </ul>
          )}
          <OtherVariants />
          <Comparison />
        </>
      )}
    </Panel>
  );
}

function OtherVariants() {
  const meta = useRun((s) => s.open!.meta);
  const variant = useRun((s) => s.open!.view.config.variant);
  const activity = useSession((s) => s.activity);
  const busy = useRun((s) => s.busy);
  const start = async (v: Variant) => {
    const { config, suite } = await runRecipe(meta.id);
    await createRun(`${v} on ${suite.name}`, withVariant(config, v), suite);
  };
  return (
    <div className="variants-row">
      <h3>This suite with another variant</h3>
      <div className="row">
        {VARIANTS.filter((v) => v !== variant).map((v) => (
          <button key={v} type="button" className="secondary small-btn" title={`${VARIANT_ABOUT[v]} Same suite and settings otherwise; opens the new run.`} disabled={activity !== null || busy !== null} onClick={() => void start(v).catch((e) => useRun.setState({ error: String(e instanceof Error ? e.message : e) }))}>
            {v}
          </button>
        ))}
      </div>
    </div>
  );
}

function last<T>(xs: readonly T[], pick: (x: T) => number | null | undefined): number | null {
  for (let i = xs.length - 1; i >= 0; i--) {
    const v = pick(xs[i]);
    if (v !== null && v !== undefined && Number.isFinite(v)) return v;
  }
  return null;
}

function Comparison() {
  const meta = useRun((s) => s.open!.meta);
  const config = useRun((s) => s.open!.view.config);
  const runs = useRun((s) => s.runs);
  const [ix, version] = useRecordIndex();
  const loaded = useOverlay((s) => s.runs);
  const overlay = useLayout((s) => s.overlay);
  const setLayout = useLayout((s) => s.setLayout);
  const same = useMemo(() => runs.filter((m) => m.suite === meta.suite && m.model === meta.model), [runs, meta.suite, meta.model]);
  useEffect(() => {
    for (const m of same) if (m.id !== meta.id) void loadSeries(m.id);
  }, [same, meta.id]);
  if (same.length < 2) return <p className="hint">Runs of other variants on {meta.suite} will be compared here.</p>;
  return (
    <table className="compare-table" data-testid="variant-comparison">
      <caption>Runs on {meta.suite}</caption>
      <thead>
        <tr>
          <th scope="col">Run</th>
          <th scope="col">Variant</th>
          <th scope="col">Steps</th>
          <th scope="col">Last reward</th>
          <th scope="col">Last eval avg@n</th>
          <th scope="col">Differs in</th>
          <th scope="col">Overlay</th>
        </tr>
      </thead>
      <tbody>
        {same.map((m) => {
          const isOpen = m.id === meta.id;
          const s = isOpen ? { config, metrics: ix.metrics } : seriesOf(loaded[m.id]);
          void version;
          return (
            <tr key={m.id} className={isOpen ? 'current' : undefined}>
              <td>{m.name}</td>
              <td>{s?.config.variant ?? '…'}</td>
              <td>{s ? `${s.metrics.length} of ${s.config.steps}` : '…'}</td>
              <td>{s ? (last(s.metrics, (x) => x.reward_mean)?.toFixed(3) ?? '–') : '…'}</td>
              <td>{s ? (last(s.metrics, (x) => x.eval?.avg_at_n)?.toFixed(3) ?? '–') : '…'}</td>
              <td className="small mono">{isOpen ? 'this run' : s ? differenceLabel(config, s.config) : '…'}</td>
              <td>{!isOpen && <input type="checkbox" aria-label={`Overlay ${m.name} in Curves`} checked={overlay.includes(m.id)} onChange={(e) => setLayout({ overlay: e.target.checked ? [...overlay, m.id] : overlay.filter((x) => x !== m.id) })} />}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
