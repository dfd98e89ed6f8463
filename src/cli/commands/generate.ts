/**
 * pmd-lab generate --model <dir> --ids <ids> --max-new-tokens <n> [--temperature t] [--top-p p]
 *                  [--top-k k] [--seed s] [--stop-at-eos] [--adapter <peft-dir>] [--constant-weights] --out <file.json>
 * Temperature 0 (the default) decodes greedily.
 */
import { generate } from '../../engine/runtime/generate';
import { Args, parseIdLists, UsageError } from '../args';
import { CONSTANT_WEIGHTS_USAGE, runnerOptions, withNodeModel } from '../node-model';
import { checkOutputPath, writeFileAtomic } from '../outputs';

export const usage = `generate  --model <dir> --ids <ids> --max-new-tokens <n> [--temperature <t>] [--top-p <p>]
            [--top-k <k>] [--seed <s>] [--stop-at-eos] [--adapter <peft-dir>] ${CONSTANT_WEIGHTS_USAGE} --out <file.json>`;

export async function run(args: Args): Promise<void> {
  const idsText = args.required('ids');
  const out = args.required('out');
  if (!args.has('max-new-tokens')) throw new UsageError('--max-new-tokens is required');
  const sampling = {
    maxNewTokens: args.integer('max-new-tokens', 0),
    temperature: args.number('temperature', 0),
    topP: args.number('top-p', 1),
    topK: args.integer('top-k', 0),
    seed: args.integer('seed', 0),
    stopAtEos: args.has('stop-at-eos'),
  };
  const model = args.required('model');
  const adapter = args.string('adapter');
  const runner = runnerOptions(args);
  args.rejectUnknown();
  await checkOutputPath('out', out, 'file');
  await withNodeModel(model, adapter, async (m) => {
    const seqs = parseIdLists(idsText, m.config.vocabSize);
    const res = await generate(m.runner, seqs, { ...sampling, eosTokenIds: m.config.eosTokenIds, padTokenId: m.padId });
    await writeFileAtomic(out, JSON.stringify({ ids: res.tokens, logprobs: res.logprobs, finish: res.finish }));
  }, runner);
}
