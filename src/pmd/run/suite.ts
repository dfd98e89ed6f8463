/**
 * A task suite as the loop sees it: prompts by id (the rendered student prompt) and the ids of
 * each split, in suite order.
 */
import { renderPrompt } from '../tasks/prompt';
import type { Task } from '../tasks/types';
import type { RunContext } from './context';

export interface SuiteContext extends RunContext {
  tasks: ReadonlyMap<string, Task>;
}

export function suiteContext(tasks: readonly Task[]): SuiteContext {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  const prompts = new Map<string, string>();
  return {
    tasks: byId,
    trainIds: tasks.filter((t) => t.split === 'train').map((t) => t.id),
    testIds: tasks.filter((t) => t.split === 'test').map((t) => t.id),
    prompt(id: string) {
      let p = prompts.get(id);
      if (p === undefined) {
        const t = byId.get(id);
        if (!t) throw new Error(`the task suite has no problem ${JSON.stringify(id)}`);
        prompts.set(id, (p = renderPrompt(t)));
      }
      return p;
    },
  };
}
