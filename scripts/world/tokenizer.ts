/**
 * The world model's tokenizer: the byte-level BPE of scripts/tiny-model.ts (same
 * pre-tokenizer, byte table, special tokens and Qwen-style chat template, taken from
 * `makeTinyTokenizer`), with merges learned from the world's own corpus so that the words of
 * the memory layout cost few tokens, followed by merges that make every name of the world one
 * token (after a space, as names are always written). One token per name makes copying a name
 * and finding it in memory a one-token match, which a small model learns far sooner than
 * matching several pieces.
 */
import { bytesToUnicode, makeTinyTokenizer, type TinyTokenizer } from '../tiny-model';
import { isRecord } from '../../src/util/records';

/** Unique pre-tokens of the texts (as byte-table symbols) with their counts. */
function wordCounts(texts: readonly string[], pattern: RegExp): Map<string, number> {
  const table = bytesToUnicode();
  const enc = new TextEncoder();
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (const m of text.matchAll(pattern)) {
      const w = Array.from(enc.encode(m[0]), (b) => table[b]).join(' ');
      counts.set(w, (counts.get(w) ?? 0) + 1);
    }
  }
  return counts;
}

/**
 * Greedy BPE: repeatedly merge the most frequent adjacent pair (ties: the pair that sorts
 * first), `count` times or until no pair occurs twice.
 */
export function learnBpeMerges(texts: readonly string[], pattern: RegExp, count: number): [string, string][] {
  const words = [...wordCounts(texts, pattern)].map(([w, n]) => ({ parts: w.split(' '), n }));
  const merges: [string, string][] = [];
  for (let round = 0; round < count; round++) {
    const freq = new Map<string, number>();
    for (const { parts, n } of words) {
      for (let i = 1; i < parts.length; i++) {
        const key = parts[i - 1] + ' ' + parts[i];
        freq.set(key, (freq.get(key) ?? 0) + n);
      }
    }
    let top = '';
    let topN = 1;
    for (const [key, n] of freq) if (n > topN || (n === topN && top !== '' && key < top)) [top, topN] = [key, n];
    if (top === '') break;
    const [a, b] = top.split(' ');
    merges.push([a, b]);
    for (const w of words) {
      for (let i = 1; i < w.parts.length; i++) {
        if (w.parts[i - 1] === a && w.parts[i] === b) w.parts.splice(i - 1, 2, a + b);
      }
    }
  }
  return merges;
}

/** BPE pieces of one pre-token (already in byte-table symbols) under ranked merges. */
export function bpePieces(word: string, ranks: ReadonlyMap<string, number>): string[] {
  const parts = [...word];
  for (;;) {
    let best = -1;
    let bestRank = Infinity;
    for (let i = 1; i < parts.length; i++) {
      const r = ranks.get(parts[i - 1] + ' ' + parts[i]);
      if (r !== undefined && r < bestRank) [best, bestRank] = [i, r];
    }
    if (best < 0) return parts;
    parts.splice(best - 1, 2, parts[best - 1] + parts[best]);
  }
}

/** Append merges (lowest priority) until each word, written after a space, is a single token. */
export function mergeWholeWords(merges: [string, string][], words: readonly string[]): void {
  const table = bytesToUnicode();
  const enc = new TextEncoder();
  const ranks = new Map(merges.map(([a, b], i) => [a + ' ' + b, i]));
  for (const w of words) {
    const sym = Array.from(enc.encode(` ${w}`), (b) => table[b]).join('');
    for (let pieces = bpePieces(sym, ranks); pieces.length > 1; pieces = bpePieces(sym, ranks)) {
      ranks.set(pieces[0] + ' ' + pieces[1], merges.length);
      merges.push([pieces[0], pieces[1]]);
    }
  }
}

/**
 * A tokenizer whose merges come from `texts` (then whole-word merges for `words`); ids: bytes,
 * then merges, then the special tokens.
 */
export function makeWorldTokenizer(texts: readonly string[], numMerges: number, words: readonly string[] = []): TinyTokenizer {
  const base = makeTinyTokenizer(0);
  const json = structuredClone(base.tokenizerJson) as Record<string, any>;
  const split = json.pre_tokenizer.pretokenizers[0].pattern.Regex as string;
  const merges = learnBpeMerges(texts, new RegExp(split, 'gu'), numMerges);
  mergeWholeWords(merges, words);
  const vocab: Record<string, number> = {};
  let next = 0;
  for (const ch of bytesToUnicode()) vocab[ch] = next++;
  for (const [a, b] of merges) if (!(a + b in vocab)) vocab[a + b] = next++;
  json.model.vocab = vocab;
  json.model.merges = merges;
  const ids: number[] = [];
  for (const t of json.added_tokens as Record<string, unknown>[]) {
    t.id = next++;
    ids.push(t.id as number);
  }
  const config = structuredClone(base.tokenizerConfig);
  const decoder: Record<string, unknown> = {};
  const oldDecoder = config.added_tokens_decoder;
  if (isRecord(oldDecoder)) Object.values(oldDecoder).forEach((v, i) => (decoder[String(ids[i])] = v));
  config.added_tokens_decoder = decoder;
  const [endoftext, imStart, imEnd] = ids;
  return { tokenizerJson: json, tokenizerConfig: config, size: next, ids: { endoftext, imStart, imEnd } };
}
