/**
 * Drives PMD runs in the worker from the run panels: the run library, creating and opening a
 * run, advancing it (one phase, one step, or continuously until paused), the live freeze
 * switches, starting over, and reopening the open run after the model (re)loads — after a page
 * reload or an engine restart the run resumes from its last persisted transition.
 *
 * "Run" advances one phase per request, so requests made meanwhile (records, the cluster map,
 * an adapter export) are answered between phases instead of waiting for the whole run.
 * Transitions arrive as events; they are folded into the store at most once per frame.
 */
import type { EngineEvent, PmdConfig, RunMeta, RunView } from '../../worker/protocol';
import { readZip } from '../../util/zip';
import { ask } from '../components/confirm';
import { message } from '../model/controller';
import { session, useSession } from '../session';
import { useLab } from '../store';
import { absorbView, appendRecords, buildIndex, emptyIndex, type RecordRow } from './records';
import { useSelection } from './selection';
import { replaceEqualDeep } from './share-equal';
import { useRun, type RunProgress } from './store';

type Ev<T extends EngineEvent['type']> = Extract<EngineEvent, { type: T }>;

const set = useRun.setState;
const get = useRun.getState;

function fail(err: unknown): void {
  set({ error: message(err) });
}

/** Resolves when the session has no activity (a load or an advance finished). */
export function whenIdle(): Promise<void> {
  if (!session.busy()) return Promise.resolve();
  return new Promise((resolve) => {
    const off = useSession.subscribe((s) => {
      if (s.activity === null) {
        off();
        resolve();
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Transitions and progress, folded in once per frame

let pendingRows: RecordRow[] = [];
let pendingView: RunView | null = null;
let pendingProgress: RunProgress | null = null;
let frame: number | null = null;

function flush(): void {
  if (frame !== null) cancelAnimationFrame(frame);
  frame = null;
  const rows = pendingRows;
  const view = pendingView;
  const progress = pendingProgress;
  pendingRows = [];
  pendingView = null;
  pendingProgress = null;
  if (!rows.length && !view && !progress) return;
  set((s) => {
    if (rows.length) appendRecords(s.index, rows);
    if (view) absorbView(s.index, view);
    const moved = view && s.open && (view.phase !== s.open.view.phase || view.step !== s.open.view.step);
    return {
      open: s.open && view ? { ...s.open, view: replaceEqualDeep(s.open.view, view) } : s.open,
      recordsVersion: s.recordsVersion + (rows.length ? 1 : 0),
      phaseSince: moved ? Date.now() : s.phaseSince,
      transitionAt: view ? Date.now() : s.transitionAt,
      progress: view ? null : (progress ?? s.progress),
    };
  });
}

function onRunEvent(e: EngineEvent): void {
  if (e.type === 'run-transition') {
    if (e.runId !== get().open?.meta.id) return;
    pendingRows.push(...e.records);
    pendingView = e.view;
    pendingProgress = null;
  } else if (e.type === 'run-progress') {
    pendingProgress = { step: e.step, phase: e.phase, what: e.what, done: e.done, total: e.total };
  } else return;
  frame ??= requestAnimationFrame(flush);
}

// ---------------------------------------------------------------------------------------------
// Library, create, open

export async function refreshRuns(): Promise<void> {
  if (!session.connected) return;
  try {
    const r = await session.request<Ev<'run-list'>>({ type: 'run-list' });
    set((s) => ({ runs: r.runs, open: s.open && { ...s.open, meta: r.runs.find((m) => m.id === s.open!.meta.id) ?? s.open.meta } }));
  } catch (e) {
    fail(e);
  }
}

async function loadRecords(runId: string): Promise<void> {
  const r = await session.request<Ev<'run-records'>>({ type: 'run-records', runId });
  const index = buildIndex(r.records);
  const view = get().open?.view;
  if (view) absorbView(index, view);
  set((s) => ({ index, recordsVersion: s.recordsVersion + 1 }));
}

function adopt(meta: RunMeta, view: RunView): void {
  pendingRows = [];
  pendingView = null;
  set({ open: { meta, view }, openRunId: meta.id, map: null, compare: null, phaseSince: Date.now(), transitionAt: null, progress: null, index: emptyIndex() });
}

export async function createRun(name: string, config: unknown, suite: { name: string; text: string }): Promise<boolean> {
  if (!useLab.getState().model || session.busy()) return false;
  set({ busy: 'creating', error: null, notice: null });
  let ok = false;
  try {
    ok =
      (await session.exclusive('preparing', async () => {
        const r = await session.request<Ev<'run-opened'>>({ type: 'run-create', name, config, suite });
        adopt(r.meta, r.view);
        useSelection.getState().clear();
        await loadRecords(r.meta.id);
        return true;
      })) === true;
  } catch (e) {
    fail(e);
  } finally {
    set({ busy: null });
  }
  await refreshRuns();
  return ok;
}

function where(view: RunView): string {
  return view.phase === 'done' ? `finished (${view.totalSteps} steps)` : `step ${view.step} of ${view.totalSteps}, ${view.phase} phase`;
}

export async function openRun(runId: string, reason: 'user' | 'reload' | 'restart' = 'user'): Promise<boolean> {
  await whenIdle();
  set({ busy: 'opening', error: null, notice: null });
  const before = get().runs.find((m) => m.id === runId);
  try {
    const done = await session.exclusive('preparing', async () => {
      const r = await session.request<Ev<'run-opened'>>({ type: 'run-open', runId });
      adopt(r.meta, r.view);
      await loadRecords(runId);
      if (reason !== 'user') {
        const interrupted = before?.status === 'running';
        set({
          notice: `Reopened “${r.meta.name}” at its last saved transition: ${where(r.view)}.${interrupted ? ' It was interrupted while running; nothing saved before that point is lost.' : ''}${r.view.phase !== 'done' ? ' Press Run to continue.' : ''}`,
        });
      }
      return true;
    });
    return done === true;
  } catch (e) {
    fail(e);
    return false;
  } finally {
    set({ busy: null });
  }
}

/** A new model closed the worker's run: forget it here, and reopen it if the model is the one it was made with. */
let lastModel: unknown = null;
let reopening: Promise<string | null> | null = null;
useLab.subscribe((s) => {
  if (s.model === lastModel) return;
  lastModel = s.model;
  set((r) => ({ open: null, index: emptyIndex(), recordsVersion: r.recordsVersion + 1, map: null, compare: null, advancing: null, progress: null }));
  if (s.model) reopening = reopenFor(s.model.label);
});

async function reopenFor(label: string): Promise<string | null> {
  await whenIdle();
  await refreshRuns();
  const id = get().openRunId;
  const meta = get().runs.find((m) => m.id === id);
  if (!meta || meta.model !== label || get().open) return null;
  const restarted = useLab.getState().failure?.status === 'recovering';
  return (await openRun(meta.id, restarted ? 'restart' : 'reload')) ? where(get().open!.view) : null;
}

/** After an engine restart: where the reopened run stands, or null. */
export async function reopenedRun(): Promise<string | null> {
  return reopening ? reopening : null;
}

export function closeRun(): void {
  set((r) => ({ open: null, openRunId: null, index: emptyIndex(), recordsVersion: r.recordsVersion + 1, map: null, compare: null }));
}

// ---------------------------------------------------------------------------------------------
// Advancing

async function advanceOnce(runId: string, until: 'effect' | 'phase' | 'step' | 'end'): Promise<Ev<'run-stopped'>> {
  const r = await session.request<Ev<'run-stopped'>>({ type: 'run-advance', runId, until }, onRunEvent);
  flush();
  absorbView(get().index, r.view);
  set((s) => ({
    open: s.open && s.open.meta.id === runId ? { meta: { ...s.open.meta, status: r.view.phase === 'done' ? 'done' : 'paused' }, view: replaceEqualDeep(s.open.view, r.view) } : s.open,
  }));
  return r;
}

/** Phase: to the end of the current phase. Step: to the start of the next step. Run: until done or paused. */
export async function advance(mode: 'phase' | 'step' | 'run'): Promise<void> {
  const o = get().open;
  if (!o || o.view.phase === 'done' || get().busy) return;
  await session.exclusive('running', async () => {
    set({ advancing: { mode, since: Date.now() }, pausing: false, error: null, notice: null, transitionAt: Date.now() });
    try {
      if (mode !== 'run') await advanceOnce(o.meta.id, mode);
      else {
        for (;;) {
          const r = await advanceOnce(o.meta.id, 'phase');
          if (r.reason !== 'boundary' || get().pausing) break;
        }
      }
    } catch (e) {
      fail(e);
    } finally {
      flush();
      set({ advancing: null, pausing: false, progress: null });
    }
  });
  void refreshRuns();
}

/** Pause after the piece of work in flight (nothing computed is thrown away). */
export async function pause(): Promise<void> {
  if (!get().advancing || get().pausing) return;
  set({ pausing: true });
  await session.stop();
}

/** Freeze the policy or the memory between steps; a continuous run pauses for it and goes on. */
export async function setFreeze(which: 'policy' | 'memory', on: boolean): Promise<void> {
  const o = get().open;
  if (!o || o.view.phase === 'done' || get().busy) return;
  const wasRunning = get().advancing?.mode === 'run';
  if (wasRunning) {
    await pause();
    await whenIdle();
  }
  set({ busy: 'freezing', error: null });
  try {
    const r = await session.request<Ev<'run-stopped'>>({ type: 'run-freeze', runId: o.meta.id, [which]: on }, onRunEvent);
    flush();
    set((s) => ({ open: s.open && { ...s.open, view: replaceEqualDeep(s.open.view, r.view) } }));
  } catch (e) {
    fail(e);
  } finally {
    set({ busy: null });
  }
  if (wasRunning) void advance('run');
}

// ---------------------------------------------------------------------------------------------
// Starting over, other variants

/** A stored run's config and suite, from its bundle (the same files `pmd-lab run` writes). */
export async function runRecipe(runId: string): Promise<{ config: PmdConfig; suite: { name: string; text: string } }> {
  const meta = get().runs.find((m) => m.id === runId);
  const b = await session.request<Ev<'run-bundle'>>({ type: 'run-export', runId });
  const files = readZip(b.bytes);
  const text = (name: string) => {
    const f = files.get(name);
    if (!f) throw new Error(`the run's archive has no ${name}`);
    return new TextDecoder().decode(f);
  };
  return { config: JSON.parse(text('config.json')) as PmdConfig, suite: { name: meta?.suite ?? 'tasks', text: text('tasks.jsonl') } };
}

/** Start the open run over (same settings and suite, the given seed), keeping or deleting the old one. */
export async function resetRun(seed: number): Promise<void> {
  const o = get().open;
  if (!o || get().busy) return;
  if (get().advancing) {
    await pause();
    await whenIdle();
  }
  const key = await ask({
    title: 'Start this run over?',
    message: `A new run with the same settings and task suite starts at step 1 with seed ${seed}. “${o.meta.name}” (${where(o.view)}) stays in the run library unless you delete it.`,
    actions: [
      { key: 'keep', label: 'Start over, keep the old run' },
      { key: 'delete', label: 'Start over, delete the old run', danger: true },
    ],
  });
  if (!key) return;
  try {
    const { config, suite } = await runRecipe(o.meta.id);
    const name = o.meta.name.replace(/ \(again( \d+)?\)$/, '');
    if (!(await createRun(`${name} (again)`, { ...config, seed, freeze: config.freeze }, suite))) return;
    if (key === 'delete') await deleteRun(o.meta.id, false);
  } catch (e) {
    fail(e);
  }
}

export async function deleteRun(runId: string, confirm = true): Promise<void> {
  const meta = get().runs.find((m) => m.id === runId);
  if (!meta || get().busy || (get().advancing && get().open?.meta.id === runId)) return;
  if (confirm) {
    const key = await ask({
      title: `Delete “${meta.name}”?`,
      message: 'Its state, records, memory and checkpoints are removed from this browser. Export it first to keep a copy.',
      actions: [{ key: 'delete', label: 'Delete the run', danger: true }],
    });
    if (key !== 'delete') return;
  }
  set({ busy: 'deleting', error: null });
  try {
    await session.request<Ev<'run-deleted'>>({ type: 'run-delete', runId });
    if (get().open?.meta.id === runId || get().openRunId === runId) closeRun();
  } catch (e) {
    fail(e);
  } finally {
    set({ busy: null });
  }
  await refreshRuns();
}

// ---------------------------------------------------------------------------------------------
// Map and comparison

export async function loadMap(): Promise<void> {
  const o = get().open;
  if (!o || get().mapBusy) return;
  set({ mapBusy: true });
  try {
    const r = await session.request<Ev<'run-map'>>({ type: 'run-map', runId: o.meta.id });
    set({ map: { runId: r.runId, points: r.points, clusters: r.clusters, seq: o.view.seq } });
  } catch (e) {
    fail(e);
  } finally {
    set({ mapBusy: false });
  }
}

export async function compareWithMemory(problem: string, seed: number): Promise<void> {
  const o = get().open;
  if (!o || get().compareBusy) return;
  set({ compareBusy: true, compare: null });
  try {
    const r = await session.request<Ev<'run-compared'>>({ type: 'run-compare', runId: o.meta.id, problem, seed });
    set({ compare: { runId: r.runId, problem: r.problem, without: r.without, with: r.with, seed } });
  } catch (e) {
    fail(e);
  } finally {
    set({ compareBusy: false });
  }
}

export function dismissRunMessages(): void {
  set({ error: null, notice: null });
}
