// The transformers.js calls behind TextTokenizer, in plain JavaScript so that the same code runs
// in-process (browser worker, tests) and inside the Node worker thread of tokenizer-node.ts,
// which can be terminated when an untrusted template or regex hangs. Types: tokenizer-calls.d.mts.

import { PreTrainedTokenizer } from '@huggingface/transformers';

export function createTokenizer(tokenizerJson, tokenizerConfig) {
  return new PreTrainedTokenizer(tokenizerJson, tokenizerConfig ?? {});
}

export function renderChatTemplate(tok, messages, addGenerationPrompt, maxChars) {
  const text = tok.apply_chat_template(messages, { tokenize: false, add_generation_prompt: addGenerationPrompt });
  return text.length > maxChars ? { tooLong: text.length } : { text };
}

export function encodeText(tok, text, addSpecialTokens) {
  return tok.encode(text, { add_special_tokens: addSpecialTokens });
}
