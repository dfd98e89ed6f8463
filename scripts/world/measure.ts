/**
 * The world's headline measurements on the held-out split:
 *   - memory-free accuracy, greedy and avg@n (n samples at temperature 1);
 *   - accuracy with memory in context (the frozen-policy view): memory is built by the rule
 *     reflector from the model's own sampled rollouts on the TRAIN split, and each held-out
 *     problem is shown, in the teacher layout, the insights of its most similar train problems
 *     and the top behaviors (retrieval as the world's run does it: the policy's mean-pooled
 *     hidden state blended with BM25 word matching);
 *   - whether that retrieval finds problems that share a procedure with the question;
 *   - accuracy with the problem's own facts in context ("What <name> does" for each of its
 *     procedures, and the order of a chain: what the rule reflector writes for a problem once
 *     the evidence settles it), i.e. the teacher's ceiling when memory is right and on topic.
 * Everything is broken down by family kind (one procedure or a chain, taught or untaught,
 * held-out instance or held-out combination).
 */
import { buildTeacherContext } from '../../src/pmd/reprompt';
import { behaviorName, strategyForFact, strategyForOrder } from '../../src/pmd/world/memory-text';
import { procedure, type World } from '../../src/pmd/world/world';
import type { WorldTask } from '../../src/pmd/world/suite';
import type { HiddenStateEmbedder } from './embedder';
import { consolidate, newRecord, recordRollouts, retrieveMemory, type WorldMemory } from './memory';
import { accuracyBy, scoreTasks, type Policy } from './rollouts';

export interface MeasureOptions {
  samples: number;
  seed: number;
  neighbors: number;
  behaviors: number;
  clusters: number;
  /** `retrieval.lexicalWeight` of public/world/run.json (a test keeps them equal). */
  lexicalWeight: number;
}

export const MEASURE_DEFAULTS: MeasureOptions = { samples: 4, seed: 0, neighbors: 2, behaviors: 3, clusters: 12, lexicalWeight: 0.5 };

export type Accuracy = Record<string, { n: number; acc: number }>;

export interface WorldMetrics {
  memoryFree: { greedy: Accuracy; avg: Accuracy };
  withMemory: { greedy: Accuracy; avg: Accuracy };
  withOwnFacts: { greedy: Accuracy; avg: Accuracy };
  /** Train rollouts the memory was built from: mean reward. */
  trainRolloutAccuracy: number;
  retrieval: {
    /** Share of held-out problems whose nearest train problem shares a procedure. */
    nearestSharesProcedure: number;
    /** Share whose nearest train problem is the same family. */
    nearestSameFamily: number;
    /** Share whose top behaviors include one for each of its procedures. */
    behaviorsCoverProcedures: number;
  };
  behaviorBank: number;
}

/** Group key of a task: single/chain, taught/untaught, held-out kind. */
export function familyKind(t: WorldTask): string {
  return `${t.meta.procedures.length === 1 ? 'single' : 'chain'}/${t.meta.kind}/${t.meta.heldOut}`;
}

export async function buildTrainMemory(policy: Policy, embedder: HiddenStateEmbedder, train: readonly WorldTask[], o: MeasureOptions): Promise<{ memory: WorldMemory; rolloutAccuracy: number }> {
  const scored = await scoreTasks(policy, train, o.samples, { temperature: 1, seed: o.seed + 1 });
  const emb = await embedder.embed(train.map((t) => t.problem));
  const memory: WorldMemory = { problems: train.map((t, i) => newRecord(t, emb[i])), behaviors: [] };
  scored.forEach((s, i) => recordRollouts(memory.problems[i], s));
  await consolidate(memory, memory.problems, embedder, { clusters: o.clusters, seed: o.seed, coldBelow: Infinity, retrieve: 8 });
  const rewards = scored.flatMap((s) => s.rewards);
  return { memory, rolloutAccuracy: rewards.reduce((a, b) => a + b, 0) / rewards.length };
}

export async function measureWorld(policy: Policy, embedder: HiddenStateEmbedder, world: World, suite: readonly WorldTask[], options: Partial<MeasureOptions> = {}): Promise<WorldMetrics> {
  const o = { ...MEASURE_DEFAULTS, ...options };
  const train = suite.filter((t) => t.split === 'train');
  const test = suite.filter((t) => t.split === 'test');
  const both = async (messages?: string[]) => ({
    greedy: accuracyBy(await scoreTasks(policy, test, 1, { temperature: 0 }, messages), familyKind),
    avg: accuracyBy(await scoreTasks(policy, test, o.samples, { temperature: 1, seed: o.seed }, messages), familyKind),
  });
  const memoryFree = await both();
  const { memory, rolloutAccuracy } = await buildTrainMemory(policy, embedder, train, o);
  const qs = await embedder.embed(test.map((t) => t.problem));
  let shares = 0;
  let same = 0;
  let covered = 0;
  const contexts = test.map((t, i) => {
    const m = retrieveMemory(memory, { vector: qs[i], text: t.problem }, { neighbors: o.neighbors, behaviors: o.behaviors, lexicalWeight: o.lexicalWeight });
    const nearest = memory.problems.find((p) => p.task.id === m.neighborIds[0])!.task;
    if (nearest.meta.procedures.some((n) => t.meta.procedures.includes(n))) shares++;
    if (nearest.meta.family === t.meta.family) same++;
    if (t.meta.procedures.every((n) => m.behaviors!.some((b) => b.name === behaviorName(n)))) covered++;
    return buildTeacherContext({ problem: t.problem, ...m }).text;
  });
  const withMemory = await both(contexts);
  const own = test.map((t) => {
    const names = t.meta.procedures;
    const strategies = names.map((n) => strategyForFact(n, procedure(world, n).operation));
    if (names.length > 1) strategies.push(strategyForOrder(names[0], names[1]));
    return buildTeacherContext({ problem: t.problem, strategies: strategies.map((x, i) => ({ id: `s${i}`, ...x })) }).text;
  });
  const withOwnFacts = await both(own);
  return {
    memoryFree,
    withMemory,
    withOwnFacts,
    trainRolloutAccuracy: rolloutAccuracy,
    retrieval: { nearestSharesProcedure: shares / test.length, nearestSameFamily: same / test.length, behaviorsCoverProcedures: covered / test.length },
    behaviorBank: memory.behaviors.length,
  };
}
