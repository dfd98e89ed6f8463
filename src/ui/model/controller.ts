/**
 * The bridge between the UI store and the engine worker. One worker per page, created on the
 * first `startEngine()` call (idempotent, so React's StrictMode double effects are harmless).
 * Every function here reads settings from the store and writes results back into it.
 */
import type { EngineEvent, ModelSourceSpec } from '../../worker/protocol';
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
  const url = new URL(`${import.meta.env.BASE_URL}models/tiny-qwen3/`, window.location.href).href;
  return { kind: 'embedded', url, label: EMBEDDED_LABEL };
}

/** Create the worker, initialise the backend, then load the embedded model or offer a resume. */
export function startEngine(): Promise<void> {
  starting ??= (async () => {
    try {
      const ready = await session.request<Ready>({ type: 'init', preferWebGpu: true });
      set({ engine: { state: 'ready', info: ready.info } });
    } catch (err) {
      set({ engine: { state: 'failed', message: message(err) }, error: { scope: 'engine', message: message(err) } });
      return;
    }
    const last = get().lastLoaded;
    if (last && last.kind !== 'embedded') {
      set({ resume: last, sourceKind: last.kind });
      return;
    }
    await loadEmbedded();
  })();
  return starting;
}

export function loadEmbedded(): Promise<void> {
  return loadModel(embeddedSpec(), { kind: 'embedded' }, EMBEDDED_LABEL);
}

export function loadHub(): Promise<void> {
  const { hub, hubToken } = get();
  const repo = hub.repo.trim();
  const revision = hub.revision.trim() || 'main';
  const endpoint = hub.endpoint.trim() || HF_DEFAULT_ENDPOINT;
  const spec: ModelSourceSpec = { kind: 'hub', repo, revision, endpoint, token: hubToken.trim() || undefined };
  return loadModel(spec, { kind: 'hub', repo, revision, endpoint }, revision === 'main' ? repo : `${repo}@${revision}`);
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

export function loadFiles(files: File[]): Promise<void> {
  if (files.length === 0) return Promise.resolve();
  const top = (files[0]!.webkitRelativePath ?? '').split('/')[0];
  const label = top || (files.length === 1 ? files[0]!.name : 'picked files');
  const local: FileProgress[] = files
    .map((f) => ({ file: relativeName(f), loaded: f.size, total: f.size, origin: 'local' as const }))
    .sort((a, b) => a.file.localeCompare(b.file));
  return loadModel({ kind: 'files', files }, { kind: 'files', label }, label, local);
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
  set({ resume: null, load: { label, status: 'loading', files: initialFiles, stage: null } });
  try {
    const res = await session.request<Loaded>({ type: 'load', source: spec }, (e) => {
      if (e.type === 'progress') queueProgress(e);
      else if (e.type === 'stage') {
        flushProgress();
        set((s) => ({ load: s.load && { ...s.load, stage: e.message } }));
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
