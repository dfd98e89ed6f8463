/**
 * Seeded generator of tiny Hugging Face model folders (config, safetensors weights, a real
 * byte-level BPE tokenizer, generation config) for tests and the playground.
 *
 *   npx tsx scripts/tiny-model.ts <outdir> [--family qwen3] [--seed 1] [--tied] [--dtype BF16]
 *       [--layout v5] [--shards 2] [--rope-scaling] [--vocab-size 384] [--hidden-size 64] ...
 */

import { parseModelConfig } from '../src/engine/models/config';
import { writeSafetensors, type WritableDtype } from '../src/engine/models/safetensors';
import type { Family } from '../src/engine/models/types';
import { expectedWeights } from '../src/engine/models/weight-layout';
import { hashSeed, Prng } from '../src/util/prng';

export interface TinyCheckpointOptions {
  family: Family;
  seed: number;
  tied?: boolean;
  dtype?: WritableDtype;
  layout?: 'classic' | 'v5';
  shards?: number;
  ropeScaling?: boolean;
  /** llama only: biases on q/k/v/o (`attention_bias`) and on the MLP (`mlp_bias`). */
  attentionBias?: boolean;
  mlpBias?: boolean;
  vocabSize?: number;
  hiddenSize?: number;
  layers?: number;
  heads?: number;
  kvHeads?: number;
  headDim?: number;
  intermediate?: number;
}

export const TINY_DEFAULTS = { hiddenSize: 64, layers: 2, heads: 4, kvHeads: 2, headDim: 16, intermediate: 96 };

// ---------------------------------------------------------------------------------------------
// Tokenizer

/** Pre-tokenizer pattern (JS and Rust regex compatible), in the spirit of Qwen's. */
const SPLIT_PATTERN =
  "'(?:[sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

export const SPECIAL_TOKENS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'] as const;

const CHAT_TEMPLATE =
  "{%- for message in messages %}" +
  "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}" +
  "{%- endfor %}" +
  "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

/** Text the merges are learned from. */
const CORPUS = `Hello world! Hello there, and welcome to the small model lab.
The quick brown fox jumps over the lazy dog, and then the dog runs after the fox.
In this world there are many things to learn: the sun, the sea, the stars and the trees.
We think that a good question is worth more than a quick answer. What do you think?
She said hello to the world, and the world said hello back to her.
There is a time for work and a time for play; the best of them is the one you share.
This is the house that they built in the spring, with the help of their friends.
I would like to know what you are thinking about when you are reading this line.
Numbers like 1, 2, 3 and 42 show up in text as well as words and sentences.
The assistant answers the user, and the user thanks the assistant for the help.`;

/** GPT-2's reversible byte -> printable character table. */
export function bytesToUnicode(): string[] {
  const keep: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) keep.push(b);
  for (let b = 0xa1; b <= 0xac; b++) keep.push(b);
  for (let b = 0xae; b <= 0xff; b++) keep.push(b);
  const table: string[] = new Array(256);
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    table[b] = keep.includes(b) ? String.fromCharCode(b) : String.fromCharCode(256 + extra++);
  }
  return table;
}

/** Learn `count` BPE merges from the corpus; ties go to the lexicographically first pair. */
function learnMerges(count: number): [string, string][] {
  const table = bytesToUnicode();
  const enc = new TextEncoder();
  const freq = new Map<string, number>();
  for (const m of CORPUS.matchAll(new RegExp(SPLIT_PATTERN, 'gu'))) {
    const w = [...enc.encode(m[0])].map((b) => table[b]).join('\u0000');
    freq.set(w, (freq.get(w) ?? 0) + 1);
  }
  let words = [...freq.entries()].map(([w, n]) => ({ syms: w.split('\u0000'), n }));
  const merges: [string, string][] = [];
  while (merges.length < count) {
    const pairs = new Map<string, number>();
    for (const { syms, n } of words) {
      for (let i = 0; i + 1 < syms.length; i++) {
        const key = `${syms[i]}\u0000${syms[i + 1]}`;
        pairs.set(key, (pairs.get(key) ?? 0) + n);
      }
    }
    let best: string | null = null;
    let bestN = 1;
    for (const [k, n] of pairs) {
      if (n > bestN || (n === bestN && best !== null && k < best)) {
        best = k;
        bestN = n;
      }
    }
    if (best === null) break;
    const [a, b] = best.split('\u0000');
    merges.push([a, b]);
    words = words.map(({ syms, n }) => {
      const out: string[] = [];
      for (let i = 0; i < syms.length; i++) {
        if (i + 1 < syms.length && syms[i] === a && syms[i + 1] === b) {
          out.push(a + b);
          i++;
        } else out.push(syms[i]);
      }
      return { syms: out, n };
    });
  }
  return merges;
}

