/** The tokenizer as the engine uses it (chat templates, encoding, decoding). */

export interface ChatMessage {
  role: string;
  content: string;
}

/** What chat, SFT and the PMD loop need of a tokenizer; encoding and templates are async so they can run under a time limit elsewhere. */
export interface ChatTokenizer {
  readonly hasChatTemplate: boolean;
  readonly eosTokenId: number | null;
  applyChatTemplate(messages: ChatMessage[], opts: { addGenerationPrompt: boolean }): Promise<string>;
  encode(text: string, opts?: { addSpecialTokens?: boolean }): Promise<number[]>;
  decode(ids: readonly number[], opts?: { skipSpecialTokens?: boolean }): string;
}

