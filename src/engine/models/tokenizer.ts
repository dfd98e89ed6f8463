/** Build a transformers.js tokenizer from the parsed tokenizer.json / tokenizer_config.json. */

import { PreTrainedTokenizer } from '@huggingface/transformers';
import { ModelFormatError } from './types';
import { isRecord } from '../../util/records';


/**
 * `vocabSize`, when given, is the model's embedding rows: every token id the tokenizer can
 * produce must index one of them.
 */
export function loadTokenizer(tokenizerJson: unknown, tokenizerConfig: unknown, vocabSize?: number): PreTrainedTokenizer {
  if (!isRecord(tokenizerJson)) throw new ModelFormatError('tokenizer.json', 'missing or not a JSON object');
  if (!isRecord(tokenizerJson.model)) throw new ModelFormatError('tokenizer.json', 'has no "model" section');
  if (tokenizerConfig !== null && tokenizerConfig !== undefined && !isRecord(tokenizerConfig)) {
    throw new ModelFormatError('tokenizer_config.json', 'not a JSON object');
  }
  let tok: PreTrainedTokenizer;
  try {
    tok = new PreTrainedTokenizer(tokenizerJson, tokenizerConfig ?? {});
  } catch (e) {
    throw new ModelFormatError('tokenizer.json', `cannot be loaded: ${(e as Error).message}`);
  }
  if (vocabSize !== undefined) {
    let maxId = -1;
    for (const id of tok.get_vocab().values()) maxId = Math.max(maxId, id);
    if (maxId >= vocabSize) {
      throw new ModelFormatError('tokenizer.json', `token id ${maxId} does not fit the model's vocab_size of ${vocabSize}`);
    }
  }
  return tok;
}
