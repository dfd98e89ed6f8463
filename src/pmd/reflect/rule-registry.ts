/**
 * Rule-based reflectors of task worlds, by name. A suite asks for one by putting its name in
 * every task's `meta.reflector`; `reflector.kind: "rule"` then uses it.
 */
import type { Task } from '../tasks/types';
import type { RuleReflector } from './reflectors';

const registry = new Map<string, RuleReflector>();

export function registerRuleReflector(r: RuleReflector): void {
  registry.set(r.name, r);
}

/** The rule reflector the suite names, or null when its tasks name none (or different ones). */
export function ruleReflectorForSuite(tasks: readonly Task[]): RuleReflector | null {
  const names = new Set(tasks.map((t) => (typeof t.meta?.reflector === 'string' ? t.meta.reflector : '')));
  if (names.size !== 1) return null;
  const [name] = names;
  return (name && registry.get(name)) || null;
}
