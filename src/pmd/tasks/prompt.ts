/**
 * The student prompt for a task: the problem, then what the answer kind needs (the options with
 * their labels; the starter code and the expected function or input/output style), then one
 * short instruction on how to state the final answer, matching what the verifiers extract.
 * Held-out tests and `meta` (reference solutions) never appear in a prompt.
 */
import type { AnswerKind, ChoiceAnswer, CodeAnswer, Task } from './types';

type Renderer<K extends AnswerKind> = (task: Task & { answer: Extract<Task['answer'], { kind: K }> }) => string;

/** One renderer per answer kind; a kind added to `Answer` must be added here. */
export const PROMPT_RENDERERS: { [K in AnswerKind]: Renderer<K> } = {
  numeric: (t) => `${t.problem.trim()}\n\nWork it out step by step. Then give the final answer as a plain number on the last line, as "Answer: <number>".`,
  choice: (t) => renderChoice(t.problem, t.answer),
  code: (t) => renderCode(t.problem, t.answer),
  // Shown as written: a text suite states its answer format in the problem or teaches it (the
  // embedded world's model learned "Answer: <symbols>" in pretraining).
  text: (t) => t.problem.trim(),
};

export function renderPrompt(task: Task): string {
  return (PROMPT_RENDERERS[task.answer.kind] as Renderer<AnswerKind>)(task as never);
}

/** True when every option is just its label (yes/no, true/false questions). */
export function labelsOnly(answer: ChoiceAnswer): boolean {
  return answer.options.every((o) => o.text.trim() === '');
}

function orList(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

function renderChoice(problem: string, answer: ChoiceAnswer): string {
  const labels = answer.options.map((o) => o.label);
  if (labelsOnly(answer)) {
    return `${problem.trim()}\n\nAnswer ${orList(labels)}. Think it through, then give your choice on the last line, as "Answer: ${labels[0]}" or "Answer: ${labels[1]}".`;
  }
  const options = answer.options.map((o) => `${o.label}) ${o.text.trim()}`).join('\n');
  return `${problem.trim()}\n\n${options}\n\nThink it through, then give the label of the correct option (${orList(labels)}) on the last line, as "Answer: <label>".`;
}

const LANGUAGE_NAME = { python: 'Python', javascript: 'JavaScript' } as const;

function renderCode(problem: string, answer: CodeAnswer): string {
  const lang = LANGUAGE_NAME[answer.language];
  const fence = answer.language;
  const train = answer.tests.filter((t) => (t.split ?? 'train') === 'train');
  const parts = [problem.trim()];
  if (train.some((t) => t.kind === 'io')) {
    parts.push(
      answer.language === 'python'
        ? 'Write a complete Python program that reads its input from standard input and prints the answer to standard output.'
        : "Write a complete JavaScript program that reads its input from standard input (require('fs').readFileSync(0, 'utf8'), or readline()) and prints the answer with console.log.",
    );
  } else if (answer.class_name && answer.entry_point) {
    parts.push(`Complete the method \`${answer.entry_point}\` of class \`${answer.class_name}\`; it is called on a new instance with the arguments and must return the result.`);
  } else if (answer.entry_point) {
    parts.push(`Write a ${lang} function named \`${answer.entry_point}\` that returns the result (it is called directly; do not read input or print).`);
  }
  const example = train.find((t) => t.kind === 'assert');
  if (example && example.kind === 'assert') parts.push(`Your code must pass tests like this one:\n\`\`\`${fence}\n${example.code.trim()}\n\`\`\``);
  if (answer.starter?.trim()) parts.push(`Start from this code:\n\`\`\`${fence}\n${answer.starter.trimEnd()}\n\`\`\``);
  parts.push(`Reply with the complete ${lang} solution in one \`\`\`${fence} code block.`);
  return parts.join('\n\n');
}
