/**
 * Builds the ONNX graph of a decoder-only transformer (qwen2, qwen3, llama, olmo2) from a
 * ModelConfig. Weights, LoRA factors and the KV cache are graph inputs, so one set of device
 * buffers serves every session (prefill, decode, teacher scoring, training).
 *
 * Layout inside the graph: hidden states are kept 2-D [N, D] with N = batch*seq so every
 * linear layer is one Gemm against the weight in Hugging Face layout [out, in] (transB=1).
 * Attention reshapes to [B, kvHeads, group, S, headDim] so grouped-query attention is a
 * broadcast MatMul against K/V of shape [B, kvHeads, 1, T, headDim], without copying K/V.
 */
import { attr, Graph, type DType } from '../onnx/graph';
import { LORA_TARGETS, projectionPath, type LoraTarget, type ModelConfig } from './types';
import { expectedWeights } from './weight-layout';

export type GraphMode = 'prefill' | 'decode' | 'decode-static';

export interface DecoderGraphOptions {
  /**
   * prefill: no past KV inputs; decode: past KV inputs concatenated before attention;
   * decode-static: the past in fixed-capacity buffers (keys transposed) that the host fills in
   * place (runtime/static-kv.ts), nothing concatenated or copied; `emitKv` then outputs only the
   * new positions' keys and values.
   */
  mode: GraphMode;
  /** 'all' returns logits for every position, 'last' only for the final position. */
  logits: 'all' | 'last' | 'none';
  /** LoRA targets fed as inputs `<module>.lora_A` / `.lora_B` plus a scalar `lora_scale`. */
  loraTargets: readonly LoraTarget[];
  /** Emit present.* KV outputs. */
  emitKv: boolean;
  /** Also output the final normalized hidden states [B, S, D] as `hidden`. */
  emitHidden?: boolean;
  /**
   * Storage type of the weight inputs. With float16, matrix products run in fp16 and
   * norms, softmax and residuals stay in fp32.
   */
  weightDtype?: DType;
}

/** Additive mask value for disallowed attention; finite so fully masked rows stay NaN-free. */
export const MASK_NEG = -1e9;

export interface DecoderGraphSpec {
  graph: Graph;
  weightNames: string[];
  loraInputs: { module: string; target: LoraTarget; a: string; b: string }[];
  /** The final norm's output [B*S, D] (float32), what the LM head multiplies. */
  normed: string;
  /** The weight input the LM head reads ([V, D]: lm_head, or the embedding when tied). */
  headWeight: string;
  /** Each layer's nodes as a [start, end) range of indices into graph.nodes. */
  layerSpans: [number, number][];
}

/** The decoder graph's data inputs by role, one table for the builder and every feed builder. */
export const DECODER_INPUT = {
  ids: 'input_ids',
  ropeCos: 'rope_cos',
  ropeSin: 'rope_sin',
  attentionBias: 'attention_bias',
  loraScale: 'lora_scale',
} as const;

export function loraInputNames(module: string): { a: string; b: string } {
  return { a: `${module}.lora_A`, b: `${module}.lora_B` };
}

export function pastKeyName(layer: number): string {
  return `past.${layer}.key`;
}
export function pastValueName(layer: number): string {
  return `past.${layer}.value`;
}
export function presentKeyName(layer: number): string {
  return `present.${layer}.key`;
}
export function presentValueName(layer: number): string {
  return `present.${layer}.value`;
}
/** decode-static's past keys, stored transposed: [batch, kvHeads, headDim, capacity]. */
export function staticKeyName(layer: number): string {
  return `past.${layer}.key_t`;
}
/** decode-static's past values: [batch, kvHeads, capacity, headDim]. */
export function staticValueName(layer: number): string {
  return `past.${layer}.value_cap`;
}
/** decode-static's outputs: the keys and values of the positions just computed, [batch, kvHeads, seq, headDim]. */
export function newKeyName(layer: number): string {
  return `new.${layer}.key`;
}
export function newValueName(layer: number): string {
  return `new.${layer}.value`;
}

