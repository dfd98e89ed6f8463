/**
 * UI state of the playground in one zustand store.
 *
 * Two kinds of state live here:
 * - settings the user chose (model source, Hub coordinates, sampling, prompt), kept in
 *   localStorage by the persist middleware so they survive a reload. The Hub token is NOT a
 *   setting: it stays in memory only;
 * - the live state of the engine worker (backend, loaded model, load progress, generation),
 *   which starts empty on every page load.
 *
 * The worker itself is driven from `engine/controller.ts`; components only read this store and
 * call the controller.
 */
import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';
import type { BackendInfo, EngineEvent, ModelSummary, SamplingSpec } from '../worker/protocol';
import { isRecord } from '../util/records';
import { EMBEDDED } from './embedded';
import { BACKEND_PREFS, type AdapterReport, type BackendChoice, type BackendPref } from './device/probe';

export type SourceKind = 'embedded' | 'hub' | 'files';

/** A model source that loaded successfully, as remembered across reloads (never a token). */
export type RememberedSource =
  | { kind: 'embedded' }
  | { kind: 'hub'; repo: string; revision: string; endpoint: string }
  | { kind: 'files'; label: string };

export type PromptMode = 'chat' | 'ids';

export interface HubSettings {
  repo: string;
  revision: string;
  endpoint: string;
}

export interface Settings {
  sourceKind: SourceKind;
  hub: HubSettings;
  sampling: SamplingSpec;
  mode: PromptMode;
  /** Text for chat mode. */
  prompt: string;
  /** Comma or space separated token ids for raw generation mode. */
  idsPrompt: string;
  /** The last source that loaded successfully. */
  lastLoaded: RememberedSource | null;
  /** Which backend the engine asks for: auto (by speed on the adapter found), or forced. */
  backend: BackendPref;
}

export const HF_DEFAULT_ENDPOINT = 'https://huggingface.co';
export const EMBEDDED_LABEL = EMBEDDED.label;

export const DEFAULT_SAMPLING: SamplingSpec = {
  maxNewTokens: 64,
  temperature: 0.7,
  topP: 0.95,
  topK: 0,
  seed: 0,
  stopAtEos: true,
};

export const DEFAULT_SETTINGS: Settings = {
  sourceKind: 'embedded',
  hub: { repo: '', revision: 'main', endpoint: HF_DEFAULT_ENDPOINT },
  sampling: DEFAULT_SAMPLING,
  mode: 'chat',
  prompt: 'Hello there! What do you think?',
  idsPrompt: '1, 2, 3',
  lastLoaded: null,
  backend: 'auto',
};

export type EngineStatus =
  | { state: 'starting' }
  | { state: 'ready'; info: BackendInfo }
  | { state: 'failed'; message: string };

/** What the page saw of WebGPU, and the backend it asked the worker for. */
export interface DeviceState {
  report: AdapterReport;
  choice: BackendChoice;
}

/** The engine worker stopped (crash, lost GPU device) and what was done about it. */
export interface EngineFailure {
  /** In words a researcher reads. */
  message: string;
  /** The raw error. */
  detail: string;
  status: 'recovering' | 'recovered' | 'failed';
  /** What recovery restored (model, run position), or why it could not. */
  outcome: string | null;
}

/** One row of the load progress table. */
export interface FileProgress {
  file: string;
  loaded: number;
  total: number | null;
  origin: 'network' | 'cache' | 'local';
}

export interface LoadState {
  label: string;
  status: 'loading' | 'done' | 'failed';
  files: FileProgress[];
  /** The worker's latest description of what it is doing (reading weights, uploading, …). */
  stage: string | null;
  /** Every stage the load went through, in order (weights read in ranges report no bytes, only stages). */
  stages: string[];
}

export interface CurrentModel extends ModelSummary {
  source: RememberedSource;
}

export interface GenStats {
  tokens: number;
  ms: number;
  tokensPerSecond: number;
  /** Time from sending the request to the first token event (prefill plus messaging). */
  firstTokenMs: number | null;
  /** Tokens per second after the first token (decode steps only). */
  decodeTokensPerSecond: number | null;
  finish: string;
}

export interface Generation {
  running: boolean;
  /** Text as decoded so far (chat mode), or empty in token id mode. */
  text: string;
  tokenIds: number[];
  stats: GenStats | null;
  mode: PromptMode;
}

export interface LabError {
  scope: 'engine' | 'load' | 'generate';
  message: string;
}

export interface Runtime {
  engine: EngineStatus;
  device: DeviceState | null;
  failure: EngineFailure | null;
  /** Hugging Face token: memory only, never persisted. */
  hubToken: string;
  model: CurrentModel | null;
  load: LoadState | null;
  /** A non-embedded source remembered from the last session, offered for a one-click reload. */
  resume: RememberedSource | null;
  generation: Generation;
  error: LabError | null;
}

export interface LabActions {
  setSourceKind(kind: SourceKind): void;
  setHub(patch: Partial<HubSettings>): void;
  setHubToken(token: string): void;
  setSampling(patch: Partial<SamplingSpec>): void;
  resetSampling(): void;
  setMode(mode: PromptMode): void;
  setPrompt(text: string): void;
  setIdsPrompt(text: string): void;
  setBackend(pref: BackendPref): void;
  dismissError(): void;
}

export type LabState = Settings & Runtime & LabActions;

