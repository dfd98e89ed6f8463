/**
 * Update phase (PMD-SPEC steps 7 to 9): one optimizer step of the student. Distillation
 * variants train on every rollout that is not masked (its teacher context added something),
 * with the top-k divergence against the EMA teacher scoring the response under its context;
 * GRPO trains on every rollout with its group-normalised advantage. The trainer is checkpointed
 * under this step's number, and the state remembers that version.
 */
import { groupAdvantages } from '../../grpo';
import { policyFrozen } from '../rules';
import type { Effect } from '../state';
import type { PhaseLogic } from './phase';

export const updatePhase: PhaseLogic = {
  applies: (s) => !policyFrozen(s),
  begin(ctx, tx) {
    const c = tx.state.config;
    const w = tx.work;
    const masked = w.rollouts.filter((r) => r.teacher?.masked).length;
    let samples: Extract<Effect, { kind: 'train' }>['samples'];
    let loss: Extract<Effect, { kind: 'train' }>['loss'];
    if (c.variant === 'grpo') {
      loss = { kind: 'grpo', clipEps: c.loss.clipEps };
      samples = w.problems.flatMap((p) => {
        const group = w.rollouts.filter((r) => r.problem === p);
        const adv = groupAdvantages(group.map((r) => r.reward ?? 0));
        return group.map((r, i) => ({ key: r.id, prompt: ctx.prompt(r.problem), teacher: null, response: r.tokens, advantage: adv[i] }));
      });
    } else {
      loss = { kind: 'distill', alpha: c.loss.alpha, topk: c.loss.topk };
      samples = w.rollouts.filter((r) => r.teacher && !r.teacher.masked).map((r) => ({ key: r.id, prompt: ctx.prompt(r.problem), teacher: r.teacher!.text, response: r.tokens }));
    }
    samples = samples.filter((x) => x.response.length > 0);
    if (samples.length === 0) {
      w.update = { loss: null, gradNorm: null, tokens: 0, masked, trainerVersion: tx.state.trainerVersion };
      return;
    }
    w.update = { loss: null, gradNorm: null, tokens: 0, masked, trainerVersion: tx.state.trainerVersion };
    tx.issue({ kind: 'train', id: tx.nextId(), loss, samples, version: w.step });
  },
  resume(_ctx, tx, result) {
    if (result.kind !== 'train') throw new Error(`update phase got a ${result.kind} result`);
    const effect = tx.state.pending;
    if (effect?.kind !== 'train') throw new Error('update phase: no training step pending');
    tx.state.pending = null;
    const w = tx.work;
    for (const r of w.rollouts) {
      const d = result.diagnostics[r.id];
      if (d) r.tokensView = d;
    }
    w.update = { loss: result.loss, gradNorm: result.gradNorm, tokens: result.tokens, masked: w.update?.masked ?? 0, trainerVersion: effect.version };
    tx.state.trainerVersion = effect.version;
  },
};
