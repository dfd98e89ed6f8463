/**
 * The three reflectors behind a reflect effect:
 *  - the policy itself (the paper's choice): the current student, with the reflector's own
 *    sampling settings and the effect's seed;
 *  - an OpenAI-compatible chat endpoint (llama.cpp, Ollama, LM Studio, vLLM), a recorded
 *    deviation from the paper;
 *  - a rule-based reflector a task world provides, answering in the same JSON shapes.
 * A transport failure is returned as text the parser rejects, so it counts as one failed
 * attempt (retried once, then recorded) instead of stopping the run.
 */
import type { Policy } from '../../engine/policy';
import type { PmdConfig } from '../config';
import type { BehaviorColdReply, BehaviorEvolveReply, InsightReply, ReflectorName } from '../memory/types';
import type { Effect, ReflectEvidence, ReflectRequest } from '../run/state';

export type ReflectEffect = Extract<Effect, { kind: 'reflect' }>;
export type Reflector = (e: ReflectEffect) => Promise<{ text: string; reflector: ReflectorName }>;
/** Several reflections at once, replies in request order. */
export type BatchReflector = (requests: readonly ReflectRequest[]) => Promise<{ text: string; reflector: ReflectorName }[]>;

/** The policy reflecting on one problem: a batch of one (the same tokens as one row alone with its seed). */
export function policyReflector(policy: Policy, c: PmdConfig['reflector']): Reflector {
  const batch = policyBatchReflector(policy, c);
  return async (e) => (await batch([{ key: e.id, purpose: e.purpose, messages: e.messages, evidence: e.evidence, seed: e.seed }]))[0];
}

/**
 * The policy reflecting on several problems in one batched generation: each reply sampled
 * from its own seed (the one a single reflect effect would carry), so a reply is what that
 * reflection alone would write, up to batching's float rounding.
 */
export function policyBatchReflector(policy: Policy, c: PmdConfig['reflector']): BatchReflector {
  return async (requests) => {
    if (requests.length === 0) return [];
    const prompts = await Promise.all(requests.map((r) => policy.promptIds(r.messages.map((m) => m.content).join('\n\n'))));
    const longest = prompts.reduce((m, p) => Math.max(m, p.length), 0);
    const maxNewTokens = Math.max(1, Math.min(c.maxNewTokens, policy.info.maxPositions - longest));
    const r = await policy.generate(prompts, { maxNewTokens, temperature: c.temperature, topP: 1, topK: 0, seed: requests[0].seed, seeds: requests.map((x) => x.seed), adapter: 'student' });
    return r.tokens.map((t) => ({ text: policy.decode(t), reflector: 'policy' as const }));
  };
}

export type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body: string; signal?: AbortSignal }) => Promise<{ ok: boolean; status: number; text(): Promise<string> }>;

/** `http://host:port` or `.../v1` -> the chat completions URL. */
export function chatCompletionsUrl(endpoint: string): string {
  const base = endpoint.replace(/\/+$/, '');
  return /\/v1$/.test(base) ? `${base}/chat/completions` : /\/chat\/completions$/.test(base) ? base : `${base}/v1/chat/completions`;
}

export function endpointReflector(c: PmdConfig['reflector'], fetchFn: FetchLike, opts: { apiKey?: string; timeoutMs?: number } = {}): Reflector {
  const url = chatCompletionsUrl(c.endpoint);
  const name: ReflectorName = `endpoint:${c.endpoint}`;
  return async (e) => {
    const ctl = typeof AbortController !== 'undefined' ? new AbortController() : null;
    const timer = ctl ? setTimeout(() => ctl.abort(), opts.timeoutMs ?? 120_000) : null;
    try {
      const res = await fetchFn(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(opts.apiKey ? { authorization: `Bearer ${opts.apiKey}` } : {}) },
        body: JSON.stringify({ model: c.model || undefined, messages: e.messages, temperature: c.temperature, max_tokens: c.maxNewTokens, seed: e.seed }),
        signal: ctl?.signal,
      });
      const body = await res.text();
      if (!res.ok) return { text: `[reflector error: ${url} answered HTTP ${res.status}: ${body.slice(0, 200)}]`, reflector: name };
      const json = JSON.parse(body) as { choices?: { message?: { content?: string } }[] };
      return { text: json.choices?.[0]?.message?.content ?? '[reflector error: the reply has no choices[0].message.content]', reflector: name };
    } catch (err) {
      return { text: `[reflector error: ${(err as Error).message}]`, reflector: name };
    } finally {
      if (timer) clearTimeout(timer);
    }
  };
}

export type BehaviorEvidence = Extract<ReflectEvidence, { purpose: 'behavior-cold' | 'behavior-evolve' }>;

/** A task world's rule-based reflector: the same answers as a model would give, as JSON shapes. */
export interface RuleReflector {
  name: string;
  insight(e: Extract<ReflectEvidence, { purpose: 'insight' }>): InsightReply;
  behaviorCold(e: BehaviorEvidence): BehaviorColdReply;
  behaviorEvolve(e: BehaviorEvidence): BehaviorEvolveReply;
}

export function ruleReflector(r: RuleReflector): Reflector {
  return async (e) => {
    const ev = e.evidence;
    const reply = ev.purpose === 'insight' ? r.insight(ev) : ev.purpose === 'behavior-cold' ? r.behaviorCold(ev) : r.behaviorEvolve(ev);
    return { text: JSON.stringify(reply), reflector: `rule:${r.name}` };
  };
}
