/**
 * pmd-lab command line (Node, onnxruntime-node on the CPU).
 *
 *   pmd-lab logits   --model <dir> --ids <ids> [--adapter <peft-dir>] --out <file.json>
 *   pmd-lab generate --model <dir> --ids <ids> --max-new-tokens <n> [--temperature t] [--top-p p]
 *                    [--top-k k] [--seed s] [--stop-at-eos] [--adapter <peft-dir>] --out <file.json>
 *   pmd-lab chat     --model <dir> [--max-new-tokens n] [--temperature t] [--seed s] "<text>"
 *
 * <ids> is token ids separated by "," with sequences separated by ";".
 */
import { writeFile } from 'node:fs/promises';
import { Args, parseIdLists, UsageError } from './args';
import { openNodeModel, type NodeModel } from './node-model';
import { generate } from '../engine/runtime/generate';
import { leftPadBatch } from '../engine/runtime/batch';
import { loadTokenizer } from '../engine/models/tokenizer';
import { ModelFormatError } from '../engine/models/types';
import { trainCommands, TRAIN_USAGE } from './train-commands';
import { tasksCommand, TASKS_USAGE } from './tasks-command';
import { verifyCommand, VERIFY_FLAGS, VERIFY_USAGE } from './verify-command';

const USAGE = `usage: pmd-lab <command> [options]

commands:
  logits    --model <dir> --ids <ids> [--adapter <peft-dir>] --out <file.json>
  generate  --model <dir> --ids <ids> --max-new-tokens <n> [--temperature <t>] [--top-p <p>]
            [--top-k <k>] [--seed <s>] [--stop-at-eos] [--adapter <peft-dir>] --out <file.json>
  chat      --model <dir> [--max-new-tokens <n>] [--temperature <t>] [--seed <s>] "<text>"
${TRAIN_USAGE}
${TASKS_USAGE}
${VERIFY_USAGE}

<ids>: token ids separated by "," and sequences by ";", e.g. 1,2,3;4,5
temperature 0 (the default) decodes greedily.`;

type Command = (args: Args) => Promise<void>;

const commands: Record<string, Command> = {
  logits: cmdLogits,
  generate: cmdGenerate,
  chat: cmdChat,
  ...trainCommands,
  tasks: tasksCommand,
  verify: verifyCommand,
};

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
    await cmd(new Args(rest, ['stop-at-eos', 'no-progress', ...VERIFY_FLAGS]));
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`pmd-lab ${name}: ${e.message}\n\n${USAGE}`);
      return 2;
    }
    const err = e as Error;
    console.error(`pmd-lab ${name}: ${err instanceof ModelFormatError ? '' : `${err.name}: `}${err.message}`);
    if (process.env.PMD_LAB_DEBUG) console.error(err.stack);
    return 1;
  }
}

async function withModel<T>(args: Args, fn: (m: NodeModel) => Promise<T>): Promise<T> {
  const m = await openNodeModel(args.required('model'), args.string('adapter'));
  try {
    return await fn(m);
  } finally {
    await m.runner.release();
  }
}

async function cmdLogits(args: Args): Promise<void> {
  const idsText = args.required('ids');
  const out = args.required('out');
  await withModel(args, async (m) => {
    args.rejectUnknown();
    const seqs = parseIdLists(idsText, m.config.vocabSize);
    const V = m.config.vocabSize;
    const b = leftPadBatch(seqs, m.padId);
    const res = await m.runner.forward({ ...b, logits: 'all', wantKv: false });
    const logits = seqs.map((s, i) => {
      const rows: number[][] = [];
      for (let p = b.pad[i]; p < b.seq; p++) {
        const off = (i * b.seq + p) * V;
        rows.push(Array.from(res.logits.subarray(off, off + V)));
      }
      return rows;
    });
    await writeFile(out, JSON.stringify({ logits }));
  });
}

async function cmdGenerate(args: Args): Promise<void> {
  const idsText = args.required('ids');
  const out = args.required('out');
  if (!args.has('max-new-tokens')) throw new UsageError('--max-new-tokens is required');
  const maxNewTokens = args.integer('max-new-tokens', 0);
  const temperature = args.number('temperature', 0);
  const topP = args.number('top-p', 1);
  const topK = args.integer('top-k', 0);
  const seed = args.integer('seed', 0);
  const stopAtEos = args.has('stop-at-eos');
  await withModel(args, async (m) => {
    args.rejectUnknown();
    const seqs = parseIdLists(idsText, m.config.vocabSize);
    const res = await generate(m.runner, seqs, {
      maxNewTokens,
      temperature,
      topP,
      topK,
      seed,
      stopAtEos,
      eosTokenIds: m.config.eosTokenIds,
      padTokenId: m.padId,
    });
    await writeFile(out, JSON.stringify({ ids: res.tokens, logprobs: res.logprobs, finish: res.finish }));
  });
}

async function cmdChat(args: Args): Promise<void> {
  const maxNewTokens = args.integer('max-new-tokens', 256, 1);
  const temperature = args.number('temperature', 0);
  const seed = args.integer('seed', 0);
  const text = args.positional.join(' ');
  if (!text.trim()) throw new UsageError('chat needs the message text, e.g. pmd-lab chat --model dir "Hello"');
  await withModel(args, async (m) => {
    args.rejectUnknown();
    if (!m.tokenizerJson) throw new ModelFormatError('tokenizer.json', `missing from ${args.required('model')}: chat needs a tokenizer`);
    const tok = loadTokenizer(m.tokenizerJson, m.tokenizerConfig, m.config.vocabSize);
    const messages = [{ role: 'user', content: text }];
    let ids: number[];
    if (tok.chat_template) {
      const prompt = tok.apply_chat_template(messages, { add_generation_prompt: true, tokenize: false }) as string;
      ids = tok.encode(prompt, { add_special_tokens: false });
    } else {
      ids = tok.encode(text);
    }
    const eos = new Set(m.config.eosTokenIds);
    if (tok.eos_token_id !== undefined && tok.eos_token_id !== null) eos.add(tok.eos_token_id);
    let printed = '';
    const produced: number[] = [];
    await generate(m.runner, [ids], {
      maxNewTokens,
      temperature,
      topP: 1,
      topK: 0,
      seed,
      stopAtEos: true,
      eosTokenIds: [...eos],
      padTokenId: m.padId,
      onToken: ({ tokens }) => {
        const t = tokens[0];
        if (t === null || eos.has(t)) return;
        produced.push(t);
        const full = tok.decode(produced, { skip_special_tokens: true });
        process.stdout.write(full.slice(printed.length));
        printed = full;
      },
    });
    process.stdout.write('\n');
  });
}
