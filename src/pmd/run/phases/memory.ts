/**
 * The memory phases of a step (PMD-SPEC steps 3 to 5):
 *  - experience: embed the step's rollouts (and new questions), then apply the novelty gate
 *    and the bounds per problem;
 *  - insight: per problem of the batch with experience, one reflection (retried once when its
 *    JSON is unusable), the new items embedded and gated, appended; `reflector.batch` asks for
 *    several problems' reflections (and their retries) at once;
 *  - behavior: every K steps, cluster the questions seen, and per cluster one reflection
 *    (cold start below `coldStartBelow` behaviors, else an evolution of the nearest ones), the
 *    actions embedded and applied to the bank.
 */
import { clusterQuestions } from '../../cluster';
import { compact, topK } from '../../embed/vectors';
import { applyBehaviorActions, behaviorName, behaviorText } from '../../memory/behavior';
import { addExperience } from '../../memory/experience';
import { insightCandidates, insightText, mergeInsights } from '../../memory/insight';
import type { BehaviorAction, InsightReply, ItemSource, MemoryState, ProblemMemory, ReflectorName } from '../../memory/types';
import { parseBehaviorColdReply, parseBehaviorEvolveReply, parseInsightReply } from '../../reflect/parse';
import { behaviorPrompt, insightPrompt } from '../../reflect/prompts';
import type { RunContext } from '../context';
import { consolidationDue, memoryFrozen, usesMemory } from '../rules';
import { seedFor } from '../schedule';
import type { EffectResult, ReflectEvidence, ReflectionRecord, ReflectRequest, RunState } from '../state';
import type { Tx } from '../tx';
import type { PhaseLogic } from './phase';

/** A rollout's response as the embedder sees it. */
const EMBED_CHARS = 2000;

function problemMemory(s: RunState, id: string): ProblemMemory {
  return (s.memory.problems[id] ??= { experience: [], insights: [] });
}

const memoryOpen = (s: RunState) => usesMemory(s.config) && !memoryFrozen(s);

// ---------------------------------------------------------------------------------------------
// experience

export const experiencePhase: PhaseLogic = {
  applies: memoryOpen,
  begin(ctx, tx) {
    const s = tx.state;
    const items = tx.work.rollouts.map((r) => ({ key: r.id, text: r.text.slice(0, EMBED_CHARS) }));
    for (const p of tx.work.problems) if (!s.memory.problems[p]?.question) items.push({ key: `q:${p}`, text: ctx.prompt(p) });
    tx.issue({ kind: 'embed', id: tx.nextId(), items });
  },
  resume(ctx, tx, result) {
    if (result.kind !== 'embed') throw new Error(`experience phase got a ${result.kind} result`);
    tx.state.pending = null;
    const s = tx.state;
    const c = s.config;
    for (const p of tx.work.problems) {
      const q = result.vectors[`q:${p}`];
      const pm = problemMemory(s, p);
      if (q) pm.question = { text: ctx.prompt(p), embedding: compact(q) };
      const candidates = tx.work.rollouts
        .filter((r) => r.problem === p)
        .map((r) => ({
          id: r.id,
          kind: (r.reward ?? 0) >= c.teacher.successThreshold ? ('success' as const) : ('failure' as const),
          response: r.text,
          reward: r.reward ?? 0,
          feedback: r.feedback ?? '',
          embedding: compact(result.vectors[r.id] ?? []),
        }));
      const { memory, events } = addExperience(pm, candidates, c.experience, { step: tx.work.step }, p);
      s.memory.problems[p] = memory;
      for (const event of events) tx.log({ kind: 'memory-event', event });
    }
  },
};

// ---------------------------------------------------------------------------------------------
// reflection bookkeeping shared by insight and behavior

function startReflection(tx: Tx, purpose: ReflectionRecord['purpose'], id: string, problems: string[], evidence: ReflectEvidence): void {
  beginDraft(tx, purpose, id, problems);
  issueReflect(tx, evidence);
}

function beginDraft(tx: Tx, purpose: ReflectionRecord['purpose'], id: string, problems: string[]): void {
  const w = tx.work;
  w.attempt = 1;
  w.reflectionDraft = { id, step: w.step, purpose, problems, reflector: 'policy', attempts: [], status: 'failed', reply: null };
}

const reflectSeed = (tx: Tx, id: string, attempt: number) => seedFor(tx.state.config.seed, 'reflect', id, attempt);

