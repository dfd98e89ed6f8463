/**
 * An approximation of the default PMD run on the world model, to check that the world makes
 * the method's effect reachable on a CPU (the real loop lives elsewhere and is not used here):
 *
 *   per step: B train problems x G rollouts of the current student (LoRA, temperature 1),
 *   the text checker, experience + insights by the rule reflector, behaviors consolidated
 *   every K steps (k-means over question embeddings), one teacher context per rollout
 *   (buildTeacherContext: this problem's insights, the top behaviors, a successful sibling or
 *   else a stored success, feedback when there is no solution), and one top-k distillation
 *   step (Trainer, EMA teacher over the adapter) on the student's own response tokens.
 *   Rollouts whose context adds nothing are masked (left out) and counted.
 *
 * Reports held-out memory-free accuracy (greedy and avg@n) before and after, and the time.
 *
 *   npx tsx scripts/world/approx-pmd.ts [model dir] [--steps 30] [--batch 8] [--group 4] [--lr 1e-3] ...
 */
import { NodeFolderSource } from '../../src/engine/models/node-source';
import { openModel } from '../../src/engine/models/open-model';
import { loadTokenizer } from '../../src/engine/models/tokenizer';

import { LORA_TARGETS, padTokenIdOf } from '../../src/engine/models/types';
import { userPromptIds } from '../../src/engine/runtime/chat';
import { ModelRunner } from '../../src/engine/runtime/model-runner';
import { nodeCpuBackend } from '../../src/engine/runtime/node-backend';
import type { TrainSample } from '../../src/engine/train/batching';
import { initLoraState } from '../../src/engine/train/lora-state';
import { runnerWeightFeeds, Trainer } from '../../src/engine/train/trainer';
import { buildTeacherContext } from '../../src/pmd/reprompt';
import type { WorldTask } from '../../src/pmd/world/suite';
import { checkTextAnswer } from '../../src/pmd/world/text-answer';
import { hashSeed, Prng } from '../../src/util/prng';
import { HiddenStateEmbedder, topK } from './embedder';
import { consolidate, newRecord, recordRollouts, type WorldMemory } from './memory';
import { familyKind, type Accuracy } from './measure';
import { accuracyBy, complete, scoreTasks, type Policy } from './rollouts';

export interface ApproxSettings {
  steps: number;
  batch: number;
  group: number;
  lr: number;
  rank: number;
  alpha: number;
  topk: number;
  divergenceAlpha: number;
  emaTau: number;
  consolidateEvery: number;
  clusters: number;
  behaviors: number;
  evalSamples: number;
  seed: number;
}

export const APPROX_DEFAULTS: ApproxSettings = {
  steps: 30,
  batch: 8,
  group: 4,
  lr: 1e-3,
  rank: 8,
  alpha: 16,
  topk: 20,
  divergenceAlpha: 0.5,
  emaTau: 0.05,
  consolidateEvery: 5,
  clusters: 12,
  behaviors: 3,
  evalSamples: 4,
  seed: 0,
};

export interface ApproxResult {
  settings: ApproxSettings;
  before: { greedy: Accuracy; avg: Accuracy };
  after: { greedy: Accuracy; avg: Accuracy };
  masked: number;
  rollouts: number;
  rolloutAccuracy: number[];
  loopSeconds: number;
}

async function heldOut(policy: Policy, test: readonly WorldTask[], s: ApproxSettings) {
  return {
    greedy: accuracyBy(await scoreTasks(policy, test, 1, { temperature: 0 }), familyKind),
    avg: accuracyBy(await scoreTasks(policy, test, s.evalSamples, { temperature: 1, seed: s.seed + 7 }), familyKind),
  };
}

