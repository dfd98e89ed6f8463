/**
 * The bridge between the UI store and the engine worker. One worker per page, created on the
 * first `startEngine()` call (idempotent, so React's StrictMode double effects are harmless).
 * Every function here reads settings from the store and writes results back into it.
 */
import type { EngineEvent, ModelSourceSpec } from '../../worker/protocol';
import { ask } from '../components/confirm';
import { chooseBackend, probeAdapter, type BackendChoice, type BackendPref } from '../device/probe';
import { EMBEDDED, publicUrl } from '../embedded';
import { session } from '../session';
import {
  applyProgress,
  EMBEDDED_LABEL,
  HF_DEFAULT_ENDPOINT,
  useLab,
  type FileProgress,
  type LabError,
  type RememberedSource,
} from '../store';

type Ready = Extract<EngineEvent, { type: 'ready' }>;
type Loaded = Extract<EngineEvent, { type: 'loaded' }>;
type Generated = Extract<EngineEvent, { type: 'generated' }>;
type Progress = Extract<EngineEvent, { type: 'progress' }>;

let starting: Promise<void> | null = null;
/** Files of the last local folder loaded in this page (a restarted engine reloads them). */
let lastFiles: File[] | null = null;

const set = useLab.setState;
const get = useLab.getState;

export function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Clear the shown error if it came from `scope` (a new load or generation starts afresh). */
function clearError(scope: LabError['scope']): void {
  if (get().error?.scope === scope) set({ error: null });
}

export function embeddedSpec(): Extract<ModelSourceSpec, { kind: 'embedded' }> {
  return { kind: 'embedded', url: publicUrl(EMBEDDED.folder), label: EMBEDDED_LABEL };
}

// ---------------------------------------------------------------------------------------------
// Work a model change would discard: modules register a check that names what would be lost.

const discardChecks: (() => string | null)[] = [];

export function registerDiscardCheck(check: () => string | null): void {
  discardChecks.push(check);
}

/** Ask before replacing the model (or restarting the engine) when that would discard unsaved work. */
export async function confirmModelChange(what: string): Promise<boolean> {
  const losses = discardChecks.map((c) => c()).filter((x): x is string => x !== null);
  if (losses.length === 0) return true;
  const key = await ask({
    title: `${what}?`,
    message: `This replaces the engine's model and trainer, which discards ${losses.join('; ')}. Download it first on the Fine-tune tab to keep it.`,
    actions: [{ key: 'go', label: `Discard and ${what.toLowerCase()}`, danger: true }],
  });
  return key === 'go';
}

// ---------------------------------------------------------------------------------------------
// Engine start, restart

/** Look at the WebGPU adapter from the page and decide which backend to ask for. */
async function decideBackend(): Promise<BackendChoice> {
  const report = await probeAdapter();
  const choice = chooseBackend(get().backend, report);
  set({ device: { report, choice } });
  return choice;
}

/** Create the worker, initialise the backend, then load the embedded model or offer a resume. */
export function startEngine(): Promise<void> {
  starting ??= (async () => {
    if (!(await initEngine())) return;
    const last = get().lastLoaded;
    if (last && last.kind !== 'embedded') {
      set({ resume: last, sourceKind: last.kind });
      return;
    }
    await loadEmbedded();
  })();
  return starting;
}

async function initEngine(): Promise<boolean> {
  set({ engine: { state: 'starting' } });
  try {
    const choice = await decideBackend();
    const ready = await session.request<Ready>({ type: 'init', preferWebGpu: choice.preferWebGpu });
    set({ engine: { state: 'ready', info: ready.info } });
    return true;
  } catch (err) {
    set({ engine: { state: 'failed', message: message(err) }, error: { scope: 'engine', message: message(err) } });
    return false;
  }
}

/**
 * Start a new worker (after a failure, or to change the backend) and load `source` again (the
 * model that was loaded; a local folder only if its files are still held by this page).
 * Resolves with what was reloaded, or null.
 */