function issueReflect(tx: Tx, evidence: ReflectEvidence): void {
  const d = tx.work.reflectionDraft!;
  const messages = evidence.purpose === 'insight' ? insightPrompt(evidence) : behaviorPrompt(evidence);
  tx.issue({ kind: 'reflect', id: tx.nextId(), purpose: d.purpose, messages, evidence, seed: reflectSeed(tx, d.id, tx.work.attempt) });
}

/** Record one attempt's outcome; returns the parsed value, or null after retrying (or giving up). */
function takeAttempt<T>(tx: Tx, text: string, reflector: ReflectorName, parsed: ReturnType<typeof parseInsightReply> | { ok: false; error: string } | { ok: true; value: T; repaired: boolean; dropped: { item: string; reason: string }[] }): T | null {
  const d = tx.work.reflectionDraft!;
  d.reflector = reflector;
  if (parsed.ok) {
    d.attempts.push({ text, status: parsed.repaired ? 'repaired' : 'ok', error: parsed.dropped.length ? `dropped ${parsed.dropped.map((x) => `${x.item} (${x.reason})`).join('; ')}` : undefined });
    d.status = parsed.repaired ? 'repaired' : 'ok';
    d.reply = parsed.value as ReflectionRecord['reply'];
    return parsed.value as T;
  }
  d.attempts.push({ text, status: 'invalid', error: parsed.error });
  return null;
}

function finishReflection(tx: Tx): void {
  const d = tx.work.reflectionDraft;
  if (d) tx.log({ kind: 'reflection', reflection: d });
  tx.work.reflectionDraft = null;
  tx.work.queue.shift();
  tx.work.attempt = 0;
}

// ---------------------------------------------------------------------------------------------
// insight

function insightEvidence(s: RunState, tx: Tx, ctx: RunContext, p: string): ReflectEvidence {
  const pm = problemMemory(s, p);
  const group = tx.work.rollouts.filter((r) => r.problem === p);
  return {
    purpose: 'insight',
    problem: p,
    question: ctx.prompt(p),
    successes: pm.experience.filter((x) => x.kind === 'success').map((x) => x.response),
    failures: pm.experience.filter((x) => x.kind === 'failure').map((x) => ({ response: x.response, feedback: x.feedback })),
    correct: group.filter((r) => (r.reward ?? 0) >= s.config.teacher.successThreshold).length,
    total: group.length,
  };
}

const insightId = (tx: Tx, p: string) => `r${tx.work.step}-${p}`;

/** Reflections asked for together (`reflector.batch`; 1 for runs stored before the setting). */
const batchSize = (s: RunState) => s.config.reflector.batch ?? 1;

/** Key of a reflection attempt's reply in `work.prefetched`. */
const attemptKey = (id: string, attempt: number) => `${id}#${attempt}`;

function takePrefetched(tx: Tx, id: string, attempt: number): { text: string; reflector: ReflectorName } | undefined {
  const key = attemptKey(id, attempt);
  const r = tx.work.prefetched?.[key];
  if (r) delete tx.work.prefetched![key];
  return r;
}

function insightRequest(tx: Tx, id: string, evidence: ReflectEvidence, attempt: number): ReflectRequest {
  if (evidence.purpose !== 'insight') throw new Error('insight evidence expected');
  return { key: attemptKey(id, attempt), purpose: 'insight', messages: insightPrompt(evidence), evidence, seed: reflectSeed(tx, id, attempt) };
}

/**
 * Reflect on the head of the queue. Its first attempt comes from a batch asked for earlier when
 * there is one; otherwise, with `reflector.batch` above 1, the first attempts of the next
 * problems of the queue are asked for together (their evidence does not change while the
 * queue is worked through: it is the experience of this step), and a single reflection else.
 * Every attempt keeps the seed it has one at a time, so the records are the same either way.
 */
function nextInsight(ctx: RunContext, tx: Tx): void {
  const p = tx.work.queue[0];
  if (p === undefined) {
    delete tx.work.prefetched;
    return;
  }
  const id = insightId(tx, p);
  const pre = takePrefetched(tx, id, 1);
  if (pre) {
    beginDraft(tx, 'insight', id, [p]);
    return onInsightReply(ctx, tx, pre.text, pre.reflector, insightEvidence(tx.state, tx, ctx, p));
  }
  const n = Math.min(batchSize(tx.state), tx.work.queue.length);
  if (n > 1) {
    const requests = tx.work.queue.slice(0, n).map((q) => insightRequest(tx, insightId(tx, q), insightEvidence(tx.state, tx, ctx, q), 1));
    tx.issue({ kind: 'reflect-batch', id: tx.nextId(), requests });
    return;
  }
  startReflection(tx, 'insight', id, [p], insightEvidence(tx.state, tx, ctx, p));
}

