/**
 * The setup's work with the worker: check the chosen task suite (counts, problems), convert an
 * imported dataset file, create a run from the form, and take a stored run's settings back into
 * the form.
 */
import { configDifferences, variantDefaults, type EngineEvent } from '../../worker/protocol';
import { getPath } from '../../util/config-fields';
import { message } from '../model/controller';
import { createRun } from '../run/controller';
import { session } from '../session';
import { useLab } from '../store';
import { effectiveConfig } from './config-draft';
import { baseFor, useSetup } from './store';
import { suiteName, suiteText, type ImportFormat } from './suites';

type Ev<T extends EngineEvent['type']> = Extract<EngineEvent, { type: T }>;

const set = useSetup.setState;
const get = useSetup.getState;

/** Count and check the chosen suite (the worker parses it with the loop's own validation). */
export async function refreshSuiteInfo(): Promise<void> {
  const s = get();
  const name = suiteName(s.suite, s.custom);
  if (!session.connected) return;
  try {
    const text = await suiteText(s.suite, s.custom);
    const r = await session.request<Ev<'tasks-imported'>>({ type: 'tasks-import', format: 'project', text });
    if (suiteName(get().suite, get().custom) !== name) return;
    set({ suiteInfo: { name, tasks: r.tasks, train: r.train, test: r.test, problems: r.problems, skipped: r.skipped }, suiteError: null });
  } catch (e) {
    set({ suiteInfo: null, suiteError: message(e) });
  }
}

/** Convert a public dataset file (or check a project JSONL) and make it the chosen suite. */
export async function importSuite(file: File, format: ImportFormat): Promise<void> {
  if (get().importing) return;
  set({ importing: true, suiteError: null });
  try {
    const text = await file.text();
    const r = await session.request<Ev<'tasks-imported'>>({ type: 'tasks-import', format, text });
    if (r.tasks === 0) throw new Error(`no tasks could be read from ${file.name}${r.problems.length ? `: ${r.problems.slice(0, 3).join('; ')}` : ''}`);
    const name = file.name.replace(/\.(jsonl?|json|parquet)$/i, '');
    get().setCustom({ name, text: r.text, origin: `${format === 'project' ? 'PMD Lab JSONL' : format} file ${file.name}` });
    get().setSuite({ kind: 'custom' });
    set({ suiteInfo: { name, tasks: r.tasks, train: r.train, test: r.test, problems: r.problems, skipped: r.skipped } });
  } catch (e) {
    set({ suiteError: `could not import ${file.name}: ${message(e)}` });
  } finally {
    set({ importing: false });
  }
}

export function defaultRunName(): string {
  const s = get();
  return `${s.variant} on ${suiteName(s.suite, s.custom)}`;
}

/** Create a run with the form's settings on the chosen suite. */
export async function createFromSetup(): Promise<boolean> {
  const s = get();
  if (!useLab.getState().model) return false;
  let text: string;
  try {
    text = await suiteText(s.suite, s.custom);
  } catch (e) {
    set({ suiteError: message(e) });
    return false;
  }
  const config = effectiveConfig(s, baseFor(s));
  return createRun(s.runName.trim() || defaultRunName(), config, { name: suiteName(s.suite, s.custom), text });
}

/** Put a stored run's settings into the form (its variant and every field that differs from that variant's defaults). */
export async function adoptRunSettings(runId: string): Promise<void> {
  try {
    const r = await session.request<Ev<'run-config'>>({ type: 'run-config', runId });
    const c = r.config;
    const overrides: Record<string, unknown> = {};
    for (const path of configDifferences(variantDefaults(c.variant), c)) if (path !== 'variant') overrides[path] = getPath(c, path);
    get().setVariant(c.variant);
    get().setOverrides(overrides);
  } catch (e) {
    set({ suiteError: message(e) });
  }
}
