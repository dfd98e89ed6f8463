/**
 * The world's answers are the project's `text` answer kind (src/pmd/verifiers/text.ts): the
 * checker and the feedback reader under the names the world's modules use.
 */
import type { TextAnswer } from '../tasks/types';
import { NO_TEXT_ANSWER_FEEDBACK, parseTextFeedback, verifyText, type TextFeedback } from '../verifiers/text';

export type { TextAnswer };
export type ParsedFeedback = TextFeedback;

export interface TextCheck {
  /** 1 iff the final answer equals the expected value. */
  reward: number;
  /** '' when correct; otherwise where the answer went wrong. */
  feedback: string;
  /** The extracted final answer (white space normalised), or null when there is none. */
  answer: string | null;
}

export const NO_ANSWER_FEEDBACK = NO_TEXT_ANSWER_FEEDBACK;

export function checkTextAnswer(value: string, response: string): TextCheck {
  const v = verifyText({ value }, response);
  return { reward: v.reward, feedback: v.feedback, answer: v.answer };
}

export const parseFeedback = parseTextFeedback;