/** One attempt's reply for the head of the queue: retry once when unusable, else embed its new items. */
function onInsightReply(ctx: RunContext, tx: Tx, text: string, reflector: ReflectorName, evidence: ReflectEvidence): void {
  const d = tx.work.reflectionDraft!;
  const reply = takeAttempt<InsightReply>(tx, text, reflector, parseInsightReply(text));
  if (!reply) {
    if (tx.work.attempt < 2) {
      tx.work.attempt++;
      const pre = takePrefetched(tx, d.id, tx.work.attempt);
      if (pre) return onInsightReply(ctx, tx, pre.text, pre.reflector, evidence);
      issueReflect(tx, evidence);
      return;
    }
    finishReflection(tx);
    return nextInsight(ctx, tx);
  }
  const items = insightCandidates(reply, d.id);
  if (items.length === 0) {
    finishReflection(tx);
    return nextInsight(ctx, tx);
  }
  tx.issue({ kind: 'embed', id: tx.nextId(), items: items.map((x) => ({ key: x.id, text: insightText(x) })) });
}

export const insightPhase: PhaseLogic = {
  applies: memoryOpen,
  begin(ctx, tx) {
    tx.work.queue = tx.work.problems.filter((p) => (tx.state.memory.problems[p]?.experience.length ?? 0) > 0);
    tx.work.prefetched = {};
    nextInsight(ctx, tx);
  },
  resume(ctx, tx, result: EffectResult) {
    const pending = tx.state.pending!;
    tx.state.pending = null;
    if (result.kind === 'reflect-batch') {
      if (pending.kind !== 'reflect-batch') throw new Error('insight phase: no reflection batch pending');
      tx.work.prefetched = { ...tx.work.prefetched, ...result.replies };
      // First attempts that cannot be used are retried together too (their second seeds).
      const retries = pending.requests
        .filter((r) => r.key.endsWith('#1') && !parseInsightReply(result.replies[r.key]?.text ?? '').ok)
        .map((r) => insightRequest(tx, r.key.slice(0, -2), r.evidence, 2));
      if (retries.length > 1) {
        tx.issue({ kind: 'reflect-batch', id: tx.nextId(), requests: retries });
        return;
      }
      return nextInsight(ctx, tx);
    }
    if (result.kind === 'reflect') {
      if (pending.kind !== 'reflect') throw new Error('insight phase: no reflection pending');
      return onInsightReply(ctx, tx, result.text, result.reflector, pending.evidence);
    }
    if (result.kind !== 'embed') throw new Error(`insight phase got a ${result.kind} result`);
    const d = tx.work.reflectionDraft!;
    const p = tx.work.queue[0];
    const s = tx.state;
    const vectors = Object.fromEntries(Object.entries(result.vectors).map(([k, v]) => [k, compact(v)]));
    const source: ItemSource = { step: tx.work.step, rollouts: tx.work.rollouts.filter((r) => r.problem === p).map((r) => r.id), reflection: d.id, reflector: d.reflector };
    const { memory, events } = mergeInsights(problemMemory(s, p), d.reply as InsightReply, vectors, s.config.insight, source, d.id, p);
    s.memory.problems[p] = memory;
    for (const event of events) tx.log({ kind: 'memory-event', event });
    finishReflection(tx);
    nextInsight(ctx, tx);
  },
};

// ---------------------------------------------------------------------------------------------
// behavior

/** Problems shown to the reflector per cluster (nearest its centre first). */
const MAX_CLUSTER_SUMMARIES = 12;

function behaviorEvidence(s: RunState, ctx: RunContext, cluster: { members: string[]; centroid: number[] }): ReflectEvidence {
  const cold = s.memory.behaviors.length < s.config.behavior.coldStartBelow;
  const shown = topK(cluster.centroid, cluster.members, (id) => s.memory.problems[id]?.question?.embedding ?? [], MAX_CLUSTER_SUMMARIES).map((x) => x.item);
  const problems = shown.map((id) => {
    const pm = s.memory.problems[id];
    return {
      id,
      question: ctx.prompt(id),
      strategies: (pm?.insights ?? []).filter((x) => x.kind === 'strategy').map((x) => `${x.title}: ${x.content}`),
      lessons: (pm?.insights ?? []).filter((x) => x.kind === 'lesson').map((x) => `${x.title}: ${x.content}`),
      successes: (pm?.experience ?? []).filter((x) => x.kind === 'success').map((x) => x.response),
    };
  });
  const existing = cold ? [] : topK(cluster.centroid, s.memory.behaviors, (b) => b.embedding, s.config.behavior.evolveShown).map(({ item }) => ({ name: item.name, instruction: item.instruction }));
  return { purpose: cold ? 'behavior-cold' : 'behavior-evolve', problems, existing };
}

