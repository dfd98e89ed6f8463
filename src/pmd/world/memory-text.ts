/**
 * The sentences of the world's memory items, written once for the rule reflector and the
 * pretraining corpus (so a model learns to follow exactly what the reflector writes), and
 * read back by `readFacts` (so the behavior reflector can build on insight texts).
 *
 * A fact is one sentence of the description language about one procedure name:
 *   positive  "zovik moves the first 2 symbols to the end."
 *   negative  "zovik never moves the first 2 symbols to the end."
 */
import { describeOperation, operationFromPhrase, type Operation } from './operations';

export interface Fact {
  name: string;
  operation: Operation;
  positive: boolean;
}

export interface TextItem {
  title: string;
  content: string;
}

export interface BehaviorText {
  name: string;
  instruction: string;
}

export function factSentence(f: Fact): string {
  return `${f.name} ${f.positive ? '' : 'never '}${describeOperation(f.operation)}.`;
}

/** Every fact stated in a text (sentences of the exact form factSentence writes). */
export function readFacts(text: string): Fact[] {
  const out: Fact[] = [];
  for (const sentence of text.split(/(?<=\.)\s+|\n/)) {
    const m = /^\s*(?:[^:]*:\s+)?([a-z]+) (never )?(.+?)\.?\s*$/.exec(sentence);
    if (!m) continue;
    const operation = operationFromPhrase(m[3]);
    if (operation) out.push({ name: m[1], operation, positive: !m[2] });
  }
  return out;
}

// Insight items (strategies and lessons): a title of at most ten words and two sentences.

export function strategyForFact(name: string, op: Operation): TextItem {
  return { title: `What ${name} does`, content: `${factSentence({ name, operation: op, positive: true })} Write its result on its own line.` };
}

export function strategyForOrder(first: string, second: string): TextItem {
  return { title: `Apply ${first} before ${second}`, content: `Apply ${first} to the given symbols first. Then apply ${second} to that result and give it as the answer.` };
}

export const STEPWISE_STRATEGY: TextItem = {
  title: 'Work one procedure at a time',
  content: 'Apply each named procedure to the symbols in turn. Write every result on its own line, then the answer line.',
};

export function lessonRuledOut(name: string, op: Operation): TextItem {
  return { title: `What ${name} does not do`, content: `${factSentence({ name, operation: op, positive: false })} That rule puts wrong symbols in the answer.` };
}

export function lessonOnlyFit(name: string, op: Operation): TextItem {
  return { title: `The only rule that fits ${name}`, content: `${factSentence({ name, operation: op, positive: true })} Every other rule disagrees with the checked positions.` };
}

export const ANSWER_LINE_LESSON: TextItem = {
  title: 'End with the answer line',
  content: 'Finish with a line that starts with Answer: and lists the symbols. Put one space between two symbols.',
};

export const KEEP_LENGTH_LESSON: TextItem = {
  title: 'Keep the number of symbols',
  content: 'Every procedure keeps the number of symbols. The answer has as many symbols as the input.',
};

// Behaviors: reusable across problems, named behavior_snake_case.

export function behaviorName(procedureName: string): string {
  return `behavior_apply_${procedureName}`;
}

export function behaviorForFact(name: string, op: Operation): BehaviorText {
  return { name: behaviorName(name), instruction: `${factSentence({ name, operation: op, positive: true })} Use it whenever a task applies ${name}.` };
}

export const GENERIC_BEHAVIORS = {
  chain: { name: 'behavior_chain_in_order', instruction: 'Apply chained procedures from left to right. Write each result on its own line before the answer.' },
  length: { name: 'behavior_keep_length', instruction: 'Every procedure keeps the number of symbols. Check that the answer has as many symbols as the input.' },
  answer: { name: 'behavior_answer_line', instruction: 'Finish with a line that starts with Answer: and lists the symbols with one space between them.' },
} as const satisfies Record<string, BehaviorText>;
