/**
 * The curves' data: per-step values from metric and timing records, aligned on a common step
 * axis across runs, with optional exponential smoothing, and the legend label of an overlaid
 * run (only the settings that differ from the open run's).
 */
import { configDifferences, type PmdConfig, type StepMetric } from '../../../worker/protocol';
import { getPath } from '../../../util/config-fields';
import type { Timing } from '../records';

export type Pick = (m: StepMetric) => number | null | undefined;

export interface Line {
  /** step -> value */
  points: Map<number, number>;
}

export function lineOf(metrics: readonly StepMetric[], pick: Pick): Line {
  const points = new Map<number, number>();
  for (const m of metrics) {
    const v = pick(m);
    if (v !== null && v !== undefined && Number.isFinite(v)) points.set(m.step, v);
  }
  return { points };
}

/** Seconds per step spent in each phase. */
export function phaseLines(timings: readonly Timing[]): Map<string, Line> {
  const out = new Map<string, Line>();
  for (const t of timings) {
    const line = out.get(t.phase) ?? { points: new Map<number, number>() };
    line.points.set(t.step, (line.points.get(t.step) ?? 0) + t.ms / 1000);
    out.set(t.phase, line);
  }
  return out;
}

/** Exponential moving average over the points in step order (0: none). */
export function smooth(line: Line, factor: number): Line {
  if (factor <= 0) return line;
  const points = new Map<number, number>();
  let acc: number | null = null;
  for (const step of [...line.points.keys()].sort((a, b) => a - b)) {
    const v = line.points.get(step)!;
    acc = acc === null ? v : factor * acc + (1 - factor) * v;
    points.set(step, acc);
  }
  return { points };
}

/** Lines on one step axis, as uPlot wants them. */
export function align(lines: readonly Line[]): [number[], ...(number | null)[][]] {
  const steps = [...new Set(lines.flatMap((l) => [...l.points.keys()]))].sort((a, b) => a - b);
  return [steps, ...lines.map((l) => steps.map((s) => l.points.get(s) ?? null))];
}

/** "alpha=1, variant=sdpo": what another run changed relative to the open one. */
export function differenceLabel(base: PmdConfig, other: PmdConfig): string {
  const diff = configDifferences(base, other);
  if (diff.length === 0) return 'same settings';
  const shown = diff.slice(0, 4).map((p) => `${p}=${JSON.stringify(getPath(other, p))}`);
  return `${shown.join(', ')}${diff.length > 4 ? ` (+${diff.length - 4})` : ''}`;
}