export const INITIAL_RUNTIME: Runtime = {
  engine: { state: 'starting' },
  device: null,
  failure: null,
  hubToken: '',
  model: null,
  load: null,
  resume: null,
  generation: { running: false, text: '', tokenIds: [], stats: null, mode: 'chat' },
  error: null,
};

export const SETTINGS_KEY = 'pmd-lab.settings';

export const useLab = create<LabState>()(
  persist(
    (set) => ({
      ...DEFAULT_SETTINGS,
      ...INITIAL_RUNTIME,
      setSourceKind: (sourceKind) => set({ sourceKind }),
      setHub: (patch) => set((s) => ({ hub: { ...s.hub, ...patch } })),
      setHubToken: (hubToken) => set({ hubToken }),
      setSampling: (patch) => set((s) => ({ sampling: { ...s.sampling, ...patch } })),
      resetSampling: () => set({ sampling: DEFAULT_SAMPLING }),
      setMode: (mode) => set({ mode }),
      // A changed prompt makes a generation error about the old one stale.
      setPrompt: (prompt) => set((s) => ({ prompt, error: s.error?.scope === 'generate' ? null : s.error })),
      setIdsPrompt: (idsPrompt) => set((s) => ({ idsPrompt, error: s.error?.scope === 'generate' ? null : s.error })),
      setBackend: (backend) => set({ backend }),
      dismissError: () => set({ error: null }),
    }),
    {
      name: SETTINGS_KEY,
      version: 1,
      storage: createJSONStorage(() => localStorage),
      partialize: (s): Settings => ({
        sourceKind: s.sourceKind,
        hub: s.hub,
        sampling: s.sampling,
        mode: s.mode,
        prompt: s.prompt,
        idsPrompt: s.idsPrompt,
        lastLoaded: s.lastLoaded,
        backend: s.backend,
      }),
      // Whatever is stored is checked field by field, so a hand-edited or older entry can only
      // fall back to defaults, never put the UI into a state it cannot show.
      merge: (persisted, current) => ({ ...current, ...sanitizeSettings(persisted) }),
    },
  ),
);

// ---------------------------------------------------------------------------------------------
// Validation of stored settings


function str(v: unknown, fallback: string): string {
  return typeof v === 'string' ? v : fallback;
}

function num(v: unknown, fallback: number, ok: (n: number) => boolean): number {
  return typeof v === 'number' && Number.isFinite(v) && ok(v) ? v : fallback;
}

export function sanitizeSampling(v: unknown): SamplingSpec {
  const d = DEFAULT_SAMPLING;
  if (!isRecord(v)) return d;
  return {
    maxNewTokens: num(v.maxNewTokens, d.maxNewTokens, (n) => Number.isInteger(n) && n >= 1),
    temperature: num(v.temperature, d.temperature, (n) => n >= 0),
    topP: num(v.topP, d.topP, (n) => n > 0 && n <= 1),
    topK: num(v.topK, d.topK, (n) => Number.isInteger(n) && n >= 0),
    seed: num(v.seed, d.seed, (n) => Number.isInteger(n)),
    stopAtEos: typeof v.stopAtEos === 'boolean' ? v.stopAtEos : d.stopAtEos,
  };
}

function sanitizeRemembered(v: unknown): RememberedSource | null {
  if (!isRecord(v)) return null;
  if (v.kind === 'embedded') return { kind: 'embedded' };
  if (v.kind === 'hub' && typeof v.repo === 'string' && v.repo) {
    return { kind: 'hub', repo: v.repo, revision: str(v.revision, 'main') || 'main', endpoint: str(v.endpoint, HF_DEFAULT_ENDPOINT) || HF_DEFAULT_ENDPOINT };
  }
  if (v.kind === 'files') return { kind: 'files', label: str(v.label, 'a local folder') };
  return null;
}

export function sanitizeSettings(v: unknown): Settings {
  const d = DEFAULT_SETTINGS;
  if (!isRecord(v)) return d;
  const hub = isRecord(v.hub) ? v.hub : {};
  const kinds: SourceKind[] = ['embedded', 'hub', 'files'];
  return {
    sourceKind: kinds.includes(v.sourceKind as SourceKind) ? (v.sourceKind as SourceKind) : d.sourceKind,
    hub: {
      repo: str(hub.repo, d.hub.repo),
      revision: str(hub.revision, d.hub.revision),
      endpoint: str(hub.endpoint, d.hub.endpoint),
    },
    sampling: sanitizeSampling(v.sampling),
    mode: v.mode === 'ids' ? 'ids' : 'chat',
    prompt: str(v.prompt, d.prompt),
    idsPrompt: str(v.idsPrompt, d.idsPrompt),
    lastLoaded: sanitizeRemembered(v.lastLoaded),
    backend: (BACKEND_PREFS as readonly unknown[]).includes(v.backend) ? (v.backend as BackendPref) : d.backend,
  };
}

// ---------------------------------------------------------------------------------------------
// Load progress

type ProgressEvent = Extract<EngineEvent, { type: 'progress' }>;

/** Fold one byte-progress event into the load state (rows stay in first-seen order). */
export function applyProgress(load: LoadState, e: ProgressEvent): LoadState {
  const row: FileProgress = { file: e.file, loaded: e.loaded, total: e.total, origin: e.fromCache ? 'cache' : 'network' };
  const i = load.files.findIndex((f) => f.file === e.file);
  const files = i < 0 ? [...load.files, row] : load.files.map((f, j) => (j === i ? row : f));
  return { ...load, files };
}