export interface TinyTokenizer {
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
  /** Number of ids the tokenizer uses (model vocab + added tokens). */
  size: number;
  ids: { endoftext: number; imStart: number; imEnd: number };
}

export function makeTinyTokenizer(numMerges = 64): TinyTokenizer {
  const vocab: Record<string, number> = {};
  let next = 0;
  for (const ch of bytesToUnicode()) vocab[ch] = next++;
  const merges = learnMerges(numMerges);
  for (const [a, b] of merges) if (!(a + b in vocab)) vocab[a + b] = next++;
  const added = SPECIAL_TOKENS.map((content) => ({
    id: next++,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  const byteLevel = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false };
  const tokenizerJson = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: { type: 'NFC' },
    pre_tokenizer: {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: SPLIT_PATTERN }, behavior: 'Isolated', invert: false },
        byteLevel,
      ],
    },
    post_processor: byteLevel,
    decoder: byteLevel,
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  };
  const decoder: Record<string, unknown> = {};
  for (const t of added) {
    decoder[String(t.id)] = { content: t.content, lstrip: false, normalized: false, rstrip: false, single_word: false, special: true };
  }
  const tokenizerConfig = {
    add_bos_token: false,
    add_prefix_space: false,
    added_tokens_decoder: decoder,
    additional_special_tokens: ['<|im_start|>', '<|im_end|>'],
    bos_token: null,
    chat_template: CHAT_TEMPLATE,
    clean_up_tokenization_spaces: false,
    eos_token: '<|im_end|>',
    errors: 'replace',
    model_max_length: 2048,
    pad_token: '<|endoftext|>',
    split_special_tokens: false,
    tokenizer_class: 'Qwen2Tokenizer',
    unk_token: null,
  };
  const [endoftext, imStart, imEnd] = added.map((t) => t.id);
  return { tokenizerJson, tokenizerConfig, size: next, ids: { endoftext, imStart, imEnd } };
}

// ---------------------------------------------------------------------------------------------
// Config

const ARCHITECTURES: Record<Family, string> = {
  qwen2: 'Qwen2ForCausalLM',
  qwen3: 'Qwen3ForCausalLM',
  llama: 'LlamaForCausalLM',
  olmo2: 'Olmo2ForCausalLM',
};

const TORCH_DTYPE: Record<WritableDtype, string> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' };

