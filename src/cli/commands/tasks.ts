/**
 * `pmd-lab tasks import --format gsm8k|sciknoweval|mbpp|livecodebench --in <file> --out <tasks.jsonl> [--split train|test]`
 *
 * Reads a public dataset file as the dataset publishes it and writes the project's task JSONL
 * (docs/tasks.md). Rows that do not match the format are errors naming the line and field, and
 * nothing is written; rows with nothing exact to check are skipped and counted.
 */
import { Args, UsageError } from '../args';
import { readTextInput } from '../inputs';
import { checkOutputPath, writeFileAtomic } from '../outputs';
import { IMPORT_FORMATS, importTasks, isImportFormat, summarizeSkipped } from '../../pmd/tasks/importers';
import { formatJsonLines } from '../../pmd/tasks/jsonl';
import { LineProblemsError } from '../../pmd/tasks/problems';
import { TASK_SPLITS, type TaskSplit } from '../../pmd/tasks/types';

const FORMATS = Object.keys(IMPORT_FORMATS).join('|');

export const usage = `tasks import --format ${FORMATS} --in <file> --out <tasks.jsonl> [--split train|test]`;

export async function run(args: Args): Promise<void> {
  const sub = args.positional[0];
  if (sub !== 'import') throw new UsageError(sub ? `tasks: unknown subcommand "${sub}" (expected "import")` : 'tasks: expected a subcommand, e.g. tasks import --format gsm8k --in train.jsonl --out tasks.jsonl');
  if (args.positional.length > 1) throw new UsageError(`tasks import: unexpected argument "${args.positional[1]}"`);
  const format = args.required('format');
  const input = args.required('in');
  const out = args.required('out');
  const split = args.string('split') ?? 'train';
  args.rejectUnknown();
  if (!isImportFormat(format)) throw new UsageError(`--format must be one of ${FORMATS}, got "${format}"`);
  if (!(TASK_SPLITS as readonly string[]).includes(split)) throw new UsageError(`--split must be train or test, got "${split}"`);
  await checkOutputPath('out', out, 'file', { inputs: [input] });

  const result = importTasks(format, await readTextInput('in', input), { split: split as TaskSplit });
  if (result.problems.length) throw new LineProblemsError(input, result.problems);
  const skipped = summarizeSkipped(result.skipped);
  if (result.tasks.length === 0) throw new LineProblemsError(input, [{ line: 0, field: '', message: `no ${format} row could be imported${skipped ? ` (skipped: ${skipped})` : ''}` }]);
  await writeFileAtomic(out, formatJsonLines(result.tasks));
  console.log(`imported ${result.tasks.length} task${result.tasks.length === 1 ? '' : 's'} into ${out}; skipped ${result.skipped.length}${skipped ? ` (${skipped})` : ''}`);
}