export async function restartEngine(why: string, source: RememberedSource | null): Promise<string | null> {
  session.reset(why);
  set({ model: null, load: null, generation: { ...get().generation, running: false } });
  starting = initEngine().then(() => undefined);
  await starting;
  if (get().engine.state !== 'ready' || !source) return null;
  if (source.kind === 'embedded') await loadEmbedded();
  else if (source.kind === 'hub') {
    const { hubToken } = get();
    await loadModel({ kind: 'hub', repo: source.repo, revision: source.revision, endpoint: source.endpoint, token: hubToken.trim() || undefined }, source, hubLabel(source.repo, source.revision));
  } else if (lastFiles) await loadFiles(lastFiles, false);
  else {
    set({ resume: source, sourceKind: 'files' });
    return null;
  }
  return get().model?.label ?? null;
}

/** Switch the backend preference; a running engine restarts with it (after asking, if work would be lost). */
export async function changeBackend(pref: BackendPref): Promise<void> {
  if (pref === get().backend) return;
  if (get().engine.state === 'starting' || session.busy()) return;
  if (get().model && !(await confirmModelChange('Restart the engine'))) return;
  set({ backend: pref });
  await restartEngine('the engine was restarted with another backend', get().model?.source ?? null);
}

export async function loadEmbedded(): Promise<void> {
  if (get().model && !(await confirmModelChange('Load the embedded model'))) return;
  return loadModel(embeddedSpec(), { kind: 'embedded' }, EMBEDDED_LABEL);
}

function hubLabel(repo: string, revision: string): string {
  return revision === 'main' ? repo : `${repo}@${revision}`;
}

export async function loadHub(): Promise<void> {
  const { hub, hubToken } = get();
  const repo = hub.repo.trim();
  const revision = hub.revision.trim() || 'main';
  const endpoint = hub.endpoint.trim() || HF_DEFAULT_ENDPOINT;
  if (get().model && !(await confirmModelChange(`Load ${repo}`))) return;
  const spec: ModelSourceSpec = { kind: 'hub', repo, revision, endpoint, token: hubToken.trim() || undefined };
  return loadModel(spec, { kind: 'hub', repo, revision, endpoint }, hubLabel(repo, revision));
}

/** Reload the remembered Hub source (with whatever token is in the form now). */
export function resumeLast(): Promise<void> {
  const r = get().resume;
  if (r?.kind !== 'hub') return Promise.resolve();
  set({ hub: { repo: r.repo, revision: r.revision, endpoint: r.endpoint }, sourceKind: 'hub' });
  return loadHub();
}

/** Name of a picked file inside its folder, the way the engine's file source names it. */
function relativeName(f: File): string {
  const parts = (f.webkitRelativePath ?? '').split('/').filter((p) => p !== '');
  return parts.length > 1 ? parts.slice(1).join('/') : f.name;
}

export async function loadFiles(files: File[], confirm = true): Promise<void> {
  if (files.length === 0) return;
  if (confirm && get().model && !(await confirmModelChange('Load this folder'))) return;
  const top = (files[0]!.webkitRelativePath ?? '').split('/')[0];
  const label = top || (files.length === 1 ? files[0]!.name : 'picked files');
  const local: FileProgress[] = files
    .map((f) => ({ file: relativeName(f), loaded: f.size, total: f.size, origin: 'local' as const }))
    .sort((a, b) => a.file.localeCompare(b.file));
  await loadModel({ kind: 'files', files }, { kind: 'files', label }, label, local);
  if (get().model?.label === label) lastFiles = files;
}

// Progress events can come by the thousand during a download; fold them into the store at most
// once per animation frame.
let pendingProgress: Progress[] = [];
let flushHandle: number | null = null;

function flushProgress(): void {
  flushHandle = null;
  const batch = pendingProgress;
  pendingProgress = [];
  if (batch.length === 0) return;
  const load = get().load;
  if (!load) return;
  set({ load: batch.reduce(applyProgress, load) });
}

function queueProgress(e: Progress): void {
  pendingProgress.push(e);
  flushHandle ??= requestAnimationFrame(flushProgress);
}

