/**
 * What leaves the playground from a run: the student adapter as a PEFT zip, the memory as
 * JSONL, the whole run as one re-importable file, and the step metrics as CSV; and a run file
 * coming back in.
 */
import type { EngineEvent, RunView, StepMetric } from '../../worker/protocol';
import { adapterZip, downloadBytes, slug } from '../files/download';
import { message } from '../model/controller';
import { session } from '../session';
import { refreshRuns } from './controller';
import type { Timing } from './records';
import { useRun } from './store';

type Ev<T extends EngineEvent['type']> = Extract<EngineEvent, { type: T }>;

const set = useRun.setState;
const get = useRun.getState;

async function exporting(fn: () => Promise<void>): Promise<void> {
  if (get().busy) return;
  set({ busy: 'exporting', error: null });
  try {
    await fn();
  } catch (e) {
    set({ error: message(e) });
  } finally {
    set({ busy: null });
  }
}

/** The open run's student (or teacher) adapter as a zip's bytes. */
export async function adapterBytes(which: 'student' | 'teacher' = 'student'): Promise<Uint8Array> {
  const o = get().open;
  if (!o) throw new Error('open a run first');
  const a = await session.request<Ev<'adapter'>>({ type: 'run-adapter', runId: o.meta.id, which });
  return adapterZip({ ...a.files });
}

export function exportAdapter(which: 'student' | 'teacher' = 'student'): Promise<void> {
  return exporting(async () => {
    const o = get().open!;
    const step = o.view.phase === 'done' ? o.view.totalSteps : o.view.step - 1;
    downloadBytes(`${slug(o.meta.name, 'run')}-${which}-adapter-step${step}.zip`, await adapterBytes(which), 'application/zip');
  });
}

export function exportRunFile(): Promise<void> {
  return exporting(async () => {
    const o = get().open!;
    const b = await session.request<Ev<'run-bundle'>>({ type: 'run-export', runId: o.meta.id });
    downloadBytes(b.fileName, b.bytes, 'application/zip');
  });
}

/** One JSON object per memory item: its level, problem, and the item as the run holds it (no embeddings). */
export function memoryJsonl(view: RunView): string {
  const lines: unknown[] = [];
  for (const [problem, pm] of Object.entries(view.memory.problems)) {
    for (const item of pm.experience) lines.push({ level: 'experience', problem, ...item });
    for (const item of pm.insights) lines.push({ level: 'insight', problem, ...item });
  }
  for (const b of view.memory.behaviors) lines.push({ level: 'behavior', ...b });
  return lines.map((l) => JSON.stringify(l)).join('\n') + (lines.length ? '\n' : '');
}

export function exportMemory(): void {
  const o = get().open;
  if (!o) return;
  downloadBytes(`${slug(o.meta.name, 'run')}-memory-step${o.view.step}.jsonl`, new TextEncoder().encode(memoryJsonl(o.view)), 'application/jsonl');
}

const CSV_COLUMNS = [
  'step',
  'stage',
  'reward_mean',
  'loss',
  'masked',
  'grad_norm',
  'divergence_mean',
  'memory_experience',
  'memory_insights',
  'memory_behaviors',
  'eval_avg_at_n',
  'eval_pass_at_k',
  'eval_maj_at_k',
  'eval_best_at_k',
  'eval_with_memory',
  'seconds',
] as const;

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One row per completed step: the step metric and the wall-clock seconds its effects took. */
export function metricsCsv(metrics: readonly StepMetric[], timings: readonly Timing[]): string {
  const seconds = new Map<number, number>();
  for (const t of timings) seconds.set(t.step, (seconds.get(t.step) ?? 0) + t.ms / 1000);
  const rows = metrics.map((m) =>
    [
      m.step,
      m.stage,
      m.reward_mean,
      m.loss,
      m.masked,
      m.grad_norm,
      m.divergence_mean,
      m.memory.experience,
      m.memory.insights,
      m.memory.behaviors,
      m.eval?.avg_at_n,
      m.eval?.pass_at_k,
      m.eval?.maj_at_k,
      m.eval?.best_at_k,
      m.eval?.with_memory,
      seconds.has(m.step) ? seconds.get(m.step)!.toFixed(3) : '',
    ]
      .map(csvCell)
      .join(','),
  );
  return [CSV_COLUMNS.join(','), ...rows].join('\n') + '\n';
}

export function exportMetrics(): void {
  const o = get().open;
  if (!o) return;
  const ix = get().index;
  downloadBytes(`${slug(o.meta.name, 'run')}-metrics.csv`, new TextEncoder().encode(metricsCsv(ix.metrics, ix.timings)), 'text/csv');
}

/** A run file (from Export run, or a pmd-lab run folder zipped) into this browser's library. */
export async function importRunFile(file: File): Promise<void> {
  if (get().busy) return;
  set({ busy: 'importing', error: null, notice: null });
  try {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const r = await session.request<Ev<'run-list'>>({ type: 'run-import', bytes, name: file.name });
    set({ runs: r.runs, notice: `Imported ${file.name}. Open it from the run library.` });
  } catch (e) {
    set({ error: `could not import ${file.name}: ${message(e)}` });
  } finally {
    set({ busy: null });
  }
  await refreshRuns();
}
