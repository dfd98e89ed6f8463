/**
 * How long the rest takes, from the run's own timing records: the mean time of the steps done
 * so far (a step's effects, summed) times the steps left, less what the current step already
 * spent; and for the current phase, the mean of that phase in earlier steps less the time
 * spent in it now. Nothing is estimated for the run before a step has completed.
 */
import type { RunView } from '../../worker/protocol';
import type { Timing } from './records';

export interface Estimate {
  /** Milliseconds left in the run, or null when there is nothing to base it on yet. */
  runMs: number | null;
  /** Milliseconds left in the current phase, or null. */
  phaseMs: number | null;
}

/** `inFlightMs`: time since the last committed transition (the effect running now). */
export function estimate(timings: readonly Timing[], view: RunView, inFlightMs: number): Estimate {
  if (view.phase === 'done') return { runMs: 0, phaseMs: 0 };
  const perStep = new Map<number, number>();
  const perStepPhase = new Map<string, { phase: string; ms: number }>();
  for (const t of timings) {
    perStep.set(t.step, (perStep.get(t.step) ?? 0) + t.ms);
    if (t.step >= view.step) continue;
    const key = `${t.step}|${t.phase}`;
    const cur = perStepPhase.get(key);
    if (cur) cur.ms += t.ms;
    else perStepPhase.set(key, { phase: t.phase, ms: t.ms });
  }
  const done = [...perStep.entries()].filter(([s]) => s < view.step);
  const perPhase = new Map<string, number[]>();
  for (const { phase, ms } of perStepPhase.values()) perPhase.set(phase, [...(perPhase.get(phase) ?? []), ms]);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const phaseTimes = perPhase.get(view.phase);
  const inPhase = timings.filter((t) => t.step === view.step && t.phase === view.phase).reduce((a, t) => a + t.ms, 0) + inFlightMs;
  const phaseMs = phaseTimes?.length ? Math.max(0, mean(phaseTimes) - inPhase) : null;
  if (done.length === 0) return { runMs: null, phaseMs };
  const stepMs = mean(done.map(([, ms]) => ms));
  const spent = (perStep.get(view.step) ?? 0) + inFlightMs;
  const left = view.totalSteps - view.step;
  return { runMs: Math.max(0, stepMs - spent) + left * stepMs, phaseMs };
}

/** A duration in coarse words (it is an estimate, and a status line should not change every second). */
export function formatDuration(ms: number): string {
  const s = ms / 1000;
  if (s < 5) return 'a few seconds';
  if (s < 60) return `${Math.round(s / 5) * 5} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  return `${h} h ${Math.round((m % 60) / 5) * 5} min`;
}
