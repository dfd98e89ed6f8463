/**
 * The PMD run the playground shows: the run library, the open run's state view and its indexed
 * records, what the worker is doing with it (advancing to a boundary, pausing, progress inside
 * the effect in flight), the cluster map and the with/without-memory comparison. Only the open
 * run's id is kept across reloads: the run itself lives in IndexedDB, owned by the worker.
 */
import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';
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

export const useRun = create<RunRuntime & { openRunId: string | null }>()(
  persist(() => ({ ...INITIAL_RUN, openRunId: null as string | null }), {
    name: 'pmd-lab.run',
    version: 1,
    storage: createJSONStorage(() => localStorage),
    partialize: (s) => ({ openRunId: s.openRunId }),
    merge: (p, current) => ({ ...current, openRunId: typeof (p as { openRunId?: unknown })?.openRunId === 'string' ? (p as { openRunId: string }).openRunId : null }),
  }),
);
