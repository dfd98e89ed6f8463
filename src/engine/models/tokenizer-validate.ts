/**
 * Structural checks of tokenizer.json and tokenizer_config.json, run before transformers.js sees
 * them. transformers.js accepts many malformed files and then misbehaves far from the cause (a
 * vocab that is a list loads and encodes everything to nothing; bad merges fail with
 * "x.split is not a function"; a broken chat template is a bare SyntaxError at first use). Here
 * each problem is a ModelFormatError naming the file and the field.
 */

import { Template } from '@huggingface/jinja';
import { ModelFormatError } from './types';
import { isRecord } from '../../util/records';

export const TOKENIZER_JSON = 'tokenizer.json';
export const TOKENIZER_CONFIG = 'tokenizer_config.json';

/** Model kinds transformers.js implements; others fall through to a model that yields no ids. */
const MODEL_TYPES = ['BPE', 'WordPiece', 'Unigram'] as const;

/** Special-token fields of tokenizer_config.json: a string, {"content": string} or null. */
const SPECIAL_TOKEN_FIELDS = ['bos_token', 'eos_token', 'unk_token', 'sep_token', 'pad_token', 'cls_token', 'mask_token'];

const isId = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) < 2 ** 31;

/** A short description of a JSON value for messages. */
function shown(v: unknown): string {
  const s = JSON.stringify(v);
  if (s === undefined) return String(v);
  if (s.length <= 60) return s;
  return Array.isArray(v) ? `a list of ${v.length}` : `${s.slice(0, 57)}...`;
}

function fail(file: string, msg: string): never {
  throw new ModelFormatError(file, msg);
}

/** token -> id for BPE and WordPiece models (checked in place: real vocabs hold 150k+ entries). */
function checkVocabMap(vocab: unknown, type: string): Record<string, unknown> {
  if (!isRecord(vocab)) fail(TOKENIZER_JSON, `model.vocab must be an object mapping token strings to ids for a ${type} model, got ${shown(vocab)}`);
  let size = 0;
  for (const token in vocab) {
    if (!isId(vocab[token])) fail(TOKENIZER_JSON, `model.vocab[${JSON.stringify(token)}] must be a non-negative integer id, got ${shown(vocab[token])}`);
    size += 1;
  }
  if (size === 0) fail(TOKENIZER_JSON, 'model.vocab is empty');
  return vocab;
}

function checkUnigramVocab(vocab: unknown): void {
  if (!Array.isArray(vocab) || vocab.length === 0) {
    fail(TOKENIZER_JSON, `model.vocab must be a non-empty list of [piece, score] pairs for a Unigram model, got ${shown(vocab)}`);
  }
  vocab.forEach((entry, i) => {
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string' || !Number.isFinite(entry[1])) {
      fail(TOKENIZER_JSON, `model.vocab[${i}] must be a [piece, score] pair with a finite score, got ${shown(entry)}`);
    }
  });
}

/**
 * Merges are "left right" strings or [left, right] pairs (one form throughout, as transformers.js
 * decides by the first), and left, right and their merge must all be in the vocab, as the
 * reference implementation requires.
 */
function checkMerges(model: Record<string, unknown>, vocab: Record<string, unknown>): void {
  const merges = model.merges;
  if (!Array.isArray(merges)) fail(TOKENIZER_JSON, `model.merges must be a list, got ${shown(merges)}`);
  const pairs = merges.length > 0 && Array.isArray(merges[0]);
  const prefix = typeof model.continuing_subword_prefix === 'string' ? model.continuing_subword_prefix : '';
  for (let i = 0; i < merges.length; i++) {
    const m: unknown = merges[i];
    const parts: unknown = pairs ? m : typeof m === 'string' ? m.split(' ') : null;
    if (!Array.isArray(parts) || parts.length !== 2 || typeof parts[0] !== 'string' || typeof parts[1] !== 'string' || !parts[0] || !parts[1]) {
      const form = pairs ? 'a [left, right] pair of strings' : 'a "left right" string';
      fail(TOKENIZER_JSON, `model.merges[${i}] must be ${form} (one form for all, as model.merges[0] sets it), got ${shown(m)}`);
    }
    const [left, right] = parts as [string, string];
    const merged = left + (prefix && right.startsWith(prefix) ? right.slice(prefix.length) : right);
    for (const token of [left, right, merged]) {
      if (!Object.hasOwn(vocab, token)) fail(TOKENIZER_JSON, `model.merges[${i}] ${shown(m)}: ${JSON.stringify(token)} is not in model.vocab`);
    }
  }
}

