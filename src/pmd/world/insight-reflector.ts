/**
 * The world's rule-based reflector, level 1 (insights, PMD-SPEC step 4): from one problem's
 * verified rollouts to `{strategies, lessons}`. Strategies come from successes (what each
 * procedure does, when the evidence pins it down, and the order of a chain); lessons come
 * from failures (the one rule the checked positions leave, operations the evidence rules
 * out, a missing answer line, a wrong number of symbols). With both kinds of rollout the
 * reply is contrastive; with one kind it holds only that kind.
 */
import type { InsightReply } from '../memory/types';
import { inferFromEvidence, uniqueCandidate, type ProblemEvidence } from './evidence';
import {
  ANSWER_LINE_LESSON,
  KEEP_LENGTH_LESSON,
  STEPWISE_STRATEGY,
  lessonOnlyFit,
  lessonRuledOut,
  strategyForFact,
  strategyForOrder,
  type TextItem,
} from './memory-text';

export const INSIGHT_LIMITS = { strategies: 3, lessons: 4, ruledOutPerName: 2 };

export function reflectInsights(e: ProblemEvidence): InsightReply {
  const inf = inferFromEvidence(e);
  const strategies: TextItem[] = [];
  const lessons: TextItem[] = [];
  if (e.successes.length) {
    for (const name of inf?.names ?? []) {
      const op = uniqueCandidate(inf!, name);
      if (op) strategies.push(strategyForFact(name, op));
    }
    const names = inf?.names ?? [];
    for (let i = 0; i + 1 < names.length; i++) strategies.push(strategyForOrder(names[i], names[i + 1]));
    if (strategies.length === 0) strategies.push(STEPWISE_STRATEGY);
  }
  if (e.failures.length && inf) {
    for (const name of inf.names) {
      const op = uniqueCandidate(inf, name);
      if (op && !e.successes.length) lessons.push(lessonOnlyFit(name, op));
      for (const o of inf.ruledOut.get(name)!.slice(0, INSIGHT_LIMITS.ruledOutPerName)) lessons.push(lessonRuledOut(name, o));
    }
    if (inf.missingAnswer) lessons.push(ANSWER_LINE_LESSON);
    if (inf.wrongLength) lessons.push(KEEP_LENGTH_LESSON);
  }
  return { strategies: strategies.slice(0, INSIGHT_LIMITS.strategies), lessons: lessons.slice(0, INSIGHT_LIMITS.lessons) };
}
