/**
 * Setup of a PMD run: the task suite (shipped, the embedded world's, or imported from a public
 * dataset format), the variant preset, every hyperparameter, a shareable link of the whole
 * setup, and the library of runs stored in this browser. Folds to one line while a run is open.
 */
import { useEffect, useMemo } from 'react';
import { VARIANTS, type Variant } from '../../worker/protocol';
import { useOpen } from '../layout';
import { useRun } from '../run/store';
import { useSession } from '../session';
import { useLab } from '../store';
import { ConfigForm } from './ConfigForm';
import { draftProblems, effectiveConfig } from './config-draft';
import { createFromSetup, defaultRunName, refreshSuiteInfo } from './controller';
import { RunLibrary } from './RunLibrary';
import { ShareLink } from './ShareLink';
import { SuitePicker } from './SuitePicker';
import { baseFor, useSetup } from './store';
import { suiteName } from './suites';

export const VARIANT_ABOUT: Record<Variant, string> = {
  pmd: 'Policy and memory evolve together; the teacher reads the memory levels chosen.',
  'pmd-transient': 'Memory is built from the current batch, used once by the teacher, then discarded.',
  'frozen-memory': 'Memory is built once with the initial policy and then fixed; the policy evolves.',
  'frozen-policy': 'No updates: memory evolves and is used as prompt context, at evaluation too.',
  sdpo: 'No memory: the teacher sees a successful sibling and feedback only (the SDPO baseline).',
  grpo: 'No memory and no teacher: group-normalised advantages, policy gradient (the GRPO baseline).',
};

/** Small settings for trying the loop: a step takes seconds on the embedded model. */
const QUICK_TRY: Record<string, unknown> = {
  steps: 4,
  problemsPerStep: 2,
  rolloutsPerProblem: 2,
  'rollout.maxNewTokens': 16,
  'reflector.maxNewTokens': 32,
  'behavior.every': 2,
  'eval.every': 2,
  'eval.n': 1,
  'eval.k': 1,
  'eval.maxProblems': 4,
};

export function SetupPanel() {
  const s = useSetup();
  const openName = useRun((r) => r.open?.meta.name ?? null);
  const creating = useRun((r) => r.busy === 'creating');
  const model = useLab((l) => l.model);
  const engineReady = useLab((l) => l.engine.state === 'ready');
  const activity = useSession((x) => x.activity);
  const [unfolded, setUnfolded] = useOpen('setup', true);
  const { variant, overrides, drafts, suite, custom } = s;
  const config = useMemo(() => effectiveConfig({ variant, overrides, drafts }, baseFor({ suite })), [variant, overrides, drafts, suite]);
  const problems = useMemo(() => draftProblems({ variant, overrides, drafts }, baseFor({ suite })), [variant, overrides, drafts, suite]);
  const name = suiteName(suite, custom);
  const customText = custom?.text;
  useEffect(() => {
    if (engineReady) void refreshSuiteInfo();
  }, [engineReady, name, customText]);
  const canCreate = model !== null && problems.length === 0 && activity === null && !creating && !!model?.hasTokenizer;
  const why = !model
    ? 'Load a model first.'
    : !model.hasTokenizer
      ? 'This model has no tokenizer.json, so it cannot run the loop.'
      : problems.length
        ? `Fix ${problems.length} setting${problems.length > 1 ? 's' : ''} first.`
        : activity
          ? `The engine is busy (${activity}).`
          : null;
  return (
    <section className="panel setup" aria-labelledby="setup-title">
      <div className="panel-head">
        <h2 id="setup-title">Setup</h2>
        <span className="hint">
          {s.variant} · {name} · B={config.problemsPerStep} G={config.rolloutsPerProblem} · {config.steps} steps
        </span>
        <button type="button" className="link" aria-expanded={unfolded} aria-controls="setup-body" onClick={() => setUnfolded(!unfolded)}>
          {unfolded ? 'Fold' : 'Unfold'}
        </button>
      </div>
      {unfolded && (
      <div id="setup-body">
        <div className="setup-grid">
          <SuitePicker />
          <fieldset className="variants">
            <legend>Variant preset</legend>
            {VARIANTS.map((v) => (
              <label key={v} className={`variant${s.variant === v ? ' active' : ''}`}>
                <input type="radio" name="variant" value={v} checked={s.variant === v} onChange={() => s.setVariant(v)} data-testid={`variant-${v}`} />
                <strong>{v}</strong>
                <span>{VARIANT_ABOUT[v]}</span>
              </label>
            ))}
            <p className="hint">A preset changes only the fields it needs; your other changes stay.</p>
          </fieldset>
        </div>
        <div className="row setup-tools">
          <button type="button" className="secondary" onClick={() => s.setOverrides({ ...s.overrides, ...QUICK_TRY })} title={Object.entries(QUICK_TRY).map(([k, v]) => `${k}=${v}`).join(', ')}>
            Small quick settings
          </button>
          <button type="button" className="link" onClick={() => s.setOverrides({})}>
            Reset every field
          </button>
          <ShareLink />
        </div>
        <ConfigForm config={config} problems={problems} />
        {problems.length > 0 && (
          <div className="note warn" data-testid="setup-problems">
            <strong>{problems.length} setting{problems.length > 1 ? 's' : ''} to fix:</strong>
            <ul>
              {problems.slice(0, 8).map((p) => (
                <li key={p.path + p.message}>
                  <code>{p.path || 'config'}</code>: {p.message}
                </li>
              ))}
            </ul>
          </div>
        )}
        <form
          className="row create"
          onSubmit={(e) => {
            e.preventDefault();
            if (canCreate) void createFromSetup().then((ok) => ok && setUnfolded(false));
          }}
        >
          <label className="field grow">
            <span>Run name</span>
            <input type="text" value={s.runName} placeholder={defaultRunName()} onChange={(e) => s.setRunName(e.target.value)} data-testid="run-name" />
          </label>
          <button type="submit" disabled={!canCreate} data-testid="create-run">
            {creating ? 'Creating…' : 'Create run'}
          </button>
          {why && <span className="hint">{why}</span>}
          {openName && !why && <span className="hint">Creating a run opens it; “{openName}” stays in the library.</span>}
        </form>
      </div>
      )}
      <RunLibrary />
    </section>
  );
}
