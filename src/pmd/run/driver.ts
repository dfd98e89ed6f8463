/**
 * Drives a run: open it (a fresh one, or the last persisted transition of an interrupted one),
 * then repeatedly run the pending effect, feed the result to the machine, and persist the new
 * state with its records before anything else happens. The CLI (`pmd-lab run`) and the browser
 * worker use this same class; they differ only in the store and the services they plug in.
 *
 * Advancing stops at a boundary (after one effect, at the end of a phase or a step, or at the
 * end of the run) or when asked to pause; a pause takes effect after the effect in flight, so
 * nothing computed is thrown away.
 */
import type { PmdConfig } from '../config';
import type { RunContext } from './context';
import { initialState, transition, type Transition } from './machine';
import { runEffect, type EffectProgress, type LoopServices } from './services';
import type { RunEvent, RunRecord, RunState } from './state';

export interface RunStore {
  /** The last committed state, or null for a new run. */
  load(): Promise<RunState | null>;
  /** Persist `state` and the records of the transition that produced it, atomically (both or neither). */
  commit(state: RunState, records: RunRecord[]): Promise<void>;
  /** The trainer checkpoint of a version (0 is never stored: the fresh adapter). */
  loadTrainer(version: number): Promise<Uint8Array | null>;
  saveTrainer(version: number, bytes: Uint8Array): Promise<void>;
}

export type Boundary = 'effect' | 'phase' | 'step' | 'end';

export interface DriverHooks {
  /** After every committed transition. */
  onTransition?: (state: RunState, records: RunRecord[]) => void;
  /** Progress inside the effect being run. */
  onProgress?: (p: EffectProgress & { phase: string; step: number }) => void;
}

export class RunDriver {
  private constructor(
    private readonly ctx: RunContext,
    private readonly store: RunStore,
    private readonly services: LoopServices,
    private current: RunState,
    private readonly hooks: DriverHooks,
  ) {}

  /**
   * Open the run in `store`: resume its last state (restoring the trainer checkpoint it refers
   * to), or start a new one from `config` when the store is empty.
   */
  static async open(ctx: RunContext, store: RunStore, services: LoopServices, config: PmdConfig | null, hooks: DriverHooks = {}): Promise<RunDriver> {
    const saved = await store.load();
    if (saved) {
      if (saved.trainerVersion > 0) {
        const bytes = await store.loadTrainer(saved.trainerVersion);
        if (!bytes) throw new Error(`the run refers to trainer checkpoint ${saved.trainerVersion}, which the store does not have`);
        await services.policy.restore(bytes);
      }
      return new RunDriver(ctx, store, services, saved, hooks);
    }
    if (!config) throw new Error('there is no run to resume here');
    const t = initialState(ctx, config);
    await store.commit(t.state, t.records);
    hooks.onTransition?.(t.state, t.records);
    return new RunDriver(ctx, store, services, t.state, hooks);
  }

  get state(): RunState {
    return this.current;
  }

  private async apply(event: RunEvent, extra: RunRecord[] = []): Promise<Transition> {
    const t = transition(this.ctx, this.current, event);
    const records = [...t.records, ...extra];
    await this.store.commit(t.state, records);
    this.current = t.state;
    this.hooks.onTransition?.(t.state, records);
    return { ...t, records };
  }

  /** A live switch between steps (freeze the policy or the memory). */
  setFreeze(change: { policy?: boolean; memory?: boolean }): Promise<Transition> {
    return this.apply({ type: 'set-freeze', ...change });
  }

  /**
   * Run until `until` is reached, the run ends, or `shouldStop` says so (checked between
   * transitions). 'effect': one transition; 'phase': until a phase is complete (nothing
   * pending); 'step': until the next step has begun; 'end': until the run is done.
   */
  async advance(until: Boundary, shouldStop: () => boolean = () => false): Promise<RunState> {
    const startStep = this.current.step;
    let first = true;
    while (this.current.phase !== 'done') {
      if (!first) {
        if (until === 'effect') break;
        if (until === 'phase' && this.current.pending === null) break;
        if (until === 'step' && this.current.step !== startStep) break;
      }
      if (shouldStop()) break;
      first = false;
      const effect = this.current.pending;
      if (!effect) {
        await this.apply({ type: 'next' });
        continue;
      }
      const phase = this.current.phase;
      const step = this.current.step;
      const t0 = performance.now();
      const result = await runEffect(this.services, effect, {
        onProgress: (p) => this.hooks.onProgress?.({ ...p, phase, step }),
        saveTrainer: (v, bytes) => this.store.saveTrainer(v, bytes),
      });
      const timing: RunRecord = { kind: 'timing', step, phase, effect: effect.kind, ms: Math.round(performance.now() - t0) };
      await this.apply({ type: 'result', effect: effect.id, result }, [timing]);
    }
    return this.current;
  }
}
