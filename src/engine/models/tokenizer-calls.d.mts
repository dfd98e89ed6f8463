import type { PreTrainedTokenizer } from '@huggingface/transformers';

export function createTokenizer(tokenizerJson: unknown, tokenizerConfig: unknown): PreTrainedTokenizer;

/** The rendered template, or its length when it exceeds `maxChars`. Throws what the template throws. */
export function renderChatTemplate(
  tok: PreTrainedTokenizer,
  messages: readonly { role: string; content: string }[],
  addGenerationPrompt: boolean,
  maxChars: number,
): { text: string } | { tooLong: number };

export function encodeText(tok: PreTrainedTokenizer, text: string, addSpecialTokens: boolean): number[];
