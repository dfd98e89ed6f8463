/**
 * Verifiers for answers with one right value: a number within the task's tolerance, or the
 * right option. Feedback for a wrong answer says what was read from the response, never what the
 * right answer is (the teacher must not be handed it).
 */
import type { ChoiceAnswer, NumericAnswer } from '../tasks/types';
import { extractChoice, extractNumber, normalizeNumber } from './extract';
import type { Verdict } from './verdict';

export function verifyNumeric(answer: NumericAnswer, response: string): Verdict {
  const found = extractNumber(response);
  if (!found) return { reward: 0, feedback: 'No final answer was found in the response: end it with "Answer: <number>".', answer: null };
  const tolerance = (answer.tolerance ?? 0) + 1e-9 * Math.max(1, Math.abs(answer.value));
  const right = Math.abs(found.value - answer.value) <= tolerance;
  const stated = normalizeNumber(found.value);
  return { reward: right ? 1 : 0, feedback: right ? '' : `The final answer ${stated} is not correct.`, answer: stated };
}

export function verifyChoice(answer: ChoiceAnswer, response: string): Verdict {
  const label = extractChoice(response, answer.options);
  if (!label) {
    const labels = answer.options.map((o) => o.label).join(', ');
    return { reward: 0, feedback: `No choice was found in the response: end it with "Answer: <label>", the label being one of ${labels}.`, answer: null };
  }
  const right = label === answer.correct;
  return { reward: right ? 1 : 0, feedback: right ? '' : `The chosen option ${label} is not correct.`, answer: label };
}
