/**
 * Shared model-level types. Everything the engine knows about a checkpoint is derived from
 * its config.json into a `ModelConfig`; nothing is hard-coded per model.
 */

export type Family = 'qwen2' | 'qwen3' | 'llama' | 'olmo2';

/** RoPE frequency scaling as used by Llama 3.x checkpoints (`rope_type: "llama3"`). */
export interface Llama3RopeScaling {
  type: 'llama3';
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositionEmbeddings: number;
}

export interface ModelConfig {
  family: Family;
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  /** Per-head width; `head_dim` when the config gives it, else hidden/heads. */
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: Llama3RopeScaling | null;
  maxPositionEmbeddings: number;
  tieWordEmbeddings: boolean;
  /** q/k/v projections carry a bias (qwen2; llama when `attention_bias`). */
  attentionBias: boolean;
  /** o_proj carries a bias (llama `attention_bias`). */
  outputBias: boolean;
  /** gate/up/down carry a bias (llama `mlp_bias`). */
  mlpBias: boolean;
  /** Storage dtype named by the config (`torch_dtype` or `dtype`). */
  dtype: 'float32' | 'float16' | 'bfloat16';
  bosTokenId: number | null;
  eosTokenIds: number[];
  padTokenId: number | null;
}

/** A dense tensor held in fp32 on the host, row-major. */
export interface HostTensor {
  dims: number[];
  data: Float32Array;
}

/** Weights keyed by their Hugging Face names, e.g. `model.layers.0.self_attn.q_proj.weight`. */
export type WeightMap = Map<string, HostTensor>;

/** The seven projections LoRA can target, by their Hugging Face module names. */
export const LORA_TARGETS = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;
export type LoraTarget = (typeof LORA_TARGETS)[number];

export interface LoraConfig {
  r: number;
  alpha: number;
  targetModules: LoraTarget[];
  useRslora: boolean;
}

/** Multiplier PEFT applies to `B A x`: alpha/r, or alpha/sqrt(r) with rsLoRA. */
export function loraScale(c: LoraConfig): number {
  return c.useRslora ? c.alpha / Math.sqrt(c.r) : c.alpha / c.r;
}

/**
 * LoRA weights keyed by module path without prefix, e.g. `model.layers.0.self_attn.q_proj`;
 * A is [r, in], B is [out, r] as in PEFT.
 */
export interface LoraAdapter {
  config: LoraConfig;
  baseModel: string | null;
  modules: Map<string, { A: HostTensor; B: HostTensor }>;
}

/** Module path of a projection in layer `i`, as Hugging Face names it. */
export function projectionPath(layer: number, target: LoraTarget): string {
  const group = target.endsWith('_proj') && ['gate_proj', 'up_proj', 'down_proj'].includes(target) ? 'mlp' : 'self_attn';
  return `model.layers.${layer}.${group}.${target}`;
}

/** Input and output widths of a projection. */
export function projectionShape(c: ModelConfig, target: LoraTarget): { inF: number; outF: number } {
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  switch (target) {
    case 'q_proj': return { inF: c.hiddenSize, outF: q };
    case 'k_proj': return { inF: c.hiddenSize, outF: kv };
    case 'v_proj': return { inF: c.hiddenSize, outF: kv };
    case 'o_proj': return { inF: q, outF: c.hiddenSize };
    case 'gate_proj': return { inF: c.hiddenSize, outF: c.intermediateSize };
    case 'up_proj': return { inF: c.hiddenSize, outF: c.intermediateSize };
    case 'down_proj': return { inF: c.intermediateSize, outF: c.hiddenSize };
  }
}

/**
 * A read-only view of a model folder, whatever holds it: the Node file system, files a user
 * picked in the browser, the embedded default under public/, or the Hub cache.
 */
export interface FileSource {
  /** A label for error messages, e.g. the folder path or repo id. */
  readonly label: string;
  has(name: string): Promise<boolean>;
  /** Whole file; throws an Error naming the file when it is missing. */
  bytes(name: string): Promise<Uint8Array>;
  text(name: string): Promise<string>;
  /** Size in bytes without reading the file, when the source can tell. */
  size?(name: string): Promise<number>;
  /** A byte range [start, end) of a file; sources that cannot do ranges read the whole file. */
  range?(name: string, start: number, end: number): Promise<Uint8Array>;
  /**
   * Read the file's bytes from `position` into `into` until it is full or the file ends; returns
   * how many bytes were read. Lets the loader read weights straight into their final arrays.
   */
  readInto?(name: string, position: number, into: Uint8Array): Promise<number>;
}

/** A bad model file or setting; the message names the file and what is wrong with it. */
export class ModelFormatError extends Error {
  constructor(readonly file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'ModelFormatError';
  }
}

/** The token id used for padding: the config's pad token, else its first EOS, else 0. */
export function padTokenIdOf(cfg: Pick<ModelConfig, 'padTokenId' | 'eosTokenIds'>): number {
  return cfg.padTokenId ?? cfg.eosTokenIds[0] ?? 0;
}
