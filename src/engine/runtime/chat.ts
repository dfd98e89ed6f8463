/**
 * Chat, written once for the CLI (`pmd-lab chat`) and the worker: a user message becomes prompt
 * ids through the tokenizer's chat template (or the bare text when it has none), the model
 * generates, and the reply is decoded as it streams, without special tokens.
 */
import { generate, type GenerateOptions, type GenerateResult } from './generate';
import type { ModelRunner } from './model-runner';
import type { TextTokenizer } from '../models/tokenizer';

/** Prompt ids of one user message: the chat template with the generation prompt, else the bare text. */
export async function userPromptIds(tok: TextTokenizer, text: string): Promise<number[]> {
  if (!tok.hasChatTemplate) return tok.encode(text);
  const prompt = await tok.applyChatTemplate([{ role: 'user', content: text }], { addGenerationPrompt: true });
  return tok.encode(prompt, { addSpecialTokens: false });
}

/** The model's EOS ids plus the tokenizer's own EOS. */
export function stopTokenIds(eosTokenIds: readonly number[], tok: TextTokenizer): number[] {
  const eos = new Set(eosTokenIds);
  if (tok.eosTokenId !== null) eos.add(tok.eosTokenId);
  return [...eos];
}

export interface ChatOptions extends Omit<GenerateOptions, 'onToken' | 'stopAtEos'> {
  /** After every generated token: the reply decoded so far and what it added. */
  onText?: (e: { step: number; token: number | null; text: string; delta: string }) => void;
}

export interface ChatResult extends GenerateResult {
  text: string;
}

export async function chat(runner: ModelRunner, tok: TextTokenizer, message: string, o: ChatOptions): Promise<ChatResult> {
  const text = message.trim();
  if (!text) throw new Error('the message is empty');
  const ids = await userPromptIds(tok, text);
  const eos = new Set(o.eosTokenIds);
  const produced: number[] = [];
  let shown = '';
  const res = await generate(runner, [ids], {
    ...o,
    stopAtEos: true,
    onToken: ({ step, tokens }) => {
      const t = tokens[0];
      if (t !== null && !eos.has(t)) produced.push(t);
      const full = tok.decode(produced, { skipSpecialTokens: true });
      const delta = full.startsWith(shown) ? full.slice(shown.length) : full;
      shown = full;
      o.onText?.({ step, token: t, text: full, delta });
    },
  });
  return { ...res, text: tok.decode(res.tokens[0].filter((t) => !eos.has(t)), { skipSpecialTokens: true }) };
}
