/** pmd-lab chat --model <dir> [--max-new-tokens n] [--temperature t] [--seed s] "<text>" */
import { chat, stopTokenIds } from '../../engine/runtime/chat';
import { Args, UsageError } from '../args';
import { CONSTANT_WEIGHTS_USAGE, checkpointTokenizer, runnerOptions, withNodeModel } from '../node-model';

export const usage = `chat      --model <dir> [--max-new-tokens <n>] [--temperature <t>] [--seed <s>] [--adapter <peft-dir>] ${CONSTANT_WEIGHTS_USAGE} "<text>"`;

export async function run(args: Args): Promise<void> {
  const maxNewTokens = args.integer('max-new-tokens', 256, 1);
  const temperature = args.number('temperature', 0);
  const seed = args.integer('seed', 0);
  const model = args.required('model');
  const adapter = args.string('adapter');
  const runner = runnerOptions(args);
  const text = args.positional.join(' ');
  if (!text.trim()) throw new UsageError('chat needs the message text, e.g. pmd-lab chat --model dir "Hello"');
  args.rejectUnknown();
  await withNodeModel(model, adapter, async (m) => {
    const tok = await checkpointTokenizer(m, 'chat');
    try {
      await chat(m.runner, tok, text, {
        maxNewTokens,
        temperature,
        topP: 1,
        topK: 0,
        seed,
        eosTokenIds: stopTokenIds(m.config.eosTokenIds, tok),
        padTokenId: m.padId,
        onText: ({ delta }) => process.stdout.write(delta),
      });
      process.stdout.write('\n');
    } finally {
      await tok.dispose();
    }
  }, runner);
}
