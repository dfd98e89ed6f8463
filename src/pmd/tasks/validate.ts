/**
 * Task validation: a JSONL suite in, the valid tasks and every problem (line, field path,
 * message) out. A bad line never costs a good one; a duplicate id keeps its first line and the
 * problem names both lines. Unknown fields are problems too, so a misspelt "tolerence" is not
 * silently ignored.
 */
import { isRecord } from '../../util/records';
import { readJsonLines } from './jsonl';
import { ProblemSink, shown, type InputProblem } from './problems';
import {
  ANSWER_KINDS,
  CODE_LANGUAGES,
  TASK_SPLITS,
  TEST_SPLITS,
  type Answer,
  type AnswerKind,
  type ChoiceAnswer,
  type CodeAnswer,
  type CodeTest,
  type NumericAnswer,
  type TextAnswer,
  type Task,
  type TaskSource,
} from './types';

export interface TaskSuite {
  tasks: Task[];
  problems: InputProblem[];
}

/** Parse and check a task JSONL file. */
export function parseTaskSuite(text: string): TaskSuite {
  const problems: InputProblem[] = [];
  const tasks: Task[] = [];
  const firstLine = new Map<string, number>();
  for (const { line, value } of readJsonLines(text, problems)) {
    const task = validateTask(value, new ProblemSink(problems, line));
    if (!task) continue;
    const seen = firstLine.get(task.id);
    if (seen !== undefined) {
      problems.push({ line, field: 'id', message: `duplicate id ${shown(task.id)}: line ${seen} already uses it` });
      continue;
    }
    firstLine.set(task.id, line);
    tasks.push(task);
  }
  if (tasks.length === 0 && problems.length === 0) problems.push({ line: 0, field: '', message: 'no tasks (expected one JSON object per line)' });
  problems.sort((a, b) => a.line - b.line);
  return { tasks, problems };
}

/** Check one parsed JSON value; reports into `sink` and returns the task only when it is valid. */
export function validateTask(raw: unknown, sink: ProblemSink): Task | null {
  const before = sink.problems.length;
  if (!isRecord(raw)) {
    sink.report(`must be a JSON object with "id", "split", "domain", "problem" and "answer", got ${shown(raw)}`);
    return null;
  }
  onlyKnown(raw, ['id', 'split', 'domain', 'problem', 'answer', 'source', 'meta'], sink);
  const id = nonEmptyString(raw, 'id', sink);
  const split = oneOf(raw, 'split', TASK_SPLITS, sink);
  const domain = nonEmptyString(raw, 'domain', sink);
  const problem = nonEmptyString(raw, 'problem', sink);
  const answer = validateAnswer(raw.answer, sink.at('answer'));
  const source = raw.source === undefined ? undefined : validateSource(raw.source, sink.at('source'));
  if (raw.meta !== undefined && !isRecord(raw.meta)) sink.at('meta').report(`must be an object, got ${shown(raw.meta)}`);
  if (sink.problems.length > before) return null;
  const task: Task = { id: id!, split: split!, domain: domain!, problem: problem!, answer: answer! };
  if (source) task.source = source;
  if (raw.meta !== undefined) task.meta = raw.meta as Record<string, unknown>;
  return task;
}

type AnswerValidator<K extends AnswerKind> = (raw: Record<string, unknown>, sink: ProblemSink) => Extract<Answer, { kind: K }> | null;

/** One validator per answer kind; a kind added to `Answer` must be added here. */
export const ANSWER_VALIDATORS: { [K in AnswerKind]: AnswerValidator<K> } = {
  numeric: validateNumeric,
  choice: validateChoice,
  code: validateCode,
  text: validateText,
};

export function validateAnswer(raw: unknown, sink: ProblemSink): Answer | null {
  if (!isRecord(raw)) {
    sink.report(`must be an object with a "kind" (${ANSWER_KINDS.join(', ')}), got ${shown(raw)}`);
    return null;
  }
  const kind = raw.kind;
  if (typeof kind !== 'string' || !(ANSWER_KINDS as readonly string[]).includes(kind)) {
    sink.at('kind').report(`must be one of ${ANSWER_KINDS.map((k) => `"${k}"`).join(', ')}, got ${shown(kind)}`);
    return null;
  }
  return ANSWER_VALIDATORS[kind as AnswerKind](raw, sink);
}

