/** The engine's ChatTokenizer over a transformers.js tokenizer, in process. */
import type { PreTrainedTokenizer } from '@huggingface/transformers';
import type { ChatMessage, ChatTokenizer } from './text-tokenizer';

export function chatTokenizer(tok: PreTrainedTokenizer): ChatTokenizer {
  return {
    hasChatTemplate: Boolean(tok.chat_template),
    eosTokenId: tok.eos_token_id ?? null,
    async applyChatTemplate(messages: ChatMessage[], opts: { addGenerationPrompt: boolean }) {
      return String(tok.apply_chat_template(messages, { add_generation_prompt: opts.addGenerationPrompt, tokenize: false }));
    },
    async encode(text: string, opts?: { addSpecialTokens?: boolean }) {
      return tok.encode(text, { add_special_tokens: opts?.addSpecialTokens ?? true });
    },
    decode(ids: readonly number[], opts?: { skipSpecialTokens?: boolean }) {
      return tok.decode([...ids], { skip_special_tokens: opts?.skipSpecialTokens ?? false });
    },
  };
}