/** Inverse RoPE frequencies, with llama3 scaling when the config asks for it. */
export function ropeInvFreq(cfg: ModelConfig): Float64Array {
  const half = cfg.headDim / 2;
  const out = new Float64Array(half);
  for (let i = 0; i < half; i++) {
    let f = 1 / Math.pow(cfg.ropeTheta, (2 * i) / cfg.headDim);
    const s = cfg.ropeScaling;
    if (s) {
      const lowWavelen = s.originalMaxPositionEmbeddings / s.lowFreqFactor;
      const highWavelen = s.originalMaxPositionEmbeddings / s.highFreqFactor;
      const wavelen = (2 * Math.PI) / f;
      if (wavelen > lowWavelen) {
        f = f / s.factor;
      } else if (wavelen >= highWavelen) {
        const smooth = (s.originalMaxPositionEmbeddings / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
        f = (1 - smooth) * (f / s.factor) + smooth * f;
      }
    }
    out[i] = f;
  }
  return out;
}

/** cos and sin of position * inv_freq for every token, [count, headDim/2] each, in float64 then rounded. */
export function ropeTables(invFreq: Float64Array, positions: BigInt64Array): { cos: Float32Array; sin: Float32Array } {
  const half = invFreq.length;
  const cos = new Float32Array(positions.length * half);
  const sin = new Float32Array(positions.length * half);
  for (let t = 0; t < positions.length; t++) {
    const p = Number(positions[t]);
    for (let i = 0; i < half; i++) {
      const a = p * invFreq[i];
      cos[t * half + i] = Math.cos(a);
      sin[t * half + i] = Math.sin(a);
    }
  }
  return { cos, sin };
}

export function buildDecoderGraph(cfg: ModelConfig, opts: DecoderGraphOptions): DecoderGraphSpec {
  const g = new Graph(`${cfg.family}_${opts.mode}`);
  const wdt = opts.weightDtype ?? 'float32';
  const D = cfg.hiddenSize;
  const H = cfg.numHeads;
  const KV = cfg.numKvHeads;
  const hd = cfg.headDim;
  const group = H / KV;

  // --- inputs -----------------------------------------------------------------------------
  const inputIds = g.input(DECODER_INPUT.ids, 'int64', ['batch', 'seq']);
  // RoPE tables for each token's position, computed on the host in float64 (WebGPU's cos/sin
  // are only accurate to ~2e-4): cos/sin of position * inv_freq, [B, S, headDim/2].
  const ropeCos = g.input(DECODER_INPUT.ropeCos, 'float32', ['batch', 'seq', hd / 2]);
  const ropeSin = g.input(DECODER_INPUT.ropeSin, 'float32', ['batch', 'seq', hd / 2]);
  // Additive attention mask [B, S, T]: 0 where allowed, MASK_NEG where not.
  const mask = g.input(DECODER_INPUT.attentionBias, 'float32', ['batch', 'seq', 'total']);

  const layout = expectedWeights(cfg);
  const weightNames = [...layout.keys()];
  for (const [name, dims] of layout) g.input(name, wdt, dims);
  const half16 = wdt === 'float16';
  // fp32 views of weights (cast once per run for the small ones: norms; the embedding is cast
  // after the Gather so only the looked-up rows are converted).
  const castCache = new Map<string, string>();
  const W = (name: string): string => {
    if (!layout.has(name)) throw new Error(`graph needs weight ${name}, absent from the layout of ${cfg.family}`);
    if (!half16) return name;
    let c = castCache.get(name);
    if (!c) castCache.set(name, (c = g.op('Cast', [name], { to: attr.int(1) })));
    return c;
  };
  /** A weight as stored (fp16 or fp32), for Gemm/Gather that run in the storage type. */
  const Wraw = (name: string): string => {
    if (!layout.has(name)) throw new Error(`graph needs weight ${name}, absent from the layout of ${cfg.family}`);
    return name;
  };
  const toStorage = (v: string): string => (half16 ? g.op('Cast', [v], { to: attr.int(10) }) : v);
  const toF32 = (v: string): string => (half16 ? g.op('Cast', [v], { to: attr.int(1) }) : v);

  const loraInputs: DecoderGraphSpec['loraInputs'] = [];
  const loraScale = opts.loraTargets.length > 0 ? g.input(DECODER_INPUT.loraScale, 'float32', []) : '';
  const lora = new Map<string, { a: string; b: string }>();
  for (let l = 0; l < cfg.numLayers; l++) {
    for (const t of LORA_TARGETS) {
      if (!opts.loraTargets.includes(t)) continue;
      const module = projectionPath(l, t);
      const names = loraInputNames(module);
      g.input(names.a, 'float32', ['lora_rank', layout.get(`${module}.weight`)![1]]);
      g.input(names.b, 'float32', [layout.get(`${module}.weight`)![0], 'lora_rank']);
      lora.set(module, names);
      loraInputs.push({ module, target: t, ...names });
    }
  }

  // --- shapes -----------------------------------------------------------------------------
  const ids2d = inputIds;
  const bs = g.op('Shape', [ids2d]); // [B, S]
  const flatIds = g.op('Reshape', [ids2d, g.i64([-1])]);
  const shapeBSKVGhd = g.op('Concat', [bs, g.i64([KV, group, hd])], { axis: attr.int(0) });
  const shapeBSKVhd = g.op('Concat', [bs, g.i64([KV, hd])], { axis: attr.int(0) });
  const shapeBSD = g.op('Concat', [bs, g.i64([D])], { axis: attr.int(0) });

  // --- embedding & rotary tables ----------------------------------------------------------
  let x = toF32(g.op('Gather', [Wraw('model.embed_tokens.weight'), flatIds], { axis: attr.int(0) })); // [N, D]

  const ropeTable = (t: string): string => {
    const flat = g.op('Reshape', [t, g.i64([-1, 1, hd / 2])]); // [N, 1, hd/2]
    return g.op('Concat', [flat, flat], { axis: attr.int(2) }); // [N, 1, hd]
  };
  const cos = ropeTable(ropeCos);
  const sin = ropeTable(ropeSin);

  const mask5 = g.op('Unsqueeze', [mask, g.i64([1, 2])]); // [B,1,1,S,T]
  const qScale = g.scalar(1 / Math.sqrt(hd));

  // --- helpers ----------------------------------------------------------------------------
  const rmsNorm = (v: string, w: string): string => {
    const sq = g.op('Mul', [v, v]);
    const ms = g.op('ReduceMean', [sq], { axes: attr.ints([-1]), keepdims: attr.int(1) });
    const denom = g.op('Sqrt', [g.op('Add', [ms, g.scalar(cfg.rmsNormEps)])]);
    return g.op('Mul', [g.op('Div', [v, denom]), w]);
  };

  const linear = (v: string, module: string, hasBias: boolean): string => {
    // The matrix product runs in the storage type (fp16 on GPUs with shader-f16), the rest in fp32.
    const inputs = [toStorage(v), Wraw(`${module}.weight`)];
    if (hasBias) inputs.push(Wraw(`${module}.bias`));
    let y = toF32(g.op('Gemm', inputs, { transB: attr.int(1) }));
    const ab = lora.get(module);
    if (ab) {
      const down = g.op('Gemm', [v, ab.a], { transB: attr.int(1) }); // [N, r]
      const scaled = g.op('Mul', [down, loraScale]);
      const up = g.op('Gemm', [scaled, ab.b], { transB: attr.int(1) }); // [N, out]
      y = g.op('Add', [y, up]);
    }
    return y;
  };

  const half = hd / 2;
  const rope = (v: string): string => {
    // v: [N, heads, hd]; rotate_half(v) = concat(-v[..., half:], v[..., :half])
    const lo = g.op('Slice', [v, g.i64([0]), g.i64([half]), g.i64([2])]);
    const hi = g.op('Slice', [v, g.i64([half]), g.i64([hd]), g.i64([2])]);
    const rotated = g.op('Concat', [g.op('Neg', [hi]), lo], { axis: attr.int(2) });
    return g.op('Add', [g.op('Mul', [v, cos]), g.op('Mul', [rotated, sin])]);
  };

  // --- layers -----------------------------------------------------------------------------
  const layerSpans: [number, number][] = [];
  for (let l = 0; l < cfg.numLayers; l++) {
    const firstNode = g.nodes.length;
    const p = `model.layers.${l}`;
    const attnIn = cfg.family === 'olmo2' ? x : rmsNorm(x, W(`${p}.input_layernorm.weight`));

    let q = linear(attnIn, `${p}.self_attn.q_proj`, cfg.attentionBias); // [N, H*hd]
    let k = linear(attnIn, `${p}.self_attn.k_proj`, cfg.attentionBias); // [N, KV*hd]
    const v = linear(attnIn, `${p}.self_attn.v_proj`, cfg.attentionBias);
    if (cfg.family === 'olmo2') {
      q = rmsNorm(q, W(`${p}.self_attn.q_norm.weight`));
      k = rmsNorm(k, W(`${p}.self_attn.k_norm.weight`));
    }
    let q3 = g.op('Reshape', [q, g.i64([-1, H, hd])]);
    let k3 = g.op('Reshape', [k, g.i64([-1, KV, hd])]);
    if (cfg.family === 'qwen3') {
      q3 = rmsNorm(q3, W(`${p}.self_attn.q_norm.weight`));
      k3 = rmsNorm(k3, W(`${p}.self_attn.k_norm.weight`));
    }
    q3 = rope(q3);
    k3 = rope(k3);

    // q -> [B, KV, G, S, hd] (pre-scaled); k, v -> [B, KV, S, hd]
    const qScaled = g.op('Mul', [q3, qScale]);
    const q5 = g.op('Transpose', [g.op('Reshape', [qScaled, shapeBSKVGhd])], { perm: attr.ints([0, 2, 3, 1, 4]) });
    let k4 = g.op('Transpose', [g.op('Reshape', [k3, shapeBSKVhd])], { perm: attr.ints([0, 2, 1, 3]) });
    let v4 = g.op('Transpose', [g.op('Reshape', [v, shapeBSKVhd])], { perm: attr.ints([0, 2, 1, 3]) });
    if (opts.mode === 'decode') {
      const pk = g.input(pastKeyName(l), 'float32', ['batch', KV, 'past', hd]);
      const pv = g.input(pastValueName(l), 'float32', ['batch', KV, 'past', hd]);
      k4 = g.op('Concat', [pk, k4], { axis: attr.int(2) });
      v4 = g.op('Concat', [pv, v4], { axis: attr.int(2) });
    }
    if (opts.emitKv) {
      const [kName, vName, len] = opts.mode === 'decode-static' ? [newKeyName(l), newValueName(l), 'seq'] : [presentKeyName(l), presentValueName(l), 'total'];
      g.op('Identity', [k4], {}, kName);
      g.op('Identity', [v4], {}, vName);
      g.output(kName, 'float32', ['batch', KV, len, hd]);
      g.output(vName, 'float32', ['batch', KV, len, hd]);
    }
    const kT = g.op('Transpose', [g.op('Unsqueeze', [k4, g.i64([2])])], { perm: attr.ints([0, 1, 2, 4, 3]) }); // [B,KV,1,hd,T]
    let ctx: string;
    if (opts.mode === 'decode-static') {
      // Scores against the stored past (capacity columns, the unused ones masked) and against
      // the new positions, side by side: the mask covers [capacity + S] columns in that order.
      const pkT = g.input(staticKeyName(l), 'float32', ['batch', KV, hd, 'capacity']);
      const pv = g.input(staticValueName(l), 'float32', ['batch', KV, 'capacity', hd]);
      const pastScores = g.op('MatMul', [q5, g.op('Unsqueeze', [pkT, g.i64([2])])]); // [B,KV,G,S,cap]
      const scores = g.op('Add', [g.op('Concat', [pastScores, g.op('MatMul', [q5, kT])], { axis: attr.int(-1) }), mask5]);
      const probs = g.op('Softmax', [scores], { axis: attr.int(-1) });
      const cap = g.op('Shape', [pv], { start: attr.int(2), end: attr.int(3) });
      const end = g.i64([2 ** 53 - 1]);
      const axis = g.i64([-1]);
      const pastProbs = g.op('Slice', [probs, g.i64([0]), cap, axis]);
      const newProbs = g.op('Slice', [probs, cap, end, axis]);
      ctx = g.op('Add', [
        g.op('MatMul', [pastProbs, g.op('Unsqueeze', [pv, g.i64([2])])]),
        g.op('MatMul', [newProbs, g.op('Unsqueeze', [v4, g.i64([2])])]),
      ]); // [B,KV,G,S,hd]
    } else {
      const scores = g.op('Add', [g.op('MatMul', [q5, kT]), mask5]); // [B,KV,G,S,T]
      const probs = g.op('Softmax', [scores], { axis: attr.int(-1) });
      ctx = g.op('MatMul', [probs, g.op('Unsqueeze', [v4, g.i64([2])])]); // [B,KV,G,S,hd]
    }
    const ctx2 = g.op('Reshape', [g.op('Transpose', [ctx], { perm: attr.ints([0, 3, 1, 2, 4]) }), g.i64([-1, H * hd])]);
    let attnOut = linear(ctx2, `${p}.self_attn.o_proj`, cfg.outputBias);

    let h: string;
    if (cfg.family === 'olmo2') {
      attnOut = rmsNorm(attnOut, W(`${p}.post_attention_layernorm.weight`));
      h = g.op('Add', [x, attnOut]);
    } else {
      h = g.op('Add', [x, attnOut]);
    }
    const mlpIn = cfg.family === 'olmo2' ? h : rmsNorm(h, W(`${p}.post_attention_layernorm.weight`));
    const gate = linear(mlpIn, `${p}.mlp.gate_proj`, cfg.mlpBias);
    const up = linear(mlpIn, `${p}.mlp.up_proj`, cfg.mlpBias);
    const act = g.op('Mul', [g.op('Mul', [gate, g.op('Sigmoid', [gate])]), up]);
    let mlpOut = linear(act, `${p}.mlp.down_proj`, cfg.mlpBias);
    if (cfg.family === 'olmo2') mlpOut = rmsNorm(mlpOut, W(`${p}.post_feedforward_layernorm.weight`));
    x = g.op('Add', [h, mlpOut]);
    layerSpans.push([firstNode, g.nodes.length]);
  }

  // --- head -------------------------------------------------------------------------------
  const normed = rmsNorm(x, W('model.norm.weight')); // [N, D]
  if (opts.emitHidden) {
    g.op('Reshape', [normed, shapeBSD], {}, 'hidden');
    g.output('hidden', 'float32', ['batch', 'seq', D]);
  }
  const headWeight = cfg.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
  const head = Wraw(headWeight);
  if (opts.logits === 'all') {
    const logits2 = toF32(g.op('Gemm', [toStorage(normed), head], { transB: attr.int(1) })); // [N, V]
    g.op('Reshape', [logits2, g.op('Concat', [bs, g.i64([cfg.vocabSize])], { axis: attr.int(0) })], {}, 'logits');
    g.output('logits', 'float32', ['batch', 'seq', cfg.vocabSize]);
  } else if (opts.logits === 'last') {
    const h3 = g.op('Reshape', [normed, shapeBSD]);
    const lastH = g.op('Reshape', [g.op('Slice', [h3, g.i64([-1]), g.i64([2 ** 53 - 1]), g.i64([1])]), g.i64([-1, D])]); // [B, D]
    const logits2 = toF32(g.op('Gemm', [toStorage(lastH), head], { transB: attr.int(1) }));
    g.op('Unsqueeze', [logits2, g.i64([1])], {}, 'logits');
    g.output('logits', 'float32', ['batch', 1, cfg.vocabSize]);
  }

  return { graph: g, weightNames, loraInputs, normed, headWeight, layerSpans };
}
