/**
 * Other runs drawn over the open run's curves (and compared in Ablations): their config and
 * their metric and timing records, fetched once per run and kept for the page's life.
 */
import { create } from 'zustand';
import type { EngineEvent, PmdConfig, StepMetric } from '../../../worker/protocol';
import { message } from '../../model/controller';
import { session } from '../../session';
import type { Timing } from '../records';

type Ev<T extends EngineEvent['type']> = Extract<EngineEvent, { type: T }>;

export interface RunSeries {
  config: PmdConfig;
  metrics: StepMetric[];
  timings: Timing[];
}

interface OverlayState {
  runs: Record<string, RunSeries | { error: string } | 'loading'>;
}

export const useOverlay = create<OverlayState>(() => ({ runs: {} }));

export async function loadSeries(runId: string, force = false): Promise<void> {
  const cur = useOverlay.getState().runs[runId];
  if (cur && !force && (cur === 'loading' || !('error' in cur))) return;
  useOverlay.setState((s) => ({ runs: { ...s.runs, [runId]: 'loading' } }));
  try {
    const c = await session.request<Ev<'run-config'>>({ type: 'run-config', runId });
    const r = await session.request<Ev<'run-records'>>({ type: 'run-records', runId, kinds: ['metric', 'timing'] });
    const metrics: StepMetric[] = [];
    const timings: Timing[] = [];
    for (const { record } of r.records) {
      if (record.kind === 'metric') metrics.push(record.metric);
      else if (record.kind === 'timing') timings.push({ step: record.step, phase: record.phase, effect: record.effect, ms: record.ms });
    }
    useOverlay.setState((s) => ({ runs: { ...s.runs, [runId]: { config: c.config, metrics, timings } } }));
  } catch (e) {
    useOverlay.setState((s) => ({ runs: { ...s.runs, [runId]: { error: message(e) } } }));
  }
}

export function seriesOf(v: OverlayState['runs'][string] | undefined): RunSeries | null {
  return v && v !== 'loading' && !('error' in v) ? v : null;
}
