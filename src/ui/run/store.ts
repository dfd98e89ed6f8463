/**
 * The PMD run the playground shows: the run library, the open run's state view and its indexed
 * records, what the worker is doing with it (advancing to a boundary, pausing, progress inside
 * the effect in flight), the cluster map and the with/without-memory comparison. Only the open
 * run's id is kept across reloads: the run itself lives in IndexedDB, owned by the worker.
 */
import { create } from 'zustand';
import type { EngineEvent, RunMeta, RunView } from '../../worker/protocol';
import { emptyIndex, type RecordIndex } from './records';

export type Until = 'effect' | 'phase' | 'step' | 'end';

export interface RunProgress {
  step: number;
  phase: string;
  what: string;
  done: number;
  total: number;
}

export type RunMap = Omit<Extract<EngineEvent, { type: 'run-map' }>, 'type' | 'id'> & { seq: number };
export type RunComparison = Omit<Extract<EngineEvent, { type: 'run-compared' }>, 'type' | 'id'> & { seed: number };

export interface RunRuntime {
  runs: RunMeta[];
  open: { meta: RunMeta; view: RunView } | null;
  /** Appended in place; `recordsVersion` changes when it does. */
  index: RecordIndex;
  recordsVersion: number;
  /** A short job on the run library or the open run (not advancing). */
  busy: null | 'creating' | 'opening' | 'freezing' | 'exporting' | 'importing' | 'deleting' | 'records';
  /** Advancing: which button started it, and when. */
  advancing: { mode: 'phase' | 'step' | 'run'; since: number } | null;
  pausing: boolean;
  progress: RunProgress | null;
  /** When the phase shown started (for the time spent in it). */
  phaseSince: number | null;
  /** When the last transition arrived (the effect in flight started then). */
  transitionAt: number | null;
  notice: string | null;
  error: string | null;
  map: RunMap | null;
  mapBusy: boolean;
  compare: RunComparison | null;
  compareBusy: boolean;
}

export const INITIAL_RUN: RunRuntime = {
  runs: [],
  open: null,
  index: emptyIndex(),
  recordsVersion: 0,
  busy: null,
  advancing: null,
  pausing: false,
  progress: null,
  phaseSince: null,
  transitionAt: null,
  notice: null,
  error: null,
  map: null,
  mapBusy: false,
  compare: null,
  compareBusy: false,
};

const OPEN_RUN_KEY = 'pmd-lab.run';

function storedOpenRun(): string | null {
  try {
    const v: unknown = JSON.parse(localStorage.getItem(OPEN_RUN_KEY) ?? 'null');
    return typeof v === 'object' && v !== null && typeof (v as { openRunId?: unknown }).openRunId === 'string' ? (v as { openRunId: string }).openRunId : null;
  } catch {
    return null;
  }
}

export const useRun = create<RunRuntime & { openRunId: string | null }>(() => ({ ...INITIAL_RUN, openRunId: storedOpenRun() }));

// Only the open run's id is kept, written when it changes (not on every transition, as a persist
// middleware would).
useRun.subscribe((s, prev) => {
  if (s.openRunId === prev.openRunId) return;
  try {
    localStorage.setItem(OPEN_RUN_KEY, JSON.stringify({ openRunId: s.openRunId }));
  } catch {
    // storage full or blocked: the run stays in the library; it is just not reopened by itself
  }
});
