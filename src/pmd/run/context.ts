/**
 * What the machine reads but never changes: the task suite, as problem prompts by id and the
 * ids of each split. It is rebuilt from the run's stored suite on resume, so it is not part of
 * the persisted state.
 */
export interface RunContext {
  /** The student's prompt for a problem (the rendered task). */
  prompt(id: string): string;
  trainIds: readonly string[];
  testIds: readonly string[];
}

export function splitIds(ctx: RunContext, split: 'train' | 'test'): readonly string[] {
  return split === 'train' ? ctx.trainIds : ctx.testIds;
}
