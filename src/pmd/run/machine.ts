/**
 * The PMD loop as a pure state machine: `transition(ctx, state, event) -> { state, effects,
 * records }`. The input state is never changed. The CLI and the browser worker drive it the
 * same way (driver.ts): run the pending effect, feed its result back, persist, repeat.
 *
 * A step runs the phases rollout, verify, experience, insight, behavior, teacher, update,
 * evaluate in that order, each only where it applies (rules.ts): no memory phases for SDPO and
 * GRPO or while memory is frozen, behaviors every K steps, no teacher for GRPO, no update while
 * the policy is frozen, evaluation at its cadence. A phase is complete when no effect is
 * pending; the state then rests at that phase until a 'next' event enters the following one,
 * so every phase (even one with no effects, such as building teacher contexts) is a visible
 * stop. After the last phase, 'next' ends the step (its rollouts and metrics are recorded, the
 * transient variant forgets its memory) and begins the next one.
 */
import type { Phase, PmdConfig } from '../config';
import { PHASES } from '../config';
import { emptyMemory } from '../memory/types';
import type { RunContext } from './context';
import { evaluatePhase } from './phases/evaluate';
import { behaviorPhase, experiencePhase, insightPhase } from './phases/memory';
import type { PhaseLogic } from './phases/phase';
import { rolloutPhase, verifyPhase } from './phases/rollout';
import { teacherPhase } from './phases/teacher';
import { updatePhase } from './phases/update';
import { memoryBuildSteps, stageOf } from './rules';
import { problemsForStep } from './schedule';
import { RUN_STATE_VERSION, type Effect, type RunEvent, type RunRecord, type RunState, type StepMetric, type StepWork } from './state';
import { Tx } from './tx';

export const PHASE_LOGIC: Record<Phase, PhaseLogic> = {
  rollout: rolloutPhase,
  verify: verifyPhase,
  experience: experiencePhase,
  insight: insightPhase,
  behavior: behaviorPhase,
  teacher: teacherPhase,
  update: updatePhase,
  evaluate: evaluatePhase,
};

export interface Transition {
  state: RunState;
  effects: Effect[];
  records: RunRecord[];
}

function newWork(ctx: RunContext, c: PmdConfig, step: number): StepWork {
  return {
    step,
    stage: stageOf(c, step, ctx.trainIds.length),
    problems: problemsForStep(ctx.trainIds, c.problemsPerStep, step, c.seed),
    rollouts: [],
    queue: [],
    attempt: 0,
    reflectionDraft: null,
    clusters: null,
    queries: null,
    update: null,
    eval: null,
    evalResult: null,
  };
}

/** Enter and begin the first phase at index >= `from` that applies; past the last phase, end the step. */
function enterFrom(ctx: RunContext, tx: Tx, from: number): void {
  for (let i = from; i < PHASES.length; i++) {
    const phase = PHASES[i];
    const logic = PHASE_LOGIC[phase];
    if (!logic.applies(tx.state, ctx)) continue;
    tx.enter(phase);
    logic.begin(ctx, tx);
    return;
  }
  endStep(ctx, tx);
}

function memorySizes(s: RunState): StepMetric['memory'] {
  let experience = 0;
  let insights = 0;
  for (const pm of Object.values(s.memory.problems)) {
    experience += pm.experience.length;
    insights += pm.insights.length;
  }
  return { experience, insights, behaviors: s.memory.behaviors.length };
}

function endStep(ctx: RunContext, tx: Tx): void {
  const s = tx.state;
  const w = tx.work;
  for (const r of w.rollouts) tx.log({ kind: 'rollout', step: w.step, rollout: r });
  const rewards = w.rollouts.map((r) => r.reward ?? 0);
  const divs = w.rollouts.flatMap((r) => r.tokensView?.divergence ?? []);
  const metric: StepMetric = {
    step: w.step,
    stage: w.stage,
    reward_mean: rewards.length ? rewards.reduce((a, b) => a + b, 0) / rewards.length : 0,
    loss: w.update?.loss ?? null,
    masked: w.rollouts.filter((r) => r.teacher?.masked).length,
    grad_norm: w.update?.gradNorm ?? null,
    divergence_mean: divs.length ? divs.reduce((a, b) => a + b, 0) / divs.length : null,
    memory: memorySizes(s),
  };
  const e = w.evalResult;
  if (e) metric.eval = { avg_at_n: e.avg_at_n, pass_at_k: e.pass_at_k, maj_at_k: e.maj_at_k, best_at_k: e.best_at_k, with_memory: e.withMemory };
  tx.log({ kind: 'metric', metric });
  if (s.config.variant === 'pmd-transient') {
    const had = memorySizes(s);
    s.memory = emptyMemory();
    tx.log({ kind: 'memory-event', event: { step: w.step, level: 'experience', op: 'clear', item: '*', cause: { reason: `transient memory discarded after the step (${had.experience} experience, ${had.insights} insights, ${had.behaviors} behaviors)` } } });
  }
  if (w.step >= s.totalSteps) {
    s.work = null;
    tx.enter('done');
    return;
  }
  s.step = w.step + 1;
  s.work = newWork(ctx, s.config, s.step);
  enterFrom(ctx, tx, 0);
}

/** A run's first state: step 1's rollouts pending. */
export function initialState(ctx: RunContext, config: PmdConfig): Transition {
  const state: RunState = {
    version: RUN_STATE_VERSION,
    config,
    seq: 0,
    step: 1,
    phase: 'rollout',
    cursor: 0,
    work: newWork(ctx, config, 1),
    memory: emptyMemory(),
    trainerVersion: 0,
    pending: null,
    totalSteps: config.steps + memoryBuildSteps(config, ctx.trainIds.length),
  };
  const tx = new Tx(state);
  enterFrom(ctx, tx, 0);
  return { state: tx.state, effects: tx.state.pending ? [tx.state.pending] : [], records: tx.records };
}

export function transition(ctx: RunContext, state: RunState, event: RunEvent): Transition {
  const tx = new Tx(structuredClone(state));
  const s = tx.state;
  switch (event.type) {
    case 'set-freeze': {
      const change: { freezePolicy?: boolean; freezeMemory?: boolean } = {};
      if (event.policy !== undefined && event.policy !== s.config.freeze.policy) s.config.freeze.policy = change.freezePolicy = event.policy;
      if (event.memory !== undefined && event.memory !== s.config.freeze.memory) s.config.freeze.memory = change.freezeMemory = event.memory;
      if (Object.keys(change).length) tx.log({ kind: 'control', step: s.step, change });
      break;
    }
    case 'next':
      // The current phase is complete when nothing is pending: go on to the next one.
      if (!s.pending && s.phase !== 'done') enterFrom(ctx, tx, PHASES.indexOf(s.phase as Phase) + 1);
      break;
    case 'result': {
      if (!s.pending) throw new Error(`a result for ${event.effect} arrived, but no effect is pending`);
      if (s.pending.id !== event.effect) throw new Error(`a result for ${event.effect} arrived, but ${s.pending.id} is pending`);
      if (event.result.kind !== s.pending.kind) throw new Error(`effect ${s.pending.id} is a ${s.pending.kind}, the result a ${event.result.kind}`);
      PHASE_LOGIC[s.phase as Phase].resume(ctx, tx, event.result);
      break;
    }
  }
  s.seq = state.seq + 1;
  return { state: s, effects: s.pending ? [s.pending] : [], records: tx.records };
}
