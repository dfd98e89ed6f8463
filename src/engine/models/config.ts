/**
 * config.json -> ModelConfig for the supported decoder families. Both layouts found on the
 * Hub are read: the classic one (`rope_theta`, `rope_scaling`, `torch_dtype`) and the
 * transformers v5 one (`rope_parameters`, `dtype`). Anything the engine cannot run faithfully
 * is rejected with a ModelFormatError instead of being silently approximated.
 */

import { type Family, type Llama3RopeScaling, type ModelConfig, ModelFormatError } from './types';
import { isRecord as isRecordValue } from '../../util/records';

/** Defaults of the transformers config classes, for keys a config.json may leave out. */
const FAMILY_DEFAULTS: Record<Family, { rmsNormEps: number; maxPositionEmbeddings: number; tie: boolean }> = {
  qwen2: { rmsNormEps: 1e-6, maxPositionEmbeddings: 32768, tie: false },
  qwen3: { rmsNormEps: 1e-6, maxPositionEmbeddings: 32768, tie: false },
  llama: { rmsNormEps: 1e-6, maxPositionEmbeddings: 2048, tie: false },
  olmo2: { rmsNormEps: 1e-5, maxPositionEmbeddings: 2048, tie: false },
};

const DEFAULT_ROPE_THETA = 10000;

type Json = Record<string, unknown>;

const isRecord = (v: unknown): v is Json => isRecordValue(v);

class Reader {
  constructor(readonly file: string, readonly obj: Json) {}

  fail(msg: string): never {
    throw new ModelFormatError(this.file, msg);
  }

  has(key: string): boolean {
    return this.obj[key] !== undefined && this.obj[key] !== null;
  }

  /** A positive integer; required unless a fallback is given. */
  posInt(key: string, fallback?: number): number {
    const v = this.obj[key];
    if (v === undefined || v === null) {
      if (fallback === undefined) this.fail(`missing required field "${key}"`);
      return fallback;
    }
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) {
      this.fail(`"${key}" must be a positive integer, got ${JSON.stringify(v)}`);
    }
    return v;
  }

  posNum(key: string, fallback: number, src: Json = this.obj, where = key): number {
    const v = src[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
      this.fail(`"${where}" must be a positive number, got ${JSON.stringify(v)}`);
    }
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    const v = this.obj[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean') this.fail(`"${key}" must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  tokenId(key: string, vocab: number): number | null {
    const ids = this.tokenIds(key, vocab);
    if (ids.length > 1) this.fail(`"${key}" must be a single token id, got ${JSON.stringify(this.obj[key])}`);
    return ids.length ? ids[0] : null;
  }

  /** A token id or list of ids (eos may be either); missing -> []. */
  tokenIds(key: string, vocab: number): number[] {
    const v = this.obj[key];
    if (v === undefined || v === null) return [];
    const list = Array.isArray(v) ? v : [v];
    for (const id of list) {
      if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0 || id >= vocab) {
        this.fail(`"${key}" must be token id(s) in [0, ${vocab}), got ${JSON.stringify(v)}`);
      }
    }
    return [...new Set(list as number[])];
  }
}

function parseFamily(r: Reader): Family {
  const t = r.obj.model_type;
  if (t === 'qwen2' || t === 'qwen3' || t === 'llama' || t === 'olmo2') return t;
  if (t === undefined) r.fail('missing "model_type"; supported: qwen2, qwen3, llama, olmo2');
  return r.fail(`unsupported model_type ${JSON.stringify(t)}; supported: qwen2, qwen3, llama, olmo2`);
}

function parseDtype(r: Reader): ModelConfig['dtype'] {
  const v = r.obj.dtype ?? r.obj.torch_dtype;
  if (v === undefined || v === null) return 'float32';
  if (v === 'float32' || v === 'float16' || v === 'bfloat16') return v;
  return r.fail(`unsupported dtype ${JSON.stringify(v)}; expected float32, float16 or bfloat16`);
}

/**
 * RoPE settings. v5 keeps everything in `rope_parameters` (theta included); the classic
 * layout has `rope_theta` at the top and the scaling block in `rope_scaling`.
 */
