/**
 * The world's rule reflector in the loop's terms: the evidence a reflect effect carries in,
 * the same JSON replies a model reflector writes out. Registered under WORLD_REFLECTOR (the
 * name every task of the world's suite carries in meta.reflector) by ./register.ts.
 */
import type { BehaviorEvidence, RuleReflector } from '../reflect/reflectors';
import { reflectBehaviorsCold, reflectBehaviorsEvolve, type ClusterProblem } from './behavior-reflector';
import { reflectInsights } from './insight-reflector';
import { WORLD_REFLECTOR } from './suite';

/** A behavior-evidence problem as the behavior reflector reads it (insight texts are "title: content"). */
function clusterProblem(p: BehaviorEvidence['problems'][number]): ClusterProblem {
  const insights = [...p.strategies, ...p.lessons].map((text) => ({ title: '', content: text }));
  return { problem: p.question, insights, evidence: { problem: p.question, successes: p.successes.map((response) => ({ response })), failures: [] } };
}

export const worldRuleReflector: RuleReflector = {
  name: WORLD_REFLECTOR,
  insight: (e) => reflectInsights({ problem: e.question, successes: e.successes.map((response) => ({ response })), failures: e.failures }),
  behaviorCold: (e) => reflectBehaviorsCold(e.problems.map(clusterProblem)),
  behaviorEvolve: (e) => reflectBehaviorsEvolve(e.problems.map(clusterProblem), e.existing),
};
