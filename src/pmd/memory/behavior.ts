/**
 * Behavior memory (PMD-SPEC step 5): a global bank of at most `maxBank` named instructions.
 * A consolidation's reply (cold start: a list of behaviors; afterwards: new / update / remove
 * actions) is applied here: names are normalised to `behavior_snake_case`, a "new" behavior
 * close to one in the bank (cosine of embeddings above the novelty threshold) is rejected, an
 * update or removal of a name the bank lacks is rejected, and every change keeps its history.
 */
import { cosine } from '../embed/vectors';
import type { Behavior, BehaviorAction, ItemSource, MemoryEvent } from './types';

export interface BehaviorBounds {
  maxBank: number;
  novelty: number;
}

/** `Check Units!` -> `behavior_check_units`; null when nothing usable remains. */
export function behaviorName(raw: string): string | null {
  const core = raw
    .trim()
    .toLowerCase()
    .replace(/^behavior[_\s-]*/, '')
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 60);
  return core ? `behavior_${core}` : null;
}

export function behaviorView(b: Behavior): Omit<Behavior, 'embedding'> {
  const { embedding: _e, ...rest } = b;
  return rest;
}

/** Text a behavior is embedded from. */
export const behaviorText = (name: string, instruction: string) => `${name.replace(/^behavior_/, '').replace(/_/g, ' ')}: ${instruction}`;

export interface ClusterInfo {
  index: number;
  problems: string[];
}

export function applyBehaviorActions(
  bank: readonly Behavior[],
  actions: readonly BehaviorAction[],
  embeddings: Record<string, number[]>,
  b: BehaviorBounds,
  cluster: ClusterInfo,
  source: ItemSource,
): { bank: Behavior[]; events: MemoryEvent[] } {
  const out = [...bank];
  const events: MemoryEvent[] = [];
  const cause = { reflection: source.reflection, reflector: source.reflector, rollouts: source.rollouts };
  const reject = (item: string, reason: string, after?: unknown) => events.push({ step: source.step, level: 'behavior', op: 'reject', item, cause: { ...cause, reason }, after });
  for (const a of actions) {
    const name = behaviorName(a.name);
    if (!name) {
      reject(a.name, 'the name has no letters or digits');
      continue;
    }
    const at = out.findIndex((x) => x.name === name);
    if (a.action === 'remove') {
      if (at < 0) reject(name, 'no behavior of that name to remove');
      else {
        const [gone] = out.splice(at, 1);
        events.push({ step: source.step, level: 'behavior', op: 'remove', item: name, cause: { ...cause, reason: `removed by consolidation of cluster ${cluster.index}` }, before: behaviorView(gone) });
      }
      continue;
    }
    const instruction = a.instruction.trim();
    const embedding = embeddings[`${a.action}:${name}`];
    if (!embedding) throw new Error(`behavior ${name} has no embedding`);
    if (a.action === 'update' || at >= 0) {
      if (at < 0) {
        reject(name, 'no behavior of that name to update', { instruction });
        continue;
      }
      const old = out[at];
      const next: Behavior = {
        ...old,
        instruction,
        embedding,
        cluster: cluster.index,
        problems: [...new Set([...old.problems, ...cluster.problems])],
        history: [...old.history, { step: source.step, op: 'update', instruction, reflection: source.reflection }],
      };
      out[at] = next;
      events.push({ step: source.step, level: 'behavior', op: 'update', item: name, cause: { ...cause, reason: a.action === 'new' ? 'a new behavior reused an existing name' : `updated by consolidation of cluster ${cluster.index}` }, before: behaviorView(old), after: behaviorView(next) });
      continue;
    }
    let sim = -Infinity;
    let twin = '';
    for (const x of out) {
      const c = cosine(embedding, x.embedding);
      if (c > sim) [sim, twin] = [c, x.name];
    }
    if (sim > b.novelty) {
      reject(name, `near-duplicate of ${twin} (cosine ${sim.toFixed(4)} > ${b.novelty})`, { instruction });
      continue;
    }
    if (out.length >= b.maxBank) {
      reject(name, `the bank is full (${b.maxBank} behaviors)`, { instruction });
      continue;
    }
    const fresh: Behavior = { name, instruction, cluster: cluster.index, problems: [...cluster.problems], embedding, source, history: [{ step: source.step, op: 'new', instruction, reflection: source.reflection }] };
    out.push(fresh);
    events.push({ step: source.step, level: 'behavior', op: 'add', item: name, cause: { ...cause, reason: `new from cluster ${cluster.index}` }, after: behaviorView(fresh) });
  }
  return { bank: out, events };
}