function parseRope(r: Reader): { theta: number; scaling: Llama3RopeScaling | null } {
  const params = r.obj.rope_parameters ?? r.obj.rope_scaling;
  const key = r.obj.rope_parameters != null ? 'rope_parameters' : 'rope_scaling';
  if (params !== undefined && params !== null && !isRecord(params)) r.fail(`"${key}" must be an object`);
  let p: Json = params ?? {};
  // v5 models with several attention kinds key the parameters by layer type.
  if (p.rope_type === undefined && p.type === undefined && isRecord(p.full_attention)) p = p.full_attention;
  const theta = r.posNum('rope_theta', r.posNum('rope_theta', DEFAULT_ROPE_THETA), p, `${key}.rope_theta`);
  const type = p.rope_type ?? p.type ?? 'default';
  if (type === 'default') return { theta, scaling: null };
  if (type !== 'llama3') {
    r.fail(`RoPE type ${JSON.stringify(type)} in "${key}" is not supported; only "default" and "llama3"`);
  }
  const need = (k: string): number => {
    if (p[k] === undefined || p[k] === null) r.fail(`"${key}" of type llama3 is missing "${k}"`);
    return r.posNum(k, 0, p, `${key}.${k}`);
  };
  const scaling: Llama3RopeScaling = {
    type: 'llama3',
    factor: need('factor'),
    lowFreqFactor: need('low_freq_factor'),
    highFreqFactor: need('high_freq_factor'),
    originalMaxPositionEmbeddings: need('original_max_position_embeddings'),
  };
  if (scaling.highFreqFactor <= scaling.lowFreqFactor) {
    r.fail(`"${key}": high_freq_factor (${scaling.highFreqFactor}) must exceed low_freq_factor (${scaling.lowFreqFactor})`);
  }
  return { theta, scaling };
}

function rejectSlidingWindow(r: Reader): void {
  if (r.obj.use_sliding_window === true) {
    r.fail('sliding-window attention ("use_sliding_window": true) is not supported');
  }
  const types = r.obj.layer_types;
  if (types !== undefined && types !== null) {
    if (!Array.isArray(types)) r.fail('"layer_types" must be a list');
    const other = types.find((t) => t !== 'full_attention');
    if (other !== undefined) r.fail(`layer type ${JSON.stringify(other)} in "layer_types" is not supported; only full_attention`);
  }
}

/** Some exported configs carry a placeholder pad id (-1, or one past the vocab); treat it as none. */
function padId(v: unknown, vocab: number): number | null {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v < vocab ? v : null;
}

export function parseModelConfig(json: unknown, file = 'config.json'): ModelConfig {
  if (!isRecord(json)) throw new ModelFormatError(file, 'config must be a JSON object');
  const r = new Reader(file, json);
  const family = parseFamily(r);
  const defaults = FAMILY_DEFAULTS[family];

  const act = json.hidden_act ?? 'silu';
  if (act !== 'silu') r.fail(`hidden_act ${JSON.stringify(act)} is not supported; only silu`);
  rejectSlidingWindow(r);

  const vocabSize = r.posInt('vocab_size');
  const hiddenSize = r.posInt('hidden_size');
  const intermediateSize = r.posInt('intermediate_size');
  const numLayers = r.posInt('num_hidden_layers');
  const numHeads = r.posInt('num_attention_heads');
  const numKvHeads = r.posInt('num_key_value_heads', numHeads);
  if (numHeads % numKvHeads !== 0) {
    r.fail(`num_attention_heads (${numHeads}) must be a multiple of num_key_value_heads (${numKvHeads})`);
  }
  let headDim: number;
  if (r.has('head_dim')) {
    headDim = r.posInt('head_dim');
  } else {
    if (hiddenSize % numHeads !== 0) {
      r.fail(`hidden_size (${hiddenSize}) is not divisible by num_attention_heads (${numHeads}) and no head_dim is given`);
    }
    headDim = hiddenSize / numHeads;
  }
  if (headDim % 2 !== 0) r.fail(`head_dim (${headDim}) must be even for rotary embeddings`);

  // Bias layout per family, following the transformers modelling code.
  const attnBiasFlag = family === 'qwen2' ? false : r.bool('attention_bias', false);
  const attentionBias = family === 'qwen2' ? true : attnBiasFlag;
  const outputBias = family === 'qwen2' ? false : attnBiasFlag;
  const mlpBias = family === 'llama' ? r.bool('mlp_bias', false) : false;

  const rope = parseRope(r);
  return {
    family,
    vocabSize,
    hiddenSize,
    intermediateSize,
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    rmsNormEps: r.posNum('rms_norm_eps', defaults.rmsNormEps),
    ropeTheta: rope.theta,
    ropeScaling: rope.scaling,
    maxPositionEmbeddings: r.posInt('max_position_embeddings', defaults.maxPositionEmbeddings),
    tieWordEmbeddings: r.bool('tie_word_embeddings', defaults.tie),
    attentionBias,
    outputBias,
    mlpBias,
    dtype: parseDtype(r),
    bosTokenId: r.tokenId('bos_token_id', vocabSize),
    eosTokenIds: r.tokenIds('eos_token_id', vocabSize),
    padTokenId: padId(json.pad_token_id, vocabSize),
  };
}