function validateNumeric(raw: Record<string, unknown>, sink: ProblemSink): NumericAnswer | null {
  const before = sink.problems.length;
  onlyKnown(raw, ['kind', 'value', 'tolerance'], sink);
  if (typeof raw.value !== 'number' || !Number.isFinite(raw.value)) sink.at('value').report(`must be a finite number, got ${shown(raw.value)}`);
  if (raw.tolerance !== undefined && !(typeof raw.tolerance === 'number' && raw.tolerance >= 0 && Number.isFinite(raw.tolerance))) {
    sink.at('tolerance').report(`must be a number >= 0, got ${shown(raw.tolerance)}`);
  }
  if (sink.problems.length > before) return null;
  const out: NumericAnswer = { kind: 'numeric', value: raw.value as number };
  if (raw.tolerance !== undefined) out.tolerance = raw.tolerance as number;
  return out;
}

function validateText(raw: Record<string, unknown>, sink: ProblemSink): TextAnswer | null {
  const before = sink.problems.length;
  onlyKnown(raw, ['kind', 'value'], sink);
  if (typeof raw.value !== 'string' || raw.value.trim() === '') sink.at('value').report(`must be a non-empty string, got ${shown(raw.value)}`);
  else if (raw.value.includes('\n')) sink.at('value').report('must be one line (the answer line of a response is one line)');
  if (sink.problems.length > before) return null;
  return { kind: 'text', value: raw.value as string };
}