export function makeTinyConfig(opts: TinyCheckpointOptions, tok: TinyTokenizer): Record<string, unknown> {
  const hidden = opts.hiddenSize ?? TINY_DEFAULTS.hiddenSize;
  const heads = opts.heads ?? TINY_DEFAULTS.heads;
  const kvHeads = opts.kvHeads ?? TINY_DEFAULTS.kvHeads;
  const headDim = opts.headDim ?? (opts.family === 'qwen2' ? hidden / heads : TINY_DEFAULTS.headDim);
  const layers = opts.layers ?? TINY_DEFAULTS.layers;
  const vocab = opts.vocabSize ?? Math.ceil(tok.size / 64) * 64;
  if (vocab < tok.size) throw new Error(`vocabSize ${vocab} is smaller than the tokenizer's ${tok.size} tokens`);
  if (opts.family === 'qwen2' && headDim * heads !== hidden) {
    throw new Error(`qwen2 has no head_dim setting: headDim must equal hiddenSize / heads (${hidden / heads})`);
  }
  if ((opts.attentionBias || opts.mlpBias) && opts.family !== 'llama') {
    throw new Error('attentionBias / mlpBias options apply to the llama family only');
  }
  const v5 = opts.layout === 'v5';
  const theta = opts.ropeScaling ? 500000 : 10000;
  const scaling = opts.ropeScaling
    ? { factor: 8.0, low_freq_factor: 1.0, high_freq_factor: 4.0, original_max_position_embeddings: 256, rope_type: 'llama3' }
    : null;

  const c: Record<string, unknown> = {
    architectures: [ARCHITECTURES[opts.family]],
    model_type: opts.family,
    vocab_size: vocab,
    hidden_size: hidden,
    intermediate_size: opts.intermediate ?? TINY_DEFAULTS.intermediate,
    num_hidden_layers: layers,
    num_attention_heads: heads,
    num_key_value_heads: kvHeads,
  };
  if (opts.family !== 'qwen2') c.head_dim = headDim;
  Object.assign(c, {
    hidden_act: 'silu',
    max_position_embeddings: 2048,
    initializer_range: 0.02,
    rms_norm_eps: 1e-6,
    use_cache: true,
    attention_dropout: 0.0,
    tie_word_embeddings: opts.tied ?? false,
    bos_token_id: tok.ids.endoftext,
    eos_token_id: v5 ? [tok.ids.imEnd] : tok.ids.imEnd,
    pad_token_id: tok.ids.endoftext,
  });
  if (opts.family !== 'qwen2') c.attention_bias = opts.attentionBias ?? false;
  if (opts.family === 'llama') c.mlp_bias = opts.mlpBias ?? false;
  if (opts.family === 'qwen2' || opts.family === 'qwen3') {
    Object.assign(c, { use_sliding_window: false, sliding_window: null, max_window_layers: layers });
    if (v5) c.layer_types = new Array(layers).fill('full_attention');
  }
  if (v5) {
    c.rope_parameters = scaling ? { rope_theta: theta, ...scaling } : { rope_theta: theta, rope_type: 'default' };
    c.dtype = TORCH_DTYPE[opts.dtype ?? 'F32'];
    c.transformers_version = '5.0.0';
  } else {
    c.rope_theta = theta;
    c.rope_scaling = scaling;
    c.torch_dtype = TORCH_DTYPE[opts.dtype ?? 'F32'];
    c.transformers_version = '4.51.3';
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// Weights and folder

/** Deterministic fp32 weights; each tensor draws from its own stream seeded by its name. */
export function makeTinyWeights(config: Record<string, unknown>, seed: number): Map<string, { dims: number[]; data: Float32Array }> {
  const cfg = parseModelConfig(config);
  const out = new Map<string, { dims: number[]; data: Float32Array }>();
  for (const [name, dims] of expectedWeights(cfg)) {
    const rng = new Prng(hashSeed(seed, name));
    const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
    const isNorm = /norm\.weight$/.test(name);
    const isBias = name.endsWith('.bias');
    for (let i = 0; i < data.length; i++) {
      const z = rng.normal();
      data[i] = isNorm ? 1 + 0.1 * z : isBias ? 0.1 * z : 0.15 * z;
    }
    out.set(name, { dims, data });
  }
  return out;
}

const json = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v, null, 2) + '\n');

