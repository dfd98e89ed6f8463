/**
 * The exact-text answer kind (`answer: { kind: 'text', value }`) and its checker.
 *
 * The final answer is the text after the last "Answer:" line of a response. Reward is 1 when
 * it equals the expected value exactly (white space runs count as one space), else 0. Feedback
 * says what is wrong without ever quoting the expected value: a missing answer line, a wrong
 * number of items (white-space separated), or which positions hold a wrong item.
 * `parseFeedback` reads the feedback back, for the rule reflector.
 */
import { ANSWER_PREFIX, extractAnswer } from './format';

export interface TextAnswer {
  kind: 'text';
  value: string;
}

export interface TextCheck {
  /** 1 iff the final answer equals the expected value. */
  reward: number;
  /** '' when correct; otherwise where the answer went wrong. */
  feedback: string;
  /** The extracted final answer (white space normalised), or null when there is none. */
  answer: string | null;
}

function items(text: string): string[] {
  const t = text.trim();
  return t === '' ? [] : t.split(/\s+/);
}

function listPositions(ps: readonly number[]): string {
  if (ps.length === 1) return `position ${ps[0]}`;
  return `positions ${ps.slice(0, -1).join(', ')} and ${ps[ps.length - 1]}`;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export const NO_ANSWER_FEEDBACK = `There is no final line of the form "${ANSWER_PREFIX} <symbols>".`;

export function checkTextAnswer(value: string, response: string): TextCheck {
  const raw = extractAnswer(response);
  if (raw === null || raw === '') return { reward: 0, feedback: NO_ANSWER_FEEDBACK, answer: raw === null ? null : '' };
  const got = items(raw);
  const want = items(value);
  const answer = got.join(' ');
  if (got.length !== want.length) {
    return { reward: 0, feedback: `The answer has ${plural(got.length, 'symbol')} but should have ${want.length}.`, answer };
  }
  const wrong = got.flatMap((g, i) => (g === want[i] ? [] : [i + 1]));
  if (wrong.length === 0) return { reward: 1, feedback: '', answer };
  const rest = wrong.length === got.length ? 'no position is right' : 'the other positions are right';
  return { reward: 0, feedback: `The answer is wrong at ${listPositions(wrong)}; ${rest}.`, answer };
}

export type ParsedFeedback =
  | { kind: 'correct' }
  | { kind: 'no-answer' }
  | { kind: 'length'; got: number; want: number }
  | { kind: 'positions'; wrong: number[] }
  | { kind: 'unknown' };

/** Read feedback written by checkTextAnswer ('' means correct). */
export function parseFeedback(feedback: string): ParsedFeedback {
  const f = feedback.trim();
  if (f === '') return { kind: 'correct' };
  if (f === NO_ANSWER_FEEDBACK) return { kind: 'no-answer' };
  const len = /^The answer has (\d+) symbols? but should have (\d+)\.$/.exec(f);
  if (len) return { kind: 'length', got: Number(len[1]), want: Number(len[2]) };
  const pos = /^The answer is wrong at positions? ([\d, and]+);/.exec(f);
  if (pos) return { kind: 'positions', wrong: (pos[1].match(/\d+/g) ?? []).map(Number) };
  return { kind: 'unknown' };
}
