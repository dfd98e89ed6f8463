/**
 * One transition in the making: a private copy of the state that phase code may change, the
 * records it appends, and the effect it issues. `transition` (machine.ts) hands a fresh Tx to
 * the phase logic and returns its result, so the function as a whole stays pure.
 */
import type { Phase } from '../config';
import type { Effect, RunRecord, RunState } from './state';

export class Tx {
  readonly records: RunRecord[] = [];

  constructor(public state: RunState) {}

  get work() {
    const w = this.state.work;
    if (!w) throw new Error('no step in progress');
    return w;
  }

  /** Id of the next effect of this phase: step, phase and a counter. */
  nextId(): string {
    const id = `${this.state.step}:${this.state.phase}:${this.state.cursor}`;
    this.state.cursor++;
    return id;
  }

  issue(effect: Effect): void {
    if (this.state.pending) throw new Error(`an effect (${this.state.pending.id}) is already pending`);
    this.state.pending = effect;
  }

  log(r: RunRecord): void {
    this.records.push(r);
  }

  enter(phase: Phase | 'done'): void {
    this.state.phase = phase;
    this.state.cursor = 0;
  }
}