async function loadModel(spec: ModelSourceSpec, remember: RememberedSource, label: string, initialFiles: FileProgress[] = []): Promise<void> {
  if (get().engine.state !== 'ready') return;
  await session.exclusive('loading', () => loadModelNow(spec, remember, label, initialFiles));
}

async function loadModelNow(spec: ModelSourceSpec, remember: RememberedSource, label: string, initialFiles: FileProgress[]): Promise<void> {
  clearError('load');
  set({ resume: null, load: { label, status: 'loading', files: initialFiles, stage: null, stages: [] } });
  try {
    const res = await session.request<Loaded>({ type: 'load', source: spec }, (e) => {
      if (e.type === 'progress') queueProgress(e);
      else if (e.type === 'stage') {
        flushProgress();
        set((s) => ({ load: s.load && { ...s.load, stage: e.message, stages: s.load.stages.at(-1) === e.message ? s.load.stages : [...s.load.stages, e.message] } }));
      }
    });
    flushProgress();
    set((s) => ({
      model: { ...res.model, source: remember },
      lastLoaded: remember,
      load: s.load && { ...s.load, status: 'done', stage: null },
    }));
  } catch (err) {
    flushProgress();
    set((s) => ({
      load: s.load && { ...s.load, status: 'failed' },
      error: { scope: 'load', message: message(err) },
    }));
  }
}

/** Parse "1, 2 3" into token ids; throws with a readable message. */
export function parseIds(text: string): number[] {
  const parts = text.split(/[\s,]+/).filter((p) => p !== '');
  if (parts.length === 0) throw new Error('enter at least one token id, e.g. "1, 2, 3"');
  return parts.map((p) => {
    const n = Number(p);
    if (!Number.isInteger(n) || n < 0) throw new Error(`"${p}" is not a token id (a non-negative integer)`);
    return n;
  });
}

export async function generate(): Promise<void> {
  if (!get().model) return;
  await session.exclusive('generating', generateNow);
}

async function generateNow(): Promise<void> {
  const s = get();
  clearError('generate');
  const mode = s.mode;
  let request: Parameters<typeof session.request>[0];
  try {
    request =
      mode === 'chat'
        ? { type: 'chat', text: s.prompt, sampling: s.sampling }
        : { type: 'generate', prompts: [parseIds(s.idsPrompt)], sampling: s.sampling };
  } catch (err) {
    set({ error: { scope: 'generate', message: message(err) } });
    return;
  }
  set({ generation: { running: true, text: '', tokenIds: [], stats: null, mode } });
  const t0 = performance.now();
  let tFirst: number | null = null;
  let tLast: number | null = null;
  try {
    const res = await session.request<Generated>(request, (e) => {
      if (e.type !== 'token') return;
      const now = performance.now();
      tFirst ??= now;
      tLast = now;
      const id = e.tokens[0];
      set((st) => ({
        generation: {
          ...st.generation,
          text: e.text ?? st.generation.text,
          tokenIds: id === null || id === undefined ? st.generation.tokenIds : [...st.generation.tokenIds, id],
        },
      }));
    });
    const tokens = res.tokens[0] ?? [];
    const n = tokens.length;
    const decodeSpan = tFirst !== null && tLast !== null ? tLast - tFirst : 0;
    set((st) => ({
      generation: {
        ...st.generation,
        running: false,
        text: res.text ?? st.generation.text,
        tokenIds: tokens,
        stats: {
          tokens: n,
          ms: res.ms,
          tokensPerSecond: res.ms > 0 ? (n * 1000) / res.ms : 0,
          firstTokenMs: tFirst === null ? null : tFirst - t0,
          decodeTokensPerSecond: n > 1 && decodeSpan > 0 ? ((n - 1) * 1000) / decodeSpan : null,
          finish: res.finish[0] ?? 'unknown',
        },
      },
    }));
  } catch (err) {
    set((st) => ({ generation: { ...st.generation, running: false }, error: { scope: 'generate', message: message(err) } }));
  }
}

export function stop(): Promise<void> {
  return session.stop();
}
