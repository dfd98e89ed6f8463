/**
 * The project's task format: one verifiable problem per JSONL line (see docs/tasks.md).
 *
 * A task is engine-agnostic data. Its `answer` says what a correct response is, and its `kind`
 * picks the verifier; a new kind (for example from a synthetic task world) is added by extending
 * `Answer` and giving it a validator (validate.ts), a prompt (prompt.ts) and a verifier
 * (verifiers/verify.ts): each of those tables is typed so that a missing entry does not compile.
 *
 * Field names are the JSON field names (snake_case where they have two words), so a parsed task
 * writes back out unchanged.
 */

/** `train` problems feed the PMD loop; `test` problems are held out for evaluation. */
export type TaskSplit = 'train' | 'test';
export const TASK_SPLITS: readonly TaskSplit[] = ['train', 'test'];

/** Which tests of a code task a verification uses. */
export type TestSplit = 'train' | 'heldout';
export const TEST_SPLITS: readonly TestSplit[] = ['train', 'heldout'];

/** A number, right when within `tolerance` (absolute, default 0) of `value`. */
export interface NumericAnswer {
  kind: 'numeric';
  value: number;
  tolerance?: number;
}

export interface ChoiceOption {
  /** What the response names: a letter ("B") or a word ("Yes"). Unique in the task, any case. */
  label: string;
  /** The option's text; may be empty when the label says it all (yes/no questions). */
  text: string;
}

/** Pick one option by its label. Two-option and yes/no questions are choices too. */
export interface ChoiceAnswer {
  kind: 'choice';
  options: ChoiceOption[];
  correct: string;
}

export type CodeLanguage = 'python' | 'javascript';
export const CODE_LANGUAGES: readonly CodeLanguage[] = ['python', 'javascript'];

/** The program reads `input` on standard input; its standard output must match `output`. */
export interface IoTest {
  kind: 'io';
  input: string;
  output: string;
  split?: TestSplit;
}

/** `entry_point(...args)` (or a method of a fresh `class_name` instance) must return `expected`. */
export interface CallTest {
  kind: 'call';
  args: unknown[];
  expected: unknown;
  split?: TestSplit;
}

/** Code run after the solution (one or more assert statements) must not raise. */
export interface AssertTest {
  kind: 'assert';
  code: string;
  split?: TestSplit;
}

export type CodeTest = IoTest | CallTest | AssertTest;

/** Write a program or function in `language` that passes the tests. */
export interface CodeAnswer {
  kind: 'code';
  language: CodeLanguage;
  tests: CodeTest[];
  /** The function (or method, with class_name) call tests call and the prompt names. */
  entry_point?: string;
  /** Call tests call `class_name().entry_point(...)` (LiveCodeBench's `class Solution`). */
  class_name?: string;
  /** Code shown to the student to complete. */
  starter?: string;
  /** Code run before the solution in every test (imports, helpers the tests need). */
  setup?: string;
}

/**
 * An exact string: the response's last "Answer:" line, split on white space, must equal
 * `value` split the same way. Feedback names the wrong positions, never the expected symbols.
 */
export interface TextAnswer {
  kind: 'text';
  value: string;
}

export type Answer = NumericAnswer | ChoiceAnswer | CodeAnswer | TextAnswer;
export type AnswerKind = Answer['kind'];
export const ANSWER_KINDS: readonly AnswerKind[] = ['numeric', 'choice', 'code', 'text'];

/** Where an imported task came from. */
export interface TaskSource {
  /** The public format it was imported from ("gsm8k", "mbpp", ...). */
  format: string;
  /** The source's own id, or the 0-based line number of the source file when it has none. */
  id: string;
  /** For code imports: which source tests became training tests and which are held out. */
  test_split?: Partial<Record<TestSplit, string>>;
}

export interface Task {
  id: string;
  split: TaskSplit;
  domain: string;
  problem: string;
  answer: Answer;
  source?: TaskSource;
  /** Free-form extra data (difficulty, level, a reference solution never shown to the student). */
  meta?: Record<string, unknown>;
}

/** The tests of a code task that a verification with `which` runs. */
export function selectTests(answer: CodeAnswer, which: TestSplit | 'all'): CodeTest[] {
  if (which === 'all') return answer.tests;
  return answer.tests.filter((t) => (t.split ?? 'train') === which);
}
