/**
 * The exact-text answer kind (`answer: { kind: "text", value }`) and its verifier.
 *
 * The final answer is the text after the last line of a response that starts with "Answer:".
 * It is split on white space into symbols; the reward is 1 when the symbols equal the expected
 * value's, else 0. Feedback says where an answer went wrong without quoting the expected value:
 * a missing answer line, a wrong number of symbols, or which positions hold a wrong symbol.
 * `parseTextFeedback` reads such feedback back (rule reflectors build on it). The verdict's
 * `answer` is the normalised final answer (symbols joined by one space), for majority voting.
 */
import type { TextAnswer } from '../tasks/types';
import type { Verdict } from './verdict';

export const TEXT_ANSWER_PREFIX = 'Answer:';

/** The text after the last line starting with "Answer:" (trimmed), or null when there is none. */
export function extractTextAnswer(response: string): string | null {
  let found: string | null = null;
  for (const line of response.split('\n')) {
    const t = line.trim();
    if (t.startsWith(TEXT_ANSWER_PREFIX)) found = t.slice(TEXT_ANSWER_PREFIX.length).trim();
  }
  return found;
}

/** White-space separated symbols of a text. */
export function textSymbols(text: string): string[] {
  const t = text.trim();
  return t === '' ? [] : t.split(/\s+/);
}

function listPositions(ps: readonly number[]): string {
  if (ps.length === 1) return `position ${ps[0]}`;
  return `positions ${ps.slice(0, -1).join(', ')} and ${ps[ps.length - 1]}`;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export const NO_TEXT_ANSWER_FEEDBACK = `There is no final line of the form "${TEXT_ANSWER_PREFIX} <symbols>".`;

export function verifyText(answer: Pick<TextAnswer, 'value'>, response: string): Verdict {
  const raw = extractTextAnswer(response);
  if (raw === null || raw === '') return { reward: 0, feedback: NO_TEXT_ANSWER_FEEDBACK, answer: raw === null ? null : '' };
  const got = textSymbols(raw);
  const want = textSymbols(answer.value);
  const normalised = got.join(' ');
  if (got.length !== want.length) {
    return { reward: 0, feedback: `The answer has ${plural(got.length, 'symbol')} but should have ${want.length}.`, answer: normalised };
  }
  const wrong = got.flatMap((g, i) => (g === want[i] ? [] : [i + 1]));
  if (wrong.length === 0) return { reward: 1, feedback: '', answer: normalised };
  const rest = wrong.length === got.length ? 'no position is right' : 'the other positions are right';
  return { reward: 0, feedback: `The answer is wrong at ${listPositions(wrong)}; ${rest}.`, answer: normalised };
}

export type TextFeedback =
  | { kind: 'correct' }
  | { kind: 'no-answer' }
  | { kind: 'length'; got: number; want: number }
  | { kind: 'positions'; wrong: number[] }
  | { kind: 'unknown' };

/** Read feedback written by verifyText ('' means correct). */
export function parseTextFeedback(feedback: string): TextFeedback {
  const f = feedback.trim();
  if (f === '') return { kind: 'correct' };
  if (f === NO_TEXT_ANSWER_FEEDBACK) return { kind: 'no-answer' };
  const len = /^The answer has (\d+) symbols? but should have (\d+)\.$/.exec(f);
  if (len) return { kind: 'length', got: Number(len[1]), want: Number(len[2]) };
  const pos = /^The answer is wrong at positions? ([\d, and]+);/.exec(f);
  if (pos) return { kind: 'positions', wrong: (pos[1].match(/\d+/g) ?? []).map(Number) };
  return { kind: 'unknown' };
}