function validateChoice(raw: Record<string, unknown>, sink: ProblemSink): ChoiceAnswer | null {
  const before = sink.problems.length;
  onlyKnown(raw, ['kind', 'options', 'correct'], sink);
  const options: ChoiceAnswer['options'] = [];
  if (!Array.isArray(raw.options) || raw.options.length < 2) {
    sink.at('options').report(`must be a list of at least two {"label", "text"} objects, got ${shown(raw.options)}`);
  } else {
    const seen = new Map<string, number>();
    raw.options.forEach((o: unknown, i: number) => {
      const at = sink.at('options').at(i);
      if (!isRecord(o)) return at.report(`must be an object {"label", "text"}, got ${shown(o)}`);
      onlyKnown(o, ['label', 'text'], at);
      const label = o.label;
      if (typeof label !== 'string' || label.trim() === '' || label.trim() !== label || /\s/.test(label)) {
        return at.at('label').report(`must be a non-empty word without spaces ("A", "Yes"), got ${shown(label)}`);
      }
      if (o.text !== undefined && typeof o.text !== 'string') return at.at('text').report(`must be a string, got ${shown(o.text)}`);
      const key = label.toLowerCase();
      if (seen.has(key)) return at.at('label').report(`${shown(label)} is already the label of options[${seen.get(key)}]`);
      seen.set(key, i);
      options.push({ label, text: (o.text as string | undefined) ?? '' });
    });
  }
  let correct: string | undefined;
  if (typeof raw.correct !== 'string') sink.at('correct').report(`must be the label of the right option, got ${shown(raw.correct)}`);
  else if (options.length) {
    correct = options.find((o) => o.label.toLowerCase() === (raw.correct as string).toLowerCase())?.label;
    if (!correct) sink.at('correct').report(`${shown(raw.correct)} is not one of the labels ${options.map((o) => o.label).join(', ')}`);
  }
  if (sink.problems.length > before) return null;
  return { kind: 'choice', options, correct: correct! };
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function validateCode(raw: Record<string, unknown>, sink: ProblemSink): CodeAnswer | null {
  const before = sink.problems.length;
  onlyKnown(raw, ['kind', 'language', 'tests', 'entry_point', 'class_name', 'starter', 'setup'], sink);
  const language = oneOf(raw, 'language', CODE_LANGUAGES, sink);
  for (const key of ['entry_point', 'class_name'] as const) {
    const v = raw[key];
    if (v !== undefined && (typeof v !== 'string' || !IDENTIFIER.test(v))) sink.at(key).report(`must be an identifier, got ${shown(v)}`);
  }
  for (const key of ['starter', 'setup'] as const) {
    if (raw[key] !== undefined && typeof raw[key] !== 'string') sink.at(key).report(`must be a string, got ${shown(raw[key])}`);
  }
  if (raw.class_name !== undefined && raw.entry_point === undefined) sink.at('entry_point').report('is required with "class_name" (the method to call)');
  const tests: CodeTest[] = [];
  if (!Array.isArray(raw.tests) || raw.tests.length === 0) {
    sink.at('tests').report(`must be a non-empty list of tests, got ${shown(raw.tests)}`);
  } else {
    raw.tests.forEach((t: unknown, i: number) => {
      const test = validateTest(t, sink.at('tests').at(i));
      if (test?.kind === 'call' && raw.entry_point === undefined) sink.at('tests').at(i).report('a "call" test needs the answer\'s "entry_point"');
      if (test) tests.push(test);
    });
    if (tests.length === raw.tests.length && !tests.some((t) => (t.split ?? 'train') === 'train')) {
      sink.at('tests').report('has no training test (a test without "split" or with "split": "train"); the reward needs one');
    }
  }
  if (sink.problems.length > before) return null;
  const out: CodeAnswer = { kind: 'code', language: language!, tests };
  for (const key of ['entry_point', 'class_name', 'starter', 'setup'] as const) if (raw[key] !== undefined) out[key] = raw[key] as string;
  return out;
}

function validateTest(raw: unknown, sink: ProblemSink): CodeTest | null {
  const before = sink.problems.length;
  if (!isRecord(raw)) {
    sink.report(`must be an object with "kind": "io", "call" or "assert", got ${shown(raw)}`);
    return null;
  }
  if (raw.split !== undefined) oneOf(raw, 'split', TEST_SPLITS, sink);
  const split = raw.split === undefined ? {} : { split: raw.split as CodeTest['split'] };
  switch (raw.kind) {
    case 'io':
      onlyKnown(raw, ['kind', 'input', 'output', 'split'], sink);
      for (const k of ['input', 'output']) if (typeof raw[k] !== 'string') sink.at(k).report(`must be a string, got ${shown(raw[k])}`);
      return sink.problems.length > before ? null : { kind: 'io', input: raw.input as string, output: raw.output as string, ...split };
    case 'call':
      onlyKnown(raw, ['kind', 'args', 'expected', 'split'], sink);
      if (!Array.isArray(raw.args)) sink.at('args').report(`must be the list of arguments, got ${shown(raw.args)}`);
      if (!('expected' in raw)) sink.at('expected').report('is required (the value the call must return)');
      return sink.problems.length > before ? null : { kind: 'call', args: raw.args as unknown[], expected: raw.expected, ...split };
    case 'assert':
      onlyKnown(raw, ['kind', 'code', 'split'], sink);
      if (typeof raw.code !== 'string' || raw.code.trim() === '') sink.at('code').report(`must be non-empty code, got ${shown(raw.code)}`);
      return sink.problems.length > before ? null : { kind: 'assert', code: raw.code as string, ...split };
    default:
      sink.at('kind').report(`must be "io", "call" or "assert", got ${shown(raw.kind)}`);
      return null;
  }
}

function validateSource(raw: unknown, sink: ProblemSink): TaskSource | undefined {
  if (!isRecord(raw)) {
    sink.report(`must be an object {"format", "id"}, got ${shown(raw)}`);
    return undefined;
  }
  onlyKnown(raw, ['format', 'id', 'test_split'], sink);
  const format = nonEmptyString(raw, 'format', sink);
  const id = nonEmptyString(raw, 'id', sink);
  const out: TaskSource = { format: format ?? '', id: id ?? '' };
  if (raw.test_split !== undefined) {
    const ts = raw.test_split;
    if (!isRecord(ts) || Object.entries(ts).some(([k, v]) => !(TEST_SPLITS as readonly string[]).includes(k) || typeof v !== 'string')) {
      sink.at('test_split').report(`must map "train" and/or "heldout" to a description, got ${shown(ts)}`);
    } else out.test_split = ts as TaskSource['test_split'];
  }
  return out;
}

function onlyKnown(obj: Record<string, unknown>, known: readonly string[], sink: ProblemSink): void {
  for (const k of Object.keys(obj)) if (!known.includes(k)) sink.at(k).report(`unknown field (expected ${known.join(', ')})`);
}

function nonEmptyString(obj: Record<string, unknown>, key: string, sink: ProblemSink): string | undefined {
  const v = obj[key];
  if (typeof v === 'string' && v.trim() !== '') return v;
  sink.at(key).report(v === undefined ? 'is required' : `must be a non-empty string, got ${shown(v)}`);
  return undefined;
}

function oneOf<T extends string>(obj: Record<string, unknown>, key: string, allowed: readonly T[], sink: ProblemSink): T | undefined {
  const v = obj[key];
  if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
  sink.at(key).report(`must be ${allowed.map((a) => `"${a}"`).join(' or ')}, got ${shown(v)}`);
  return undefined;
}