function checkAddedTokens(added: unknown): void {
  if (added === undefined || added === null) return;
  if (!Array.isArray(added)) fail(TOKENIZER_JSON, `added_tokens must be a list, got ${shown(added)}`);
  added.forEach((t: unknown, i: number) => {
    if (!isRecord(t) || !isId(t.id) || typeof t.content !== 'string' || t.content === '') {
      fail(TOKENIZER_JSON, `added_tokens[${i}] must be {"id": <non-negative integer>, "content": <non-empty string>, ...}, got ${shown(t)}`);
    }
  });
}

/** `pattern` fields (Split pre-tokenizers, Replace normalizers/decoders) hold {"Regex": s} or {"String": s}. */
function checkPatterns(node: unknown, path: string): void {
  if (Array.isArray(node)) {
    node.forEach((child, i) => checkPatterns(child, `${path}[${i}]`));
    return;
  }
  if (!isRecord(node)) return;
  for (const [key, child] of Object.entries(node)) {
    if (key === 'pattern') {
      const ok = isRecord(child) && (typeof child.Regex === 'string' || typeof child.String === 'string');
      if (!ok) fail(TOKENIZER_JSON, `${path}.pattern must be {"Regex": <string>} or {"String": <string>}, got ${shown(child)}`);
    } else {
      checkPatterns(child, `${path}.${key}`);
    }
  }
}

export function validateTokenizerJson(json: unknown): void {
  if (!isRecord(json)) fail(TOKENIZER_JSON, 'missing or not a JSON object');
  const model = json.model;
  if (!isRecord(model)) fail(TOKENIZER_JSON, 'has no "model" section');
  const type = model.type;
  if (typeof type !== 'string' || !(MODEL_TYPES as readonly string[]).includes(type)) {
    fail(TOKENIZER_JSON, `model.type ${shown(type)} is not supported; expected one of ${MODEL_TYPES.join(', ')}`);
  }
  if (type === 'Unigram') {
    checkUnigramVocab(model.vocab);
  } else {
    const vocab = checkVocabMap(model.vocab, type);
    if (type === 'BPE') checkMerges(model, vocab);
  }
  checkAddedTokens(json.added_tokens);
  for (const key of ['normalizer', 'pre_tokenizer', 'decoder']) checkPatterns(json[key], key);
}

function checkTemplate(template: unknown, where: string): void {
  if (typeof template !== 'string') fail(TOKENIZER_CONFIG, `${where} must be a string, got ${shown(template)}`);
  try {
    new Template(template);
  } catch (e) {
    fail(TOKENIZER_CONFIG, `${where} does not parse as a Jinja template: ${(e as Error).message}`);
  }
}

/** A string template, or a list of named ones of which "default" is used (as transformers.js does). */
function checkChatTemplate(t: unknown): void {
  if (t === undefined || t === null) return;
  if (!Array.isArray(t)) return checkTemplate(t, 'chat_template');
  const names: string[] = [];
  t.forEach((entry: unknown, i: number) => {
    if (!isRecord(entry) || typeof entry.name !== 'string') {
      fail(TOKENIZER_CONFIG, `chat_template[${i}] must be {"name": <string>, "template": <string>}, got ${shown(entry)}`);
    }
    checkTemplate(entry.template, `chat_template "${entry.name}"`);
    names.push(entry.name);
  });
  if (!names.includes('default')) fail(TOKENIZER_CONFIG, `chat_template lists ${shown(names)} but none is named "default"`);
}

/**
 * Returns the config as transformers.js wants it: an object ({} when absent) whose special tokens
 * are plain strings (older files write them as {"content": ..., ...} objects, which it rejects).
 */
export function validateTokenizerConfig(config: unknown): Record<string, unknown> {
  if (config === null || config === undefined) return {};
  if (!isRecord(config)) fail(TOKENIZER_CONFIG, `not a JSON object, got ${shown(config)}`);
  const out = { ...config };
  for (const key of SPECIAL_TOKEN_FIELDS) {
    const v = config[key];
    if (v === undefined || v === null || typeof v === 'string') continue;
    if (!isRecord(v) || typeof v.content !== 'string') fail(TOKENIZER_CONFIG, `${key} must be a string or {"content": <string>}, got ${shown(v)}`);
    out[key] = v.content;
  }
  checkChatTemplate(config.chat_template);
  return out;
}