export function makeTinyCheckpoint(opts: TinyCheckpointOptions): Map<string, Uint8Array> {
  const dtype = opts.dtype ?? 'F32';
  const tok = makeTinyTokenizer();
  const config = makeTinyConfig(opts, tok);
  const weights = makeTinyWeights(config, opts.seed);
  const files = new Map<string, Uint8Array>();
  files.set('config.json', json(config));

  const shards = opts.shards ?? 1;
  const names = [...weights.keys()].sort();
  if (!Number.isInteger(shards) || shards < 1 || shards > names.length) {
    throw new Error(`shards must be an integer in [1, ${names.length}], got ${shards}`);
  }
  if (shards === 1) {
    files.set('model.safetensors', writeSafetensors(weights, dtype, { format: 'pt' }));
  } else {
    const weightMap: Record<string, string> = {};
    const pad = (n: number) => String(n).padStart(5, '0');
    let totalSize = 0;
    for (let s = 0; s < shards; s++) {
      const file = `model-${pad(s + 1)}-of-${pad(shards)}.safetensors`;
      const part = new Map<string, { dims: number[]; data: Float32Array }>();
      const lo = Math.floor((s * names.length) / shards);
      const hi = Math.floor(((s + 1) * names.length) / shards);
      for (const name of names.slice(lo, hi)) {
        part.set(name, weights.get(name)!);
        weightMap[name] = file;
        totalSize += weights.get(name)!.data.length * (dtype === 'F32' ? 4 : 2);
      }
      files.set(file, writeSafetensors(part, dtype, { format: 'pt' }));
    }
    files.set('model.safetensors.index.json', json({ metadata: { total_size: totalSize }, weight_map: weightMap }));
  }
  files.set('tokenizer.json', json(tok.tokenizerJson));
  files.set('tokenizer_config.json', json(tok.tokenizerConfig));
  files.set(
    'generation_config.json',
    json({
      bos_token_id: tok.ids.endoftext,
      eos_token_id: [tok.ids.imEnd, tok.ids.endoftext],
      pad_token_id: tok.ids.endoftext,
      do_sample: false,
      transformers_version: '4.51.3',
    }),
  );
  return files;
}

/** Write the generated folder to `dir` (Node only). */
export async function writeTinyCheckpoint(dir: string, opts: TinyCheckpointOptions): Promise<string[]> {
  const { mkdir, writeFile } = await import('node:fs/promises');
  const { join } = await import('node:path');
  await mkdir(dir, { recursive: true });
  const files = makeTinyCheckpoint(opts);
  for (const [name, bytes] of files) await writeFile(join(dir, name), bytes);
  return [...files.keys()];
}

// ---------------------------------------------------------------------------------------------
// CLI

function parseArgs(argv: string[]): { dir: string; opts: TinyCheckpointOptions } {
  const opts: TinyCheckpointOptions = { family: 'qwen3', seed: 1 };
  let dir: string | null = null;
  const numeric = new Set(['seed', 'shards', 'vocabSize', 'hiddenSize', 'layers', 'heads', 'kvHeads', 'headDim', 'intermediate']);
  const flags = new Set(['tied', 'ropeScaling', 'attentionBias', 'mlpBias']);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      if (dir !== null) throw new Error(`unexpected argument ${a}`);
      dir = a;
      continue;
    }
    const key = a.slice(2).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    const o = opts as unknown as Record<string, unknown>;
    if (flags.has(key)) o[key] = true;
    else if (numeric.has(key)) o[key] = Number(argv[++i]);
    else if (key === 'family' || key === 'dtype' || key === 'layout') o[key] = argv[++i];
    else throw new Error(`unknown option ${a}`);
  }
  if (dir === null) throw new Error('usage: tiny-model.ts <outdir> [--family qwen2|qwen3|llama|olmo2] [--seed N] [--tied] [--dtype F32|F16|BF16] [--layout classic|v5] [--shards N] [--rope-scaling]');
  return { dir, opts };
}

const invokedDirectly =
  typeof process !== 'undefined' &&
  Array.isArray(process.argv) &&
  typeof process.argv[1] === 'string' &&
  /tiny-model\.ts$/.test(process.argv[1]) &&
  import.meta.url.endsWith('/tiny-model.ts');

if (invokedDirectly) {
  const { dir, opts } = parseArgs(process.argv.slice(2));
  writeTinyCheckpoint(dir, opts).then(
    (names) => console.log(`wrote ${names.length} files to ${dir}: ${names.join(', ')}`),
    (e: unknown) => {
      console.error((e as Error).message);
      process.exitCode = 1;
    },
  );
}
