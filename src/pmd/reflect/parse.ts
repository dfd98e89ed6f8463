/**
 * Reading a reflector's reply. Models wrap JSON in prose, code fences or <think> blocks and get
 * it slightly wrong; the reply's JSON is cut out, parsed, repaired with `jsonrepair` when it
 * does not parse, and checked against the expected shape. Items that break the content rules
 * (option letters, talk of attempts or the model, "this question") are dropped and reported.
 * A reply with no usable JSON is invalid: the loop retries once, then records a failed
 * reflection and goes on.
 */
import { jsonrepair } from 'jsonrepair';
import { isRecord } from '../../util/records';
import type { BehaviorAction, BehaviorColdReply, BehaviorEvolveReply, InsightReply } from '../memory/types';

export type ParseOutcome<T> = { ok: true; value: T; repaired: boolean; dropped: { item: string; reason: string }[] } | { ok: false; error: string };

/** The JSON text inside a reply: a fenced block if present, else from the first "{" to the last "}". */
export function jsonPart(text: string): string | null {
  const t = text.replace(/<think>[\s\S]*?<\/think>/g, '').replace(/^[\s\S]*?<\/think>/, '');
  const fence = /```(?:json)?\s*([\s\S]*?)```/i.exec(t);
  const body = fence ? fence[1] : t;
  const a = body.indexOf('{');
  if (a < 0) return null;
  const b = body.lastIndexOf('}');
  return b > a ? body.slice(a, b + 1) : body.slice(a);
}

function parseLoose(text: string): { value: unknown; repaired: boolean } | { error: string } {
  const part = jsonPart(text);
  if (part === null) return { error: 'the reply holds no JSON object' };
  try {
    return { value: JSON.parse(part), repaired: false };
  } catch {
    try {
      return { value: JSON.parse(jsonrepair(part)), repaired: true };
    } catch (e) {
      return { error: `the reply's JSON cannot be read or repaired (${(e as Error).message.slice(0, 120)})` };
    }
  }
}

const SHORTCUTS: [RegExp, string][] = [
  [/\b(?:[Oo]ptions?|[Cc]hoices?|[Aa]nswer)\s*\(?[A-J]\)?(?![A-Za-z])/, 'mentions an answer option'],
  [/\battempt(s|ed)?\b/i, 'talks about attempts'],
  [/\b(the|this) (model|learner|student|assistant)\b/i, 'talks about the model'],
  [/\bthis (question|problem|exercise)\b/i, 'refers to this particular problem'],
  [/\b(guess|eliminat\w+ options?|process of elimination)\b/i, 'a test-taking trick'],
];

/** Why an item breaks the content rules, or null. */
export function shortcutReason(text: string): string | null {
  for (const [re, why] of SHORTCUTS) if (re.test(text)) return why;
  return null;
}

const str = (v: unknown) => (typeof v === 'string' ? v.trim() : '');
const firstWords = (s: string, n: number) => s.split(/\s+/).slice(0, n).join(' ');

export function parseInsightReply(text: string, opts: { applyContentRules?: boolean } = {}): ParseOutcome<InsightReply> {
  const r = parseLoose(text);
  if ('error' in r) return { ok: false, error: r.error };
  const v = r.value;
  if (!isRecord(v)) return { ok: false, error: 'the JSON is not an object' };
  if (!Array.isArray(v.strategies) && !Array.isArray(v.lessons)) return { ok: false, error: 'the JSON has neither "strategies" nor "lessons"' };
  const dropped: { item: string; reason: string }[] = [];
  const items = (list: unknown, kind: string) => {
    const out: { title: string; content: string }[] = [];
    if (!Array.isArray(list)) return out;
    list.forEach((x, i) => {
      const where = `${kind}[${i}]`;
      if (!isRecord(x)) return void dropped.push({ item: where, reason: 'not an object' });
      const title = firstWords(str(x.title), 10);
      const content = str(x.content).slice(0, 1200);
      if (!title || !content) return void dropped.push({ item: where, reason: 'empty title or content' });
      const why = opts.applyContentRules === false ? null : shortcutReason(`${title} ${content}`);
      if (why) return void dropped.push({ item: `${where} "${title}"`, reason: why });
      out.push({ title, content });
    });
    return out;
  };
  const value = { strategies: items(v.strategies, 'strategies').slice(0, 5), lessons: items(v.lessons, 'lessons').slice(0, 5) };
  return { ok: true, value, repaired: r.repaired, dropped };
}

export function parseBehaviorColdReply(text: string): ParseOutcome<BehaviorColdReply> {
  const r = parseLoose(text);
  if ('error' in r) return { ok: false, error: r.error };
  const v = r.value;
  if (!isRecord(v) || !Array.isArray(v.behaviors)) return { ok: false, error: 'the JSON has no "behaviors" list' };
  const dropped: { item: string; reason: string }[] = [];
  const behaviors: { name: string; instruction: string }[] = [];
  v.behaviors.forEach((x, i) => {
    const name = isRecord(x) ? str(x.name) : '';
    const instruction = isRecord(x) ? str(x.instruction).slice(0, 1200) : '';
    if (!name || !instruction) return void dropped.push({ item: `behaviors[${i}]`, reason: 'needs a name and an instruction' });
    const why = shortcutReason(instruction);
    if (why) return void dropped.push({ item: name, reason: why });
    behaviors.push({ name, instruction });
  });
  return { ok: true, value: { behaviors: behaviors.slice(0, 8) }, repaired: r.repaired, dropped };
}

export function parseBehaviorEvolveReply(text: string): ParseOutcome<BehaviorEvolveReply> {
  const r = parseLoose(text);
  if ('error' in r) return { ok: false, error: r.error };
  const v = r.value;
  if (!isRecord(v) || !Array.isArray(v.actions)) return { ok: false, error: 'the JSON has no "actions" list' };
  const dropped: { item: string; reason: string }[] = [];
  const actions: BehaviorAction[] = [];
  v.actions.forEach((x, i) => {
    if (!isRecord(x)) return void dropped.push({ item: `actions[${i}]`, reason: 'not an object' });
    const action = str(x.action).toLowerCase();
    const name = str(x.name);
    if (!name) return void dropped.push({ item: `actions[${i}]`, reason: 'no name' });
    if (action === 'remove') return void actions.push({ action: 'remove', name });
    if (action !== 'new' && action !== 'update') return void dropped.push({ item: `actions[${i}]`, reason: `unknown action ${JSON.stringify(x.action)}` });
    const instruction = str(x.instruction).slice(0, 1200);
    if (!instruction) return void dropped.push({ item: name, reason: `"${action}" needs an instruction` });
    const why = shortcutReason(instruction);
    if (why) return void dropped.push({ item: name, reason: why });
    actions.push({ action, name, instruction });
  });
  return { ok: true, value: { actions: actions.slice(0, 16) }, repaired: r.repaired, dropped };
}
