/**
 * Supervised fine-tuning data, shared by the CLI's `sft` and the browser worker so both train
 * on exactly the same token ids in the same order:
 *   - parseSftJsonl: lines {"prompt": string, "response": string}, errors naming the line;
 *   - sftSample / tokenizeSft: token ids and the response start (chat template when the
 *     tokenizer has one, else prompt and response tokenized separately and concatenated);
 *   - SftSchedule: epochs over a seeded shuffle, each step taking the next batch.
 */
import { ModelFormatError } from '../models/types';
import { Prng } from '../../util/prng';
import type { TrainSample } from './batching';
import type { TextTokenizer } from '../models/tokenizer';
import { isRecord } from '../../util/records';


/**
 * A problem with an input file; the message starts with the file (and line). A
 * ModelFormatError, so the CLI prints it without an error-class prefix.
 */
export class InputFileError extends ModelFormatError {
  constructor(where: string, message: string) {
    super(where, message);
    this.name = 'InputFileError';
  }
}



export interface SftRow {
  prompt: string;
  response: string;
}

/** Parse JSONL of {"prompt", "response"} (blank lines skipped); errors name the line number. */
export function parseSftJsonl(text: string, file = 'data.jsonl'): SftRow[] {
  const rows: SftRow[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    const at = `${file} line ${i + 1}`;
    if (line.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new InputFileError(at, `not valid JSON (${(e as Error).message})`);
    }
    if (!isRecord(v)) throw new InputFileError(at, `must be an object {"prompt": string, "response": string}`);
    if (typeof v.prompt !== 'string') throw new InputFileError(at, `"prompt" must be a string`);
    if (typeof v.response !== 'string') throw new InputFileError(at, `"response" must be a string`);
    if (v.response === '') throw new InputFileError(at, `"response" is empty; there is nothing to train on`);
    rows.push({ prompt: v.prompt, response: v.response });
  });
  if (rows.length === 0) throw new InputFileError(file, `no examples (expected one JSON object per line)`);
  return rows;
}

/**
 * Token ids and response start of one example. With a chat template: the prompt is the
 * templated user turn with the generation prompt, the response everything the templated
 * conversation (user + assistant) adds after it (the answer, end-of-turn token, ...). Without
 * one: the prompt and the response tokenized separately and concatenated.
 */
export async function sftSample(tok: TextTokenizer, row: SftRow): Promise<TrainSample & { templated: boolean }> {
  if (tok.hasChatTemplate) {
    const user = [{ role: 'user', content: row.prompt }];
    const promptText = await tok.applyChatTemplate(user, { addGenerationPrompt: true });
    const fullText = await tok.applyChatTemplate([...user, { role: 'assistant', content: row.response }], { addGenerationPrompt: false });
    const promptIds = await tok.encode(promptText, { addSpecialTokens: false });
    // Normally the conversation extends the prompt; else fall back to the bare response text.
    const rest = fullText.startsWith(promptText) ? fullText.slice(promptText.length) : row.response;
    const respIds = await tok.encode(rest, { addSpecialTokens: false });
    return { ids: [...promptIds, ...respIds], response_start: promptIds.length, templated: true };
  }
  const promptIds = await tok.encode(row.prompt);
  const respIds = await tok.encode(row.response, { addSpecialTokens: false });
  return { ids: [...promptIds, ...respIds], response_start: promptIds.length, templated: false };
}

/** Tokenize every row; an example whose prompt or response tokenizes to nothing is an error naming it. */
export async function tokenizeSft(tok: TextTokenizer, rows: readonly SftRow[], file = 'data.jsonl'): Promise<TrainSample[]> {
  const out: TrainSample[] = [];
  for (const [i, r] of rows.entries()) {
    const s = await sftSample(tok, r);
    if (s.response_start < 1) throw new InputFileError(file, `example ${i + 1}: the prompt tokenizes to nothing; the first response token would have no preceding position`);
    if (s.ids.length <= s.response_start) throw new InputFileError(file, `example ${i + 1}: the response tokenizes to nothing`);
    out.push({ ids: s.ids, response_start: s.response_start });
  }
  return out;
}

/** Batches for SFT steps: epochs over a seeded shuffle of the examples, `batchSize` per step. */
export class SftSchedule {
  private readonly rng: Prng;
  private order: number[] = [];

  constructor(private readonly samples: readonly TrainSample[], readonly batchSize: number, seed: number) {
    if (samples.length === 0) throw new Error('no examples to train on');
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`batch size must be a whole number >= 1, got ${batchSize}`);
    this.rng = new Prng(seed);
  }

  next(): TrainSample[] {
    const batch: TrainSample[] = [];
    while (batch.length < this.batchSize) {
      if (this.order.length === 0) {
        this.order = this.samples.map((_, i) => i);
        for (let i = this.order.length - 1; i > 0; i--) {
          const j = Math.floor(this.rng.next() * (i + 1));
          [this.order[i], this.order[j]] = [this.order[j], this.order[i]];
        }
      }
      batch.push(this.samples[this.order.pop()!]);
    }
    return batch;
  }
}
