/**
 * One phase of a step. `begin` starts it (issuing its first effect, or doing its work at once);
 * `resume` consumes an effect's result and issues the next effect. A phase is complete when it
 * returns without an effect pending; the machine then moves to the next phase that applies.
 */
import type { RunContext } from '../context';
import type { EffectResult, RunState } from '../state';
import type { Tx } from '../tx';

export interface PhaseLogic {
  applies(s: RunState, ctx: RunContext): boolean;
  begin(ctx: RunContext, tx: Tx): void;
  resume(ctx: RunContext, tx: Tx, result: EffectResult): void;
}
