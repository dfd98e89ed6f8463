/**
 * Text tokenizers built from a model folder's tokenizer.json and tokenizer_config.json
 * (browser-safe). The files are validated first (tokenizer-validate.ts); transformers.js then does
 * the work, so token ids are exactly those of transformers. Rendering a chat template and
 * encoding run untrusted code (Jinja loops, pre-tokenizer regexes), so they sit behind limits:
 * the rendered length is always capped, and in Node loadTokenizerInWorker (tokenizer-node.ts)
 * also stops calls that run past their time limits.
 */

import type { PreTrainedTokenizer } from '@huggingface/transformers';
import { createTokenizer, encodeText, renderChatTemplate } from './tokenizer-calls.mjs';
import { TOKENIZER_CONFIG, TOKENIZER_JSON, validateTokenizerConfig, validateTokenizerJson } from './tokenizer-validate';
import { ModelFormatError } from './types';

export interface ChatMessage {
  role: string;
  content: string;
}

export interface TextTokenizer {
  readonly hasChatTemplate: boolean;
  /** The id of tokenizer_config.json's eos_token, or null when it names none. */
  readonly eosTokenId: number | null;
  /** The id of its pad_token (falling back to eos_token, as transformers does), or null. */
  readonly padTokenId: number | null;
  /** Largest token id the tokenizer can produce, plus one. */
  readonly vocabSize: number;
  applyChatTemplate(messages: ChatMessage[], opts: { addGenerationPrompt: boolean }): Promise<string>;
  /** Token ids of `text`; special tokens (BOS, ...) are added unless addSpecialTokens is false. */
  encode(text: string, opts?: { addSpecialTokens?: boolean }): Promise<number[]>;
  decode(ids: readonly number[], opts?: { skipSpecialTokens?: boolean }): string;
  /** Stops any worker thread; the tokenizer cannot be used afterwards. */
  dispose(): Promise<void>;
}

export interface TokenizerLimits {
  /** Longest a chat template may render, in ms (enforced where a call can be stopped: the Node worker). */
  templateMs: number;
  /** Most characters a rendered chat template may hold. */
  templateChars: number;
  /** Longest one encode() may run, in ms (enforced like templateMs). */
  encodeMs: number;
}

export const DEFAULT_TOKENIZER_LIMITS: TokenizerLimits = { templateMs: 2_000, templateChars: 1_000_000, encodeMs: 10_000 };

export interface LoadTokenizerOptions {
  /** The model's embedding rows: every token id the tokenizer can produce must be below it. */
  vocabSize?: number;
  limits?: Partial<TokenizerLimits>;
}

export function resolveLimits(limits: Partial<TokenizerLimits> = {}): TokenizerLimits {
  const out = { ...DEFAULT_TOKENIZER_LIMITS, ...limits };
  for (const [key, v] of Object.entries(out)) {
    if (!(typeof v === 'number' && v > 0 && Number.isFinite(v))) throw new Error(`tokenizer limit ${key} must be a positive number, got ${v}`);
  }
  return out;
}

function maxTokenId(tok: PreTrainedTokenizer): number {
  let maxId = -1;
  for (const id of tok.get_vocab().values()) maxId = Math.max(maxId, id);
  return maxId;
}

/**
 * Validate both files and build the transformers.js tokenizer; every loader here starts with this.
 * `config` is tokenizer_config.json as handed to transformers.js (see validateTokenizerConfig).
 */
export function buildTransformersTokenizer(
  tokenizerJson: unknown,
  tokenizerConfig: unknown,
  vocabSize?: number,
): { tok: PreTrainedTokenizer; config: Record<string, unknown> } {
  validateTokenizerJson(tokenizerJson);
  const config = validateTokenizerConfig(tokenizerConfig);
  let tok: PreTrainedTokenizer;
  try {
    tok = createTokenizer(tokenizerJson, config);
  } catch (e) {
    throw new ModelFormatError(TOKENIZER_JSON, `cannot be loaded: ${(e as Error).message}`);
  }
  const eos = config.eos_token;
  if (typeof eos === 'string' && (tok.eos_token_id === undefined || tok.eos_token_id === null)) {
    throw new ModelFormatError(
      TOKENIZER_CONFIG,
      `eos_token ${JSON.stringify(eos)} is not a token of ${TOKENIZER_JSON} (neither in model.vocab nor in added_tokens), so generation could never stop on it`,
    );
  }
  if (vocabSize !== undefined) {
    const maxId = maxTokenId(tok);
    if (maxId >= vocabSize) {
      throw new ModelFormatError(TOKENIZER_JSON, `token id ${maxId} does not fit the model's vocab_size of ${vocabSize}`);
    }
  }
  return { tok, config };
}