export async function approximatePmd(dir: string, suite: readonly WorldTask[], settings: Partial<ApproxSettings> = {}, log: (m: string) => void = console.log): Promise<ApproxResult> {
  const s = { ...APPROX_DEFAULTS, ...settings };
  const ck = await openModel(new NodeFolderSource(dir));
  const cfg = ck.config;
  const tok = loadTokenizer(ck.tokenizerJson, ck.tokenizerConfig, { vocabSize: cfg.vocabSize });
  const backend = nodeCpuBackend();
  const runner = new ModelRunner(cfg, backend);
  await runner.loadWeights(ck.weights);
  const policy = { runner, tok };
  const embedder = new HiddenStateEmbedder(runner, tok);
  const train = suite.filter((t) => t.split === 'train');
  const test = suite.filter((t) => t.split === 'test');
  const before = await heldOut(policy, test, s);
  log(`before: greedy ${before.greedy.all.acc.toFixed(3)} avg@${s.evalSamples} ${before.avg.all.acc.toFixed(3)}`);

  const trainer = await Trainer.create({
    backend,
    config: cfg,
    weights: runnerWeightFeeds(runner),
    state: initLoraState(cfg, { r: s.rank, alpha: s.alpha, targetModules: [...LORA_TARGETS], useRslora: false }, s.seed),
    padId: padTokenIdOf(cfg),
    teacher: 'ema',
    emaTau: s.emaTau,
    optimizer: { lr: s.lr },
  });
  const emb = await embedder.embed(train.map((t) => t.problem));
  const memory: WorldMemory = { problems: train.map((t, i) => newRecord(t, emb[i])), behaviors: [] };
  const seen = new Set<number>();
  const rng = new Prng(hashSeed(s.seed, 'approx-pmd'));
  let order: number[] = [];
  let masked = 0;
  let rollouts = 0;
  const rolloutAccuracy: number[] = [];
  const t0 = performance.now();
  for (let step = 1; step <= s.steps; step++) {
    const ts = performance.now();
    const picks: number[] = [];
    while (picks.length < s.batch) {
      if (!order.length) {
        order = train.map((_, i) => i);
        for (let i = order.length - 1; i > 0; i--) {
          const j = Math.floor(rng.next() * (i + 1));
          [order[i], order[j]] = [order[j], order[i]];
        }
      }
      picks.push(order.pop()!);
    }
    runner.setAdapter(await trainer.exportAdapter());
    const done = await complete(policy, picks.flatMap((i) => Array.from({ length: s.group }, () => train[i].problem)), { temperature: 1, seed: s.seed * 1000 + step * 97 });
    runner.setAdapter(null);
    const groups = picks.map((i, g) => {
      const mine = done.slice(g * s.group, (g + 1) * s.group);
      const checks = mine.map((c) => checkTextAnswer(train[i].answer.value, c.text));
      recordRollouts(memory.problems[i], { responses: mine.map((c) => c.text), rewards: checks.map((c) => c.reward), feedback: checks.map((c) => c.feedback) });
      seen.add(i);
      return { i, mine, checks };
    });
    const rewards = groups.flatMap((g) => g.checks.map((c) => c.reward));
    rolloutAccuracy.push(rewards.reduce((a, b) => a + b, 0) / rewards.length);
    if (step === 1 || step % s.consolidateEvery === 0) {
      await consolidate(memory, [...seen].map((i) => memory.problems[i]), embedder, { clusters: s.clusters, seed: s.seed + step, coldBelow: 12, retrieve: 8 });
    }
    const samples: TrainSample[] = [];
    for (const { i, mine, checks } of groups) {
      const rec = memory.problems[i];
      const behaviors = topK(rec.embedding, memory.behaviors.map((b) => b.embedding), s.behaviors).map((k) => memory.behaviors[k]);
      for (let r = 0; r < mine.length; r++) {
        const sibling = mine.findIndex((c, j) => j !== r && checks[j].reward >= 0.5 && c.text !== mine[r].text);
        const stored = rec.successes.find((x) => x.response !== mine[r].text);
        const solution = sibling >= 0 ? { id: `sibling-${sibling}`, text: mine[sibling].text } : stored ? { id: 'stored', text: stored.response } : null;
        const failed = checks[r].reward < 0.5 ? r : checks.findIndex((c) => c.reward < 0.5);
        const feedback = !solution && failed >= 0 ? { id: `feedback-${failed}`, text: checks[failed].feedback } : null;
        const ctx = buildTeacherContext({
          problem: rec.task.problem,
          strategies: rec.insights.strategies.map((x, k) => ({ id: `s${k}`, ...x })),
          lessons: rec.insights.lessons.map((x, k) => ({ id: `l${k}`, ...x })),
          behaviors,
          solution,
          feedback,
        });
        rollouts++;
        if (ctx.empty || mine[r].replyIds.length === 0) {
          masked++;
          continue;
        }
        const teacherPrompt = await userPromptIds(tok, ctx.text);
        samples.push({
          ids: [...mine[r].promptIds, ...mine[r].replyIds],
          response_start: mine[r].promptIds.length,
          teacher_ids: [...teacherPrompt, ...mine[r].replyIds],
          teacher_response_start: teacherPrompt.length,
        });
      }
    }
    const res = samples.length ? await trainer.step(samples, { kind: 'distill', alpha: s.divergenceAlpha, topk: s.topk }) : null;
    log(`step ${step}: rollout acc ${rolloutAccuracy[step - 1].toFixed(2)}, ${samples.length} samples, loss ${res?.loss.toFixed(4) ?? '-'}, behaviors ${memory.behaviors.length}, ${((performance.now() - ts) / 1000).toFixed(1)} s`);
  }
  const loopSeconds = (performance.now() - t0) / 1000;
  runner.setAdapter(await trainer.exportAdapter());
  const after = await heldOut(policy, test, s);
  log(`after: greedy ${after.greedy.all.acc.toFixed(3)} avg@${s.evalSamples} ${after.avg.all.acc.toFixed(3)} (loop ${loopSeconds.toFixed(0)} s)`);
  await trainer.release();
  await embedder.release();
  await runner.release();
  return { settings: s, before, after, masked, rollouts, rolloutAccuracy, loopSeconds };
}
