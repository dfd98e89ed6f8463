/**
 * Rollout and verify phases (PMD-SPEC steps 1 and 2): G attempts per problem from the student
 * without memory, generated in chunks of `rollout.chunk` sequences (each chunk one persisted
 * effect with its own seed), then verified one problem's group at a time.
 */
import type { RunContext } from '../context';
import { seedFor } from '../schedule';
import type { EffectResult, GenRequest } from '../state';
import type { Tx } from '../tx';
import type { PhaseLogic } from './phase';

export function rolloutId(step: number, problem: string, index: number): string {
  return `s${step}-${problem}-${index}`;
}

function requests(ctx: RunContext, tx: Tx): GenRequest[] {
  const w = tx.work;
  const G = tx.state.config.rolloutsPerProblem;
  return w.problems.flatMap((p) => Array.from({ length: G }, (_, g) => ({ key: rolloutId(w.step, p, g), prompt: ctx.prompt(p) })));
}

function issueChunk(ctx: RunContext, tx: Tx): void {
  const all = requests(ctx, tx);
  const done = tx.work.rollouts.length;
  if (done >= all.length) return;
  const c = tx.state.config;
  const chunk = all.slice(done, done + c.rollout.chunk);
  const r = c.rollout;
  tx.issue({
    kind: 'generate',
    id: tx.nextId(),
    purpose: 'rollout',
    requests: chunk,
    sampling: { temperature: r.temperature, topP: r.topP, topK: r.topK, maxNewTokens: r.maxNewTokens, seed: seedFor(c.seed, 'rollout', tx.work.step, Math.floor(done / r.chunk)) },
  });
}

export const rolloutPhase: PhaseLogic = {
  applies: () => true,
  begin: issueChunk,
  resume(ctx, tx, result: EffectResult) {
    if (result.kind !== 'generate') throw new Error(`rollout phase got a ${result.kind} result`);
    const effect = tx.state.pending;
    if (effect?.kind !== 'generate') throw new Error('rollout phase: no generation pending');
    tx.state.pending = null;
    for (const req of effect.requests) {
      const o = result.outputs[req.key];
      if (!o) throw new Error(`generation result lacks ${req.key}`);
      const [, problem, index] = /^s\d+-(.*)-(\d+)$/.exec(req.key)!;
      tx.work.rollouts.push({
        id: req.key,
        problem,
        index: Number(index),
        tokens: o.tokens,
        logprobs: o.logprobs,
        text: o.text,
        finish: o.finish,
        reward: null,
        feedback: null,
        answer: null,
        teacher: null,
        tokensView: null,
      });
    }
    issueChunk(ctx, tx);
  },
};

function issueVerify(tx: Tx): void {
  const todo = tx.work.rollouts.find((r) => r.reward === null);
  if (!todo) return;
  const group = tx.work.rollouts.filter((r) => r.problem === todo.problem && r.reward === null);
  tx.issue({ kind: 'verify', id: tx.nextId(), tests: 'train', items: group.map((r) => ({ key: r.id, task: r.problem, response: r.text })) });
}

export const verifyPhase: PhaseLogic = {
  applies: () => true,
  begin: (_ctx, tx) => issueVerify(tx),
  resume(_ctx, tx, result) {
    if (result.kind !== 'verify') throw new Error(`verify phase got a ${result.kind} result`);
    const effect = tx.state.pending;
    if (effect?.kind !== 'verify') throw new Error('verify phase: no verification pending');
    tx.state.pending = null;
    for (const it of effect.items) {
      const v = result.verdicts[it.key];
      if (!v) throw new Error(`verification result lacks ${it.key}`);
      const r = tx.work.rollouts.find((x) => x.id === it.key)!;
      r.reward = v.reward;
      r.feedback = v.feedback;
      r.answer = v.answer;
    }
    issueVerify(tx);
  },
};
