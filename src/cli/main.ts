/**
 * pmd-lab command line (Node, onnxruntime-node on the CPU). One module per command under
 * commands/, each a thin adapter over the engine (or the PMD loop) that shares its code with
 * the browser worker.
 */
import { ConfigError } from '../util/config-fields';
import { ModelFormatError } from '../engine/models/types';
import { Args, UsageError } from './args';
import * as chat from './commands/chat';
import * as evaluate from './commands/eval';
import * as runCommand from './commands/run';
import * as generate from './commands/generate';
import * as grad from './commands/grad';
import * as logits from './commands/logits';
import * as sft from './commands/sft';
import * as tasks from './commands/tasks';
import * as verify from './commands/verify';

interface Command {
  usage: string;
  run(args: Args): Promise<void>;
}

const commands: Record<string, Command> = { logits, generate, chat, grad, sft, tasks, verify, run: runCommand, eval: evaluate };

/** Flags that take no value, across all commands. */
const BOOLEAN_FLAGS = ['stop-at-eos', 'no-progress', 'rslora', 'resume', 'partial-credit', 'constant-weights'];

/** Errors whose message says it all (bad input, limits): printed without a class name or stack. */
const PLAIN_ERRORS = new Set(['ModelFormatError', 'InputFileError', 'ConfigError', 'FileArgumentError', 'LineProblemsError', 'MemoryFileError', 'RunFileError', 'ZipError', 'StorageFullError', 'NonFiniteError', 'SourceError']);

const USAGE = `usage: pmd-lab <command> [options]

commands:
${Object.values(commands)
  .map((c) => `  ${c.usage}`)
  .join('\n')}

<ids>: token ids separated by "," and sequences by ";", e.g. 1,2,3;4,5
temperature 0 (the default) decodes greedily.`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return name ? 0 : 2;
  }
  const cmd = commands[name];
  if (!cmd) {
    console.error(`pmd-lab: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  try {
    await cmd.run(new Args(rest, BOOLEAN_FLAGS));
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`pmd-lab ${name}: ${e.message}\n\nusage: pmd-lab ${cmd.usage}`);
      return 2;
    }
    const err = e as Error;
    const plain = err instanceof ModelFormatError || err instanceof ConfigError || PLAIN_ERRORS.has(err.name);
    console.error(`pmd-lab ${name}: ${plain ? '' : `${err.name}: `}${err.message}`);
    if (process.env.PMD_LAB_DEBUG) console.error(err.stack);
    return 1;
  }
}
