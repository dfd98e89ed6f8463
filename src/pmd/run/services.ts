/**
 * What effects need from the outside world, and how each effect is carried out with it. The CLI
 * and the browser worker build a `LoopServices` (a Policy over their runtime, the verifier over
 * their sandbox, a reflector and an embedder) and share `runEffect`.
 */
import type { Policy } from '../../engine/policy';
import type { TrainSample } from '../../engine/train/batching';
import type { ReflectorName } from '../memory/types';
import type { Effect, EffectResult, ReflectRequest } from './state';

export interface Verdict {
  reward: number;
  feedback: string;
  answer: string | null;
}

export interface EffectProgress {
  /** What is being done, in words. */
  what: string;
  done: number;
  total: number;
}

export interface LoopServices {
  policy: Policy;
  /** Verify responses to tasks of the run's suite (`tests`: the training tests, or all of them). */
  verify(items: { key: string; task: string; response: string }[], tests: 'train' | 'all'): Promise<Record<string, Verdict>>;
  /** Unit-length embeddings of texts. */
  embed(texts: string[]): Promise<number[][]>;
  /** A reflection: the reflector's reply text and who wrote it. */
  reflect(effect: Extract<Effect, { kind: 'reflect' }>): Promise<{ text: string; reflector: ReflectorName }>;
  /** Several reflections in one go (the policy reflector batches its generation); without it, one at a time. */
  reflectBatch?(requests: ReflectRequest[]): Promise<{ text: string; reflector: ReflectorName }[]>;
}

export interface EffectHooks {
  onProgress?: (p: EffectProgress) => void;
  shouldStop?: () => boolean;
  /** Keep the trainer's checkpoint of a version; called before a training step's result is returned. */
  saveTrainer(version: number, bytes: Uint8Array): Promise<void>;
}

/** Diagnostic outputs of a distillation step, by our names. */
const DIAG = { studentLogp: 'student_logp', teacherLogp: 'teacher_logp', divergence: 'token_divergence' } as const;

export async function runEffect(svc: LoopServices, effect: Effect, hooks: EffectHooks): Promise<EffectResult> {
  const onProgress = hooks.onProgress ?? (() => undefined);
  const shouldStop = hooks.shouldStop;
  switch (effect.kind) {
    case 'generate': {
      const prompts: number[][] = [];
      for (const r of effect.requests) prompts.push(await svc.policy.promptIds(r.prompt));
      const total = effect.sampling.maxNewTokens;
      const res = await svc.policy.generate(prompts, {
        ...effect.sampling,
        adapter: 'student',
        shouldStop,
        onToken: (step) => onProgress({ what: `${effect.purpose === 'eval' ? 'evaluation samples' : 'rollouts'}: ${effect.requests.length} sequences`, done: step + 1, total }),
      });
      const outputs: Extract<EffectResult, { kind: 'generate' }>['outputs'] = {};
      effect.requests.forEach((r, i) => {
        outputs[r.key] = { tokens: res.tokens[i], logprobs: res.logprobs[i], text: svc.policy.decode(res.tokens[i]), finish: res.finish[i] };
      });
      return { kind: 'generate', outputs };
    }
    case 'verify': {
      onProgress({ what: `verifying ${effect.items.length} responses`, done: 0, total: effect.items.length });
      return { kind: 'verify', verdicts: await svc.verify(effect.items, effect.tests) };
    }
    case 'embed': {
      onProgress({ what: `embedding ${effect.items.length} texts`, done: 0, total: effect.items.length });
      const vs = await svc.embed(effect.items.map((x) => x.text));
      return { kind: 'embed', vectors: Object.fromEntries(effect.items.map((x, i) => [x.key, vs[i]])) };
    }
    case 'reflect': {
      onProgress({ what: `reflecting (${effect.purpose})`, done: 0, total: 1 });
      const r = await svc.reflect(effect);
      return { kind: 'reflect', text: r.text, reflector: r.reflector };
    }
    case 'reflect-batch': {
      const n = effect.requests.length;
      onProgress({ what: `reflecting on ${n} problems together`, done: 0, total: n });
      const replies: Extract<EffectResult, { kind: 'reflect-batch' }>['replies'] = {};
      if (svc.reflectBatch) {
        const rs = await svc.reflectBatch(effect.requests);
        effect.requests.forEach((r, i) => (replies[r.key] = rs[i]));
      } else {
        for (const [i, r] of effect.requests.entries()) {
          replies[r.key] = await svc.reflect({ kind: 'reflect', id: `${effect.id}/${i}`, purpose: r.purpose, messages: r.messages, evidence: r.evidence, seed: r.seed });
          onProgress({ what: `reflecting on ${n} problems`, done: i + 1, total: n });
        }
      }
      return { kind: 'reflect-batch', replies };
    }
    case 'train': {
      const samples: TrainSample[] = [];
      for (const s of effect.samples) {
        const ids = await svc.policy.promptIds(s.prompt);
        const sample: TrainSample = { ids: [...ids, ...s.response], response_start: ids.length };
        if (s.teacher !== null) {
          const t = await svc.policy.promptIds(s.teacher);
          sample.teacher_ids = [...t, ...s.response];
          sample.teacher_response_start = t.length;
        }
        if (s.advantage !== undefined) sample.advantage = s.advantage;
        samples.push(sample);
      }
      const loss = effect.loss.kind === 'distill' ? { kind: 'distill' as const, alpha: effect.loss.alpha, topk: effect.loss.topk } : { kind: 'grpo' as const, clipEps: effect.loss.clipEps };
      const r = await svc.policy.trainStep(samples, loss, (p) => onProgress({ what: `training step: ${p.phase}`, done: p.microBatch + 1, total: p.microBatches }));
      await hooks.saveTrainer(effect.version, await svc.policy.snapshot());
      const diagnostics: Extract<EffectResult, { kind: 'train' }>['diagnostics'] = {};
      if (effect.loss.kind === 'distill') {
        effect.samples.forEach((s, i) => {
          const row = (name: string) => (r.diagnostics[name]?.[i] ?? []).map((x) => Number(x.toPrecision(6)));
          diagnostics[s.key] = { studentLogp: row(DIAG.studentLogp), teacherLogp: row(DIAG.teacherLogp), divergence: row(DIAG.divergence) };
        });
      }
      return { kind: 'train', loss: r.loss, gradNorm: r.gradNorm, tokens: r.tokenCount, diagnostics };
    }
  }
}
