/**
 * Generation for the world scripts: user messages -> chat-templated prompt ids -> batched
 * sampling with the engine's `generate` -> decoded replies, and scoring of tasks with the
 * world's text checker.
 */
import type { TextTokenizer } from '../../src/engine/models/tokenizer';
import { stopTokenIds, userPromptIds } from '../../src/engine/runtime/chat';
import { generate } from '../../src/engine/runtime/generate';
import type { ModelRunner } from '../../src/engine/runtime/model-runner';
import { padTokenIdOf } from '../../src/engine/models/types';
import { checkTextAnswer } from '../../src/pmd/world/text-answer';
import type { WorldTask } from '../../src/pmd/world/suite';

export interface Policy {
  runner: ModelRunner;
  tok: TextTokenizer;
}

export interface CompleteOptions {
  /** 0: greedy. */
  temperature: number;
  seed: number;
  maxNewTokens: number;
  /** Prompts per generate() call. */
  batchSize: number;
}

export const COMPLETE_DEFAULTS: CompleteOptions = { temperature: 0, seed: 0, maxNewTokens: 96, batchSize: 32 };

export interface Completion {
  text: string;
  /** Prompt and reply token ids (the reply without anything after the end-of-turn token). */
  promptIds: number[];
  replyIds: number[];
}

export async function complete(p: Policy, messages: readonly string[], o: Partial<CompleteOptions> = {}): Promise<Completion[]> {
  const c = { ...COMPLETE_DEFAULTS, ...o };
  const eos = stopTokenIds(p.runner.cfg.eosTokenIds, p.tok);
  const out: Completion[] = [];
  for (let i = 0; i < messages.length; i += c.batchSize) {
    const prompts = await Promise.all(messages.slice(i, i + c.batchSize).map((m) => userPromptIds(p.tok, m)));
    const res = await generate(p.runner, prompts, {
      maxNewTokens: c.maxNewTokens,
      seed: c.seed + i,
      stopAtEos: true,
      eosTokenIds: eos,
      padTokenId: padTokenIdOf(p.runner.cfg),
      temperature: c.temperature,
      topP: 1,
      topK: 0,
    });
    res.tokens.forEach((t, j) => {
      const end = t.findIndex((x) => eos.includes(x));
      const replyIds = end >= 0 ? t.slice(0, end + 1) : t;
      out.push({ text: p.tok.decode(replyIds, { skipSpecialTokens: true }), promptIds: prompts[j], replyIds });
    });
  }
  return out;
}

export interface ScoredTask {
  task: WorldTask;
  /** One reward per sample. */
  rewards: number[];
  responses: string[];
  feedback: string[];
}

/** `samples` completions of each task (messages default to the problem text), scored by the text checker. */
export async function scoreTasks(p: Policy, tasks: readonly WorldTask[], samples: number, o: Partial<CompleteOptions> = {}, messages?: readonly string[]): Promise<ScoredTask[]> {
  const msgs = messages ?? tasks.map((t) => t.problem);
  const flat = msgs.flatMap((m) => Array.from({ length: samples }, () => m));
  const done = await complete(p, flat, o);
  return tasks.map((task, i) => {
    const mine = done.slice(i * samples, (i + 1) * samples);
    const checks = mine.map((c) => checkTextAnswer(task.answer.value, c.text));
    return { task, rewards: checks.map((c) => c.reward), responses: mine.map((c) => c.text), feedback: checks.map((c) => c.feedback) };
  });
}

/** Mean reward, overall and per group key. */
export function accuracyBy(scored: readonly ScoredTask[], key: (t: WorldTask) => string): Record<string, { n: number; acc: number }> {
  const groups = new Map<string, number[]>();
  for (const s of scored) {
    const mean = s.rewards.reduce((a, b) => a + b, 0) / s.rewards.length;
    for (const k of ['all', key(s.task)]) groups.set(k, [...(groups.get(k) ?? []), mean]);
  }
  const out: Record<string, { n: number; acc: number }> = {};
  for (const [k, v] of [...groups].sort()) out[k] = { n: v.length, acc: v.reduce((a, b) => a + b, 0) / v.length };
  return out;
}
