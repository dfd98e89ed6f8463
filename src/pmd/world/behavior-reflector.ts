/**
 * The world's rule-based reflector, level 2 (behaviors, PMD-SPEC step 5): from a cluster of
 * problems (their texts and insights, their rollouts as a fallback) to reusable behaviors.
 *
 * Facts are gathered per procedure name: positive sentences in the insights count as votes,
 * negative ones exclude an operation, and a problem without insights contributes what its
 * own rollouts pin down. A name is settled when one operation has the most votes, or when
 * the exclusions leave only one. Each settled name becomes `behavior_apply_<name>`; general
 * behaviors (chain order, answer line, keeping the length) are added where the cluster shows
 * a need for them, and fill a cold start up to its minimum.
 */
import type { BehaviorAction, BehaviorColdReply, BehaviorEvolveReply } from '../memory/types';
import { inferFromEvidence, uniqueCandidate, type ProblemEvidence } from './evidence';
import { parseProblem } from './format';
import { ANSWER_LINE_LESSON, GENERIC_BEHAVIORS, KEEP_LENGTH_LESSON, behaviorForFact, behaviorName, readFacts, type BehaviorText } from './memory-text';
import { OPERATIONS, type Operation } from './operations';

export interface ClusterProblem {
  problem: string;
  insights: readonly { title: string; content: string }[];
  /** Rollouts, used when the problem has no insights yet. */
  evidence?: ProblemEvidence;
}

export const COLD_LIMITS = { min: 3, max: 8 };

interface ClusterFacts {
  /** Procedure names by how many problems mention them (most first, ties by first appearance). */
  names: string[];
  settled: Map<string, Operation>;
  excluded: Map<string, Set<string>>;
  chains: boolean;
  answerLine: boolean;
  length: boolean;
}

function gatherFacts(cluster: readonly ClusterProblem[]): ClusterFacts {
  const mentions = new Map<string, number>();
  const votes = new Map<string, Map<string, number>>();
  const excluded = new Map<string, Set<string>>();
  let chains = false;
  let answerLine = false;
  let length = false;
  const vote = (name: string, op: Operation) => {
    const v = votes.get(name) ?? new Map<string, number>();
    v.set(op.id, (v.get(op.id) ?? 0) + 1);
    votes.set(name, v);
  };
  for (const p of cluster) {
    const parsed = parseProblem(p.problem);
    for (const n of parsed?.names ?? []) mentions.set(n, (mentions.get(n) ?? 0) + 1);
    if ((parsed?.names.length ?? 0) > 1) chains = true;
    if (p.insights.length) {
      for (const item of p.insights) {
        if (item.title === ANSWER_LINE_LESSON.title) answerLine = true;
        if (item.title === KEEP_LENGTH_LESSON.title) length = true;
        for (const f of readFacts(item.content)) {
          if (f.positive) vote(f.name, f.operation);
          else excluded.set(f.name, (excluded.get(f.name) ?? new Set()).add(f.operation.id));
        }
      }
    } else if (p.evidence) {
      const inf = inferFromEvidence(p.evidence);
      if (!inf) continue;
      answerLine ||= inf.missingAnswer;
      length ||= inf.wrongLength;
      for (const n of inf.names) {
        const op = uniqueCandidate(inf, n);
        if (op) vote(n, op);
        for (const o of inf.ruledOut.get(n)!) excluded.set(n, (excluded.get(n) ?? new Set()).add(o.id));
      }
    }
  }
  const names = [...mentions.keys()].sort((a, b) => mentions.get(b)! - mentions.get(a)!);
  for (const n of [...votes.keys(), ...excluded.keys()]) if (!names.includes(n)) names.push(n);
  const settled = new Map<string, Operation>();
  for (const n of names) {
    const v = [...(votes.get(n) ?? new Map<string, number>())].sort((a, b) => b[1] - a[1]);
    if (v.length && (v.length === 1 || v[0][1] > v[1][1])) {
      settled.set(n, OPERATIONS.find((o) => o.id === v[0][0])!);
      continue;
    }
    if (v.length) continue; // a tie between operations: not settled
    const left = OPERATIONS.filter((o) => !excluded.get(n)?.has(o.id));
    if (left.length === 1) settled.set(n, left[0]);
  }
  return { names, settled, excluded, chains, answerLine, length };
}

function neededGeneric(f: ClusterFacts): BehaviorText[] {
  const out: BehaviorText[] = [];
  if (f.chains) out.push(GENERIC_BEHAVIORS.chain);
  if (f.answerLine) out.push(GENERIC_BEHAVIORS.answer);
  if (f.length) out.push(GENERIC_BEHAVIORS.length);
  return out;
}

/** Cold start: 3 to 8 behaviors for one cluster. */
export function reflectBehaviorsCold(cluster: readonly ClusterProblem[]): BehaviorColdReply {
  const f = gatherFacts(cluster);
  const generic = neededGeneric(f);
  const specific = f.names.filter((n) => f.settled.has(n)).map((n) => behaviorForFact(n, f.settled.get(n)!));
  const out = [...specific.slice(0, COLD_LIMITS.max - generic.length), ...generic];
  for (const g of Object.values(GENERIC_BEHAVIORS)) {
    if (out.length >= COLD_LIMITS.min) break;
    if (!out.some((b) => b.name === g.name)) out.push(g);
  }
  return { behaviors: out.map((b) => ({ name: b.name, instruction: b.instruction })) };
}

/** Evolution: actions on the existing behaviors retrieved for this cluster. */
export function reflectBehaviorsEvolve(cluster: readonly ClusterProblem[], existing: readonly BehaviorText[]): BehaviorEvolveReply {
  const f = gatherFacts(cluster);
  const have = new Map(existing.map((b) => [b.name, b.instruction]));
  const actions: BehaviorAction[] = [];
  for (const n of f.names) {
    const op = f.settled.get(n);
    const name = behaviorName(n);
    if (op) {
      const want = behaviorForFact(n, op);
      if (!have.has(name)) actions.push({ action: 'new', name, instruction: want.instruction });
      else if (have.get(name) !== want.instruction) actions.push({ action: 'update', name, instruction: want.instruction });
    } else if (have.has(name)) {
      // Drop a behavior whose stated operation this cluster's evidence excludes.
      const stated = readFacts(have.get(name)!).find((x) => x.positive && x.name === n);
      if (stated && f.excluded.get(n)?.has(stated.operation.id)) actions.push({ action: 'remove', name });
    }
  }
  for (const g of neededGeneric(f)) if (!have.has(g.name)) actions.push({ action: 'new', name: g.name, instruction: g.instruction });
  return { actions };
}
