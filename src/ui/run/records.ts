/**
 * The open run's records, indexed for the panels: rollouts by step, problem and id, memory
 * events by step, reflections by id, metrics, evaluations, timings and live switches. The index
 * is appended to in place as transitions arrive (a run can write thousands of rows, and copying
 * them per transition would cost the main thread); the store's `recordsVersion` tells React
 * when it changed.
 */
import type { EvalResult, MemoryEvent, ReflectionRecord, RolloutView, RunRecordView, RunView, StepMetric } from '../../worker/protocol';

export interface RecordRow {
  seq: number;
  record: RunRecordView;
}

export interface Timing {
  step: number;
  phase: string;
  effect: string;
  ms: number;
}

export interface RolloutAt {
  step: number;
  rollout: RolloutView;
}

export interface RecordIndex {
  count: number;
  lastSeq: number;
  rolloutsByStep: Map<number, RolloutView[]>;
  rolloutById: Map<string, RolloutAt>;
  rolloutsByProblem: Map<string, RolloutAt[]>;
  events: MemoryEvent[];
  eventsByStep: Map<number, MemoryEvent[]>;
  reflections: Map<string, ReflectionRecord>;
  metrics: StepMetric[];
  evals: EvalResult[];
  timings: Timing[];
  controls: { step: number; change: { freezePolicy?: boolean; freezeMemory?: boolean } }[];
  /** The question of every problem seen so far (from the views: the step's prompts and memory). */
  prompts: Map<string, string>;
}

export function emptyIndex(): RecordIndex {
  return {
    count: 0,
    lastSeq: -1,
    rolloutsByStep: new Map(),
    rolloutById: new Map(),
    rolloutsByProblem: new Map(),
    events: [],
    eventsByStep: new Map(),
    reflections: new Map(),
    metrics: [],
    evals: [],
    timings: [],
    controls: [],
    prompts: new Map(),
  };
}

/** Remember the questions a view names (the step's prompts, memory's questions). */
export function absorbView(ix: RecordIndex, view: RunView): void {
  for (const [p, text] of Object.entries(view.prompts ?? {})) ix.prompts.set(p, text);
  for (const [p, pm] of Object.entries(view.memory.problems)) if (pm.question && !ix.prompts.has(p)) ix.prompts.set(p, pm.question.text);
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}

/** Add rows to the index (in order). */
export function appendRecords(ix: RecordIndex, rows: readonly RecordRow[]): void {
  for (const { seq, record: r } of rows) {
    ix.count++;
    ix.lastSeq = Math.max(ix.lastSeq, seq);
    switch (r.kind) {
      case 'rollout': {
        const at = { step: r.step, rollout: r.rollout };
        push(ix.rolloutsByStep, r.step, r.rollout);
        ix.rolloutById.set(r.rollout.id, at);
        push(ix.rolloutsByProblem, r.rollout.problem, at);
        break;
      }
      case 'memory-event':
        ix.events.push(r.event);
        push(ix.eventsByStep, r.event.step, r.event);
        break;
      case 'reflection':
        ix.reflections.set(r.reflection.id, r.reflection);
        break;
      case 'metric':
        ix.metrics.push(r.metric);
        break;
      case 'eval':
        ix.evals.push(r.eval);
        break;
      case 'timing':
        ix.timings.push({ step: r.step, phase: r.phase, effect: r.effect, ms: r.ms });
        break;
      case 'control':
        ix.controls.push({ step: r.step, change: r.change });
        break;
    }
  }
}

export function buildIndex(rows: readonly RecordRow[]): RecordIndex {
  const ix = emptyIndex();
  appendRecords(ix, rows);
  return ix;
}

