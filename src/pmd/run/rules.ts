/** Which parts of a step run, from the variant, the live switches and the step's stage. */
import type { PmdConfig } from '../config';
import type { RunState, StepWork } from './state';

export function usesMemory(c: PmdConfig): boolean {
  return c.variant !== 'sdpo' && c.variant !== 'grpo';
}

/** frozen-memory's build steps: the given number, or one pass over the train split. */
export function memoryBuildSteps(c: PmdConfig, trainCount: number): number {
  if (c.variant !== 'frozen-memory') return 0;
  return c.memoryBuildSteps || Math.max(1, Math.ceil(trainCount / Math.max(1, c.problemsPerStep)));
}

export function stageOf(c: PmdConfig, step: number, trainCount: number): StepWork['stage'] {
  return step <= memoryBuildSteps(c, trainCount) ? 'memory-build' : 'train';
}

export function policyFrozen(s: RunState): boolean {
  const c = s.config;
  return c.freeze.policy || c.variant === 'frozen-policy' || s.work?.stage === 'memory-build';
}

export function memoryFrozen(s: RunState): boolean {
  const c = s.config;
  return c.freeze.memory || (c.variant === 'frozen-memory' && s.work?.stage === 'train');
}

/** Behavior consolidation due this step (every step for the transient variant, whose memory lasts one step). */
export function consolidationDue(c: PmdConfig, step: number): boolean {
  return c.variant === 'pmd-transient' || step % c.behavior.every === 0;
}

export function evaluationDue(s: RunState): boolean {
  const w = s.work;
  if (!w || w.stage !== 'train') return false;
  return w.step % s.config.eval.every === 0 || w.step === s.totalSteps;
}