// Errors of the guarded calls, shared with the worker-backed tokenizer.

export function templateTimeout(limits: TokenizerLimits): ModelFormatError {
  return new ModelFormatError(
    TOKENIZER_CONFIG,
    `chat_template did not finish rendering within ${limits.templateMs} ms (limit templateMs); the template may loop without end`,
  );
}

export function encodeTimeout(chars: number, limits: TokenizerLimits): ModelFormatError {
  return new ModelFormatError(
    TOKENIZER_JSON,
    `encoding ${chars} characters did not finish within ${limits.encodeMs} ms (limit encodeMs); ` +
      `a normalizer or pre_tokenizer regex may backtrack without end`,
  );
}

export function templateFailed(message: string): ModelFormatError {
  return new ModelFormatError(TOKENIZER_CONFIG, `chat_template failed while rendering: ${message}`);
}

export function encodeFailed(message: string): ModelFormatError {
  return new ModelFormatError(TOKENIZER_JSON, `encoding failed: ${message}`);
}

/** The text of a render, or the templateChars error. */
export function renderedText(result: { text: string } | { tooLong: number }, limits: TokenizerLimits): string {
  if ('text' in result) return result.text;
  throw new ModelFormatError(
    TOKENIZER_CONFIG,
    `chat_template rendered ${result.tooLong} characters, more than the limit of ${limits.templateChars} (templateChars)`,
  );
}

const errorMessage = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/**
 * A TextTokenizer that runs transformers.js in the calling thread. It caps rendered templates
 * but cannot interrupt a template or regex that never ends. In the browser the engine already
 * runs in a Web Worker and uses this class: the UI side is responsible for noticing a hung worker
 * (no answer within the limits) and terminating it. In Node, use loadTokenizerInWorker.
 */
export class LocalTokenizer implements TextTokenizer {
  readonly hasChatTemplate: boolean;
  readonly eosTokenId: number | null;
  readonly padTokenId: number | null;
  readonly vocabSize: number;

  constructor(
    protected readonly tok: PreTrainedTokenizer,
    readonly limits: TokenizerLimits,
  ) {
    this.hasChatTemplate = Boolean(tok.chat_template);
    this.eosTokenId = tok.eos_token_id ?? null;
    this.padTokenId = tok.pad_token_id ?? null;
    this.vocabSize = maxTokenId(tok) + 1;
  }

  protected checkTemplate(): void {
    if (!this.hasChatTemplate) throw new ModelFormatError(TOKENIZER_CONFIG, 'has no chat_template (check hasChatTemplate first)');
  }

  async applyChatTemplate(messages: ChatMessage[], opts: { addGenerationPrompt: boolean }): Promise<string> {
    this.checkTemplate();
    let result: { text: string } | { tooLong: number };
    try {
      result = renderChatTemplate(this.tok, messages, opts.addGenerationPrompt, this.limits.templateChars);
    } catch (e) {
      throw templateFailed(errorMessage(e));
    }
    return renderedText(result, this.limits);
  }

  async encode(text: string, opts: { addSpecialTokens?: boolean } = {}): Promise<number[]> {
    try {
      return encodeText(this.tok, text, opts.addSpecialTokens ?? true);
    } catch (e) {
      throw encodeFailed(errorMessage(e));
    }
  }

  decode(ids: readonly number[], opts: { skipSpecialTokens?: boolean } = {}): string {
    return this.tok.decode([...ids], { skip_special_tokens: opts.skipSpecialTokens ?? false });
  }

  async dispose(): Promise<void> {}
}

/**
 * The validated transformers.js tokenizer itself: what the CLI and the browser worker used
 * before TextTokenizer. Kept for them until they adopt loadTokenizer's TextTokenizer.
 */
export function loadTransformersTokenizer(tokenizerJson: unknown, tokenizerConfig: unknown, vocabSize?: number): PreTrainedTokenizer {
  return buildTransformersTokenizer(tokenizerJson, tokenizerConfig, vocabSize).tok;
}

/**
 * A validated in-process TextTokenizer. Transitional: called with a number as the third argument
 * (the old signature) it still returns the bare transformers.js tokenizer, as loadTransformersTokenizer.
 */
export function loadTokenizer(tokenizerJson: unknown, tokenizerConfig: unknown, opts?: LoadTokenizerOptions): TextTokenizer {
  const limits = resolveLimits(opts?.limits);
  return new LocalTokenizer(buildTransformersTokenizer(tokenizerJson, tokenizerConfig, opts?.vocabSize).tok, limits);
}