function nextCluster(ctx: RunContext, tx: Tx): void {
  const head = tx.work.queue[0];
  if (head === undefined) {
    tx.state.memory.consolidations++;
    tx.state.memory.lastConsolidation = tx.work.step;
    return;
  }
  const cluster = tx.work.clusters![Number(head)];
  const evidence = behaviorEvidence(tx.state, ctx, cluster);
  startReflection(tx, evidence.purpose as ReflectionRecord['purpose'], `r${tx.work.step}-c${head}`, cluster.members, evidence);
}

function applyActions(tx: Tx, actions: BehaviorAction[], vectors: Record<string, number[]>): void {
  const s = tx.state;
  const head = Number(tx.work.queue[0]);
  const cluster = tx.work.clusters![head];
  const d = tx.work.reflectionDraft!;
  const source: ItemSource = { step: tx.work.step, rollouts: [], reflection: d.id, reflector: d.reflector };
  const { bank, events } = applyBehaviorActions(s.memory.behaviors, actions, vectors, s.config.behavior, { index: head, problems: cluster.members }, source);
  s.memory.behaviors = bank;
  for (const event of events) tx.log({ kind: 'memory-event', event });
}

export const behaviorPhase: PhaseLogic = {
  applies: (s) => memoryOpen(s) && s.work !== null && consolidationDue(s.config, s.work.step),
  begin(ctx, tx) {
    const s = tx.state;
    const ids = Object.keys(s.memory.problems)
      .filter((id) => {
        const pm = s.memory.problems[id];
        return pm.question && (pm.insights.length > 0 || pm.experience.length > 0);
      })
      .sort();
    const clusters = clusterQuestions(ids, ids.map((id) => s.memory.problems[id].question!.embedding), s.config.behavior.clusters, seedFor(s.config.seed, 'cluster', tx.work.step));
    tx.work.clusters = clusters.map((c) => ({ members: c.members, centroid: compact(c.centroid) }));
    tx.work.queue = clusters.map((_, i) => String(i));
    nextCluster(ctx, tx);
  },
  resume(ctx, tx, result) {
    const pending = tx.state.pending!;
    tx.state.pending = null;
    const d = tx.work.reflectionDraft!;
    if (result.kind === 'reflect') {
      const parsed = d.purpose === 'behavior-cold' ? parseBehaviorColdReply(result.text) : parseBehaviorEvolveReply(result.text);
      const value = takeAttempt<unknown>(tx, result.text, result.reflector, parsed);
      if (value === null) {
        if (tx.work.attempt < 2 && pending.kind === 'reflect') {
          tx.work.attempt++;
          issueReflect(tx, pending.evidence);
          return;
        }
        finishReflection(tx);
        return nextCluster(ctx, tx);
      }
      const actions: BehaviorAction[] = 'behaviors' in (value as object) ? (value as { behaviors: { name: string; instruction: string }[] }).behaviors.map((b) => ({ action: 'new' as const, ...b })) : (value as { actions: BehaviorAction[] }).actions;
      d.reply = d.purpose === 'behavior-cold' ? { behaviors: actions.map((a) => ({ name: a.name, instruction: 'instruction' in a ? a.instruction : '' })) } : { actions };
      const toEmbed = actions.filter((a) => a.action !== 'remove' && behaviorName(a.name));
      if (toEmbed.length === 0) {
        applyActions(tx, actions, {});
        finishReflection(tx);
        return nextCluster(ctx, tx);
      }
      tx.issue({
        kind: 'embed',
        id: tx.nextId(),
        items: toEmbed.map((a) => ({ key: `${a.action}:${behaviorName(a.name)}`, text: behaviorText(behaviorName(a.name)!, (a as { instruction: string }).instruction) })),
      });
      return;
    }
    if (result.kind !== 'embed') throw new Error(`behavior phase got a ${result.kind} result`);
    const reply = d.reply!;
    const actions: BehaviorAction[] = 'behaviors' in reply ? reply.behaviors.map((b) => ({ action: 'new' as const, ...b })) : (reply as { actions: BehaviorAction[] }).actions;
    applyActions(tx, actions, Object.fromEntries(Object.entries(result.vectors).map(([k, v]) => [k, compact(v)])));
    finishReflection(tx);
    nextCluster(ctx, tx);
  },
};
