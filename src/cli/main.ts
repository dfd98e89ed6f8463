/**
 * pmd-lab command line (Node, onnxruntime-node on the CPU). One module per command under
 * commands/, each a thin adapter over the engine (or the PMD loop) that shares its code with
 * the browser worker.
 */
import { ConfigError } from '../util/config-fields';
import { ModelFormatError } from '../engine/models/types';
import { Args, UsageError } from './args';

interface Command {
  usage: string;
  run(args: Args): Promise<void>;
}

/**
 * Each command's module, imported only when that command runs (or for the full usage text): a
 * process pays for loading the modules of one command, not of all of them.
 */
const commands: Record<string, () => Promise<Command>> = {
  logits: () => import('./commands/logits'),
  generate: () => import('./commands/generate'),
  chat: () => import('./commands/chat'),
  grad: () => import('./commands/grad'),
  sft: () => import('./commands/sft'),
  tasks: () => import('./commands/tasks'),
  verify: () => import('./commands/verify'),
  run: () => import('./commands/run'),
  eval: () => import('./commands/eval'),
};

/** Flags that take no value, across all commands. */
const BOOLEAN_FLAGS = ['stop-at-eos', 'no-progress', 'rslora', 'resume', 'partial-credit', 'constant-weights'];

/** Errors whose message says it all (bad input, limits): printed without a class name or stack. */
const PLAIN_ERRORS = new Set(['ModelFormatError', 'InputFileError', 'ConfigError', 'FileArgumentError', 'LineProblemsError', 'MemoryFileError', 'RunFileError', 'ZipError', 'StorageFullError', 'NonFiniteError', 'SourceError']);

async function usage(): Promise<string> {
  const all = await Promise.all(Object.values(commands).map((load) => load()));
  return `usage: pmd-lab <command> [options]

commands:
${all.map((c) => `  ${c.usage}`).join('\n')}

<ids>: token ids separated by "," and sequences by ";", e.g. 1,2,3;4,5
temperature 0 (the default) decodes greedily.`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(await usage());
    return name ? 0 : 2;
  }
  const load = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!load) {
    console.error(`pmd-lab: unknown command "${name}"\n\n${await usage()}`);
    return 2;
  }
  const cmd = await load();
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
