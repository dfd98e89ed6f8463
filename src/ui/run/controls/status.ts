/** The status line's words: step, phase, what the worker is doing, progress, time left. */
import type { RunView } from '../../../worker/protocol';
import { formatDuration, type Estimate } from '../eta';
import type { RunProgress, RunRuntime } from '../store';

export const PHASE_ABOUT: Record<string, string> = {
  rollout: 'the student samples G attempts per problem',
  verify: 'the verifier scores each attempt',
  experience: 'successes and failures go into experience memory',
  insight: 'the reflector turns attempts into strategies and lessons',
  behavior: 'behaviors are consolidated from clusters of questions',
  teacher: 'a teacher context is built from memory for each attempt',
  update: 'one optimizer step distils the teacher into the student',
  evaluate: 'the student is evaluated',
};

function position(v: RunView): string {
  return `Step ${v.step} of ${v.totalSteps}${v.work?.stage === 'memory-build' ? ' (memory building)' : ''}`;
}

function left(e: Estimate, running: boolean): string {
  const parts: string[] = [];
  if (running && e.phaseMs !== null) parts.push(`about ${formatDuration(e.phaseMs)} left in this phase`);
  if (e.runMs !== null) parts.push(`about ${formatDuration(e.runMs)} left in the run`);
  else parts.push('time left: known after the first step');
  return parts.join(', ');
}

function doing(p: RunProgress | null): string {
  if (!p) return 'working';
  return p.total > 1 ? `${p.what} (${Math.min(p.done, p.total)} of ${p.total})` : p.what;
}

export function statusText(r: Pick<RunRuntime, 'open' | 'advancing' | 'pausing' | 'progress' | 'busy'>, e: Estimate | null): string {
  const o = r.open;
  if (!o) return r.busy === 'creating' ? 'Creating the run…' : r.busy === 'opening' ? 'Opening the run…' : 'No run is open: set one up and create it, or open one from the library.';
  const v = o.view;
  if (v.phase === 'done') return `Run complete: all ${v.totalSteps} steps done.`;
  const about = PHASE_ABOUT[v.phase] ?? v.phase;
  if (r.advancing) {
    const what = `${position(v)} · ${v.phase} phase: ${about} · ${doing(r.progress)}`;
    return `${what}${r.pausing ? ' · pausing after this piece of work…' : ''}${e ? ` · ${left(e, true)}` : ''}`;
  }
  if (r.busy === 'freezing') return `${position(v)} · applying the switch…`;
  const at = v.pending ? `paused inside the ${v.phase} phase (${about})` : `paused: the ${v.phase} phase is done`;
  return `${position(v)} · ${at}${e ? ` · ${left(e, false)}` : ''}`;
}
