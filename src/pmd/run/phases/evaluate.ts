/**
 * Evaluate phase (PMD-SPEC "Evaluation"): at the configured cadence and after the last step,
 * n samples per problem of the evaluation split (at most `eval.maxProblems`, in suite order),
 * generated memory-free by the student, or, for the frozen policy (or when asked), with memory
 * in the prompt: the strategies and lessons of the nearest train problems and the top-K
 * behaviors, laid out as in the teacher's context. Verified against all of a task's tests.
 */
import { compact } from '../../embed/vectors';
import { evalMetrics } from '../../eval/metrics';
import { evaluatesWithMemory } from '../../config';
import { buildTeacherContext } from '../../reprompt';
import { splitIds, type RunContext } from '../context';
import { evaluationDue } from '../rules';
import { seedFor } from '../schedule';
import type { MemoryState } from '../../memory/types';
import type { EvalResult, RunState } from '../state';
import type { Tx } from '../tx';
import { lexicalWeightOf, nearestProblems, retrieveBehaviors } from '../retrieval';
import type { PhaseLogic } from './phase';

/** Train problems whose insights an evaluation prompt shows. */
const NEAREST_PROBLEMS = 2;

export interface MemoryPromptOptions {
  levels: readonly string[];
  retrieveK: number;
  maxBlockChars: number;
  /** `retrieval.lexicalWeight`: share of the ranking from word matching. */
  lexicalWeight: number;
}

export const memoryPromptOptions = (c: RunState['config']): MemoryPromptOptions => ({ levels: c.memoryLevels, retrieveK: c.behavior.retrieveK, maxBlockChars: c.teacher.maxBlockChars, lexicalWeight: lexicalWeightOf(c) });

/**
 * The prompt of a problem with memory in context (the plain prompt when memory has nothing for
 * it): insights of the nearest train problems and the top-K behaviors for the question (its
 * embedding `query` and its text `plain`; retrieval.ts).
 */
export function memoryPrompt(memory: MemoryState, o: MemoryPromptOptions, plain: string, query: number[] | undefined): string {
  if (!query) return plain;
  const levels = new Set(o.levels);
  const q = { vector: query, text: plain };
  const near = levels.has('insight') ? nearestProblems(memory, q, NEAREST_PROBLEMS, o.lexicalWeight) : [];
  const insights = near.flatMap((p) => memory.problems[p].insights);
  const behaviors = levels.has('behavior') ? retrieveBehaviors(memory, q, o.retrieveK, o.lexicalWeight) : [];
  const t = buildTeacherContext({
    problem: plain,
    strategies: insights.filter((x) => x.kind === 'strategy'),
    lessons: insights.filter((x) => x.kind === 'lesson'),
    behaviors,
    maxBlockChars: o.maxBlockChars,
  });
  return t.empty ? plain : t.text;
}

const sampleKey = (id: string, j: number) => `${id}#${j}`;

function requests(tx: Tx) {
  const e = tx.work.eval!;
  const n = tx.state.config.eval.n;
  return e.ids.flatMap((id) => Array.from({ length: n }, (_, j) => ({ key: sampleKey(id, j), id })));
}

function issueNext(ctx: RunContext, tx: Tx): void {
  const e = tx.work.eval!;
  const c = tx.state.config;
  const all = requests(tx);
  if (e.finished >= all.length) return finish(tx);
  const chunk = all.slice(e.finished, e.finished + c.rollout.chunk);
  // One prompt per problem, shared by its n samples (retrieval runs once per problem).
  const prompts = new Map<string, string>();
  const promptOf = (id: string) => {
    let p = prompts.get(id);
    if (p === undefined) prompts.set(id, (p = e.withMemory ? memoryPrompt(tx.state.memory, memoryPromptOptions(c), ctx.prompt(id), e.queries?.[id]) : ctx.prompt(id)));
    return p;
  };
  tx.issue({
    kind: 'generate',
    id: tx.nextId(),
    purpose: 'eval',
    requests: chunk.map((r) => ({ key: r.key, prompt: promptOf(r.id) })),
    sampling: { temperature: c.eval.temperature, topP: 1, topK: 0, maxNewTokens: c.rollout.maxNewTokens, seed: seedFor(c.seed, 'eval', tx.work.step, Math.floor(e.finished / c.rollout.chunk)) },
  });
}

function finish(tx: Tx): void {
  const e = tx.work.eval!;
  const c = tx.state.config;
  const problems = e.ids.map((id) => ({ id, samples: e.done[id] ?? [] }));
  const m = evalMetrics(problems.map((p) => p.samples), c.eval.k);
  const result: EvalResult = { step: tx.work.step, split: c.eval.split, withMemory: e.withMemory, n: c.eval.n, k: c.eval.k, ...m, problems };
  tx.work.evalResult = result;
  tx.log({ kind: 'eval', eval: result });
}

export const evaluatePhase: PhaseLogic = {
  applies: (s) => evaluationDue(s),
  begin(ctx, tx) {
    const s = tx.state;
    const c = s.config;
    const all = splitIds(ctx, c.eval.split);
    const ids = c.eval.maxProblems > 0 ? all.slice(0, c.eval.maxProblems) : [...all];
    const withMemory = evaluatesWithMemory(c) && (s.memory.behaviors.length > 0 || Object.keys(s.memory.problems).length > 0);
    tx.work.eval = { ids, withMemory, done: {}, finished: 0, generated: null, queries: null };
    if (ids.length === 0) return finish(tx);
    if (withMemory) {
      tx.issue({ kind: 'embed', id: tx.nextId(), items: ids.map((id) => ({ key: id, text: ctx.prompt(id) })) });
      return;
    }
    issueNext(ctx, tx);
  },
  resume(ctx, tx, result) {
    const pending = tx.state.pending!;
    tx.state.pending = null;
    const e = tx.work.eval!;
    if (result.kind === 'embed') {
      e.queries = Object.fromEntries(Object.entries(result.vectors).map(([k, v]) => [k, compact(v)]));
      return issueNext(ctx, tx);
    }
    if (result.kind === 'generate') {
      if (pending.kind !== 'generate') throw new Error('evaluate phase: no generation pending');
      e.generated = pending.requests.map((r) => ({ key: r.key, text: result.outputs[r.key]?.text ?? '' }));
      tx.issue({ kind: 'verify', id: tx.nextId(), tests: 'all', items: e.generated.map((g) => ({ key: g.key, task: g.key.slice(0, g.key.lastIndexOf('#')), response: g.text })) });
      return;
    }
    if (result.kind !== 'verify') throw new Error(`evaluate phase got a ${result.kind} result`);
    for (const g of e.generated ?? []) {
      const v = result.verdicts[g.key];
      if (!v) throw new Error(`verification result lacks ${g.key}`);
      const id = g.key.slice(0, g.key.lastIndexOf('#'));
      (e.done[id] ??= []).push({ text: g.text, answer: v.answer, reward: v.reward });
    }
    e.finished += e.generated?.length ?? 0;
    e.generated = null;
    issueNext(ctx, tx);
  },
};
