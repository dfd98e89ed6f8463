/** The tiny fixture tokenizer's two files as editable JSON, and a helper that always disposes a tokenizer. */
import { makeTinyTokenizer } from '../../scripts/tiny-model';
import type { TextTokenizer } from '../../src/engine/models/tokenizer';

export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Fresh copies of tokenizer.json and tokenizer_config.json, after `edit`. */
export function tokenizerFiles(edit: (json: Json, config: Json) => void = () => {}): [Json, Json] {
  const t = makeTinyTokenizer();
  const json = structuredClone(t.tokenizerJson) as Json;
  const config = structuredClone(t.tokenizerConfig) as Json;
  edit(json, config);
  return [json, config];
}

/** Run `fn` with `tok`, then dispose it (stopping any worker thread) whatever happens. */
export async function using<T>(tok: TextTokenizer, fn: (tok: TextTokenizer) => Promise<T>): Promise<T> {
  try {
    return await fn(tok);
  } finally {
    await tok.dispose();
  }
}
