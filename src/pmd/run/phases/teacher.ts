/**
 * Teacher phase (PMD-SPEC step 6): each rollout's teacher context, with the memory levels the
 * config shows. Memory written in this step (experience, insight) is visible; behaviors are
 * the bank as of the last consolidation. The solution block is a successful sibling (never the
 * rollout itself; chosen by seed) or, with experience memory, a stored success; the feedback
 * block is the rollout's own verifier feedback when it failed (SDPO: only when no solution is
 * shown). A rollout whose context adds nothing beyond the problem is masked out of the loss.
 * GRPO has no teacher; a frozen policy needs none.
 */
import type { Behavior } from '../../memory/types';
import { buildTeacherContext } from '../../reprompt';
import { Prng } from '../../../util/prng';
import type { RunContext } from '../context';
import { policyFrozen } from '../rules';
import { seedFor } from '../schedule';
import type { Rollout, RunState } from '../state';
import { lexicalWeightOf, retrieveBehaviors } from '../retrieval';
import type { Tx } from '../tx';
import type { PhaseLogic } from './phase';

function wantsQueries(s: RunState): boolean {
  const c = s.config;
  return c.behavior.retrieveWithFeedback && c.memoryLevels.includes('behavior') && s.memory.behaviors.length > 0;
}

/** The query a rollout retrieves behaviors with: its question, plus its feedback when configured. */
const queryText = (ctx: RunContext, r: Rollout) => `${ctx.prompt(r.problem)}\n${r.feedback ?? ''}`;

function solutionFor(s: RunState, r: Rollout, group: Rollout[]): { id: string; text: string } | null {
  const c = s.config;
  const ok = group.filter((x) => x.id !== r.id && (x.reward ?? 0) >= c.teacher.successThreshold);
  if (ok.length) {
    const pick = ok[Math.floor(new Prng(seedFor(c.seed, 'solution', r.id)).next() * ok.length)];
    return { id: pick.id, text: pick.text };
  }
  if (c.variant === 'sdpo' || !c.memoryLevels.includes('experience')) return null;
  const stored = (s.memory.problems[r.problem]?.experience ?? []).filter((x) => x.kind === 'success' && x.id !== r.id);
  const last = stored[stored.length - 1];
  return last ? { id: last.id, text: last.response } : null;
}

export function buildContexts(ctx: RunContext, s: RunState, queries: Record<string, number[]> | null): void {
  const c = s.config;
  const w = s.work!;
  const levels = new Set(c.memoryLevels);
  const showExperience = c.variant === 'sdpo' || levels.has('experience');
  for (const r of w.rollouts) {
    const group = w.rollouts.filter((x) => x.problem === r.problem);
    const pm = s.memory.problems[r.problem];
    const insights = levels.has('insight') ? pm?.insights ?? [] : [];
    let behaviors: Behavior[] = [];
    if (levels.has('behavior') && s.memory.behaviors.length > 0 && c.behavior.retrieveK > 0) {
      const withFeedback = queries?.[r.id];
      const q = withFeedback ?? pm?.question?.embedding;
      const text = withFeedback ? queryText(ctx, r) : ctx.prompt(r.problem);
      if (q) behaviors = retrieveBehaviors(s.memory, { vector: q, text }, c.behavior.retrieveK, lexicalWeightOf(c));
    }
    const solution = showExperience ? solutionFor(s, r, group) : null;
    const failed = (r.reward ?? 0) < c.teacher.successThreshold;
    const feedback = showExperience && failed && r.feedback && (c.teacher.feedback === 'always' || !solution) ? { id: r.id, text: r.feedback } : null;
    const t = buildTeacherContext({
      problem: ctx.prompt(r.problem),
      strategies: insights.filter((x) => x.kind === 'strategy'),
      lessons: insights.filter((x) => x.kind === 'lesson'),
      behaviors,
      solution,
      feedback,
      maxBlockChars: c.teacher.maxBlockChars,
    });
    r.teacher = { text: t.text, blocks: t.blocks, empty: t.empty, masked: t.empty };
  }
}

export const teacherPhase: PhaseLogic = {
  applies: (s) => s.config.variant !== 'grpo' && !policyFrozen(s),
  begin(ctx, tx) {
    const s = tx.state;
    if (wantsQueries(s)) {
      const items = tx.work.rollouts.filter((r) => r.feedback).map((r) => ({ key: r.id, text: queryText(ctx, r) }));
      if (items.length) {
        tx.issue({ kind: 'embed', id: tx.nextId(), items });
        return;
      }
    }
    buildContexts(ctx, s, null);
  },
  resume(ctx, tx, result) {
    if (result.kind !== 'embed') throw new Error(`teacher phase got a ${result.kind} result`);
    tx.state.pending = null;
    buildContexts(ctx, tx.state, result.vectors);
  },
};
