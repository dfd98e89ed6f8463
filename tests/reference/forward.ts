/**
 * Plain TypeScript reference forward pass for the decoder families the engine supports
 * (llama, qwen2, qwen3, olmo2). It exists only to validate the ONNX graphs: everything is
 * float64, every loop is spelled out, and nothing here is shared with src/engine/onnx or
 * src/engine/runtime, so a bug in one is unlikely to be mirrored in the other.
 *
 * Semantics follow Hugging Face transformers (modeling_llama.py, modeling_qwen2.py,
 * modeling_qwen3.py, modeling_olmo2.py, modeling_rope_utils.py) and PEFT's LoRA Linear:
 *
 *   - Linear: y = x W^T (+ b), W stored [out, in].
 *   - RMSNorm: x / sqrt(mean(x^2) + eps) * weight.
 *   - llama / qwen2 / qwen3 are pre-norm:
 *       h   = x + o_proj(attn(input_layernorm(x)))
 *       out = h + down(silu(gate(n)) * up(n)),  n = post_attention_layernorm(h)
 *     qwen3 additionally RMS-normalises every q and k head (weights of size headDim)
 *     after the split into heads and before RoPE.
 *   - olmo2 normalises after each sub-block and has no input_layernorm:
 *       h   = x + post_attention_layernorm(o_proj(attn(x)))
 *       out = h + post_feedforward_layernorm(mlp(h))
 *     q_norm / k_norm span the whole projected width (all heads at once) and are applied
 *     before the split into heads and before RoPE.
 *   - Final model.norm, then lm_head (or embed_tokens when the embeddings are tied).
 *   - Causal grouped-query attention scaled by 1/sqrt(headDim); query head h reads kv head
 *     floor(h / (numHeads / numKvHeads)).
 *   - RoPE in the "rotate_half" layout: pair (i, i + headDim/2) rotates by pos * invFreq[i].
 *   - LoRA: y += scale * (x A^T) B^T for each projection whose module path is in the adapter.
 */

import {
  LORA_TARGETS,
  loraScale,
  projectionPath,
  type HostTensor,
  type LoraAdapter,
  type LoraTarget,
  type ModelConfig,
  type WeightMap,
} from '../../src/engine/models/types';

/** One float64 vector per sequence position. */
type Rows = Float64Array[];

interface LoraPair {
  A: HostTensor;
  B: HostTensor;
}

// ---------------------------------------------------------------------------------------------
// Small numeric helpers
// ---------------------------------------------------------------------------------------------

function sameDims(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Fetch a tensor by its Hugging Face name, checking its shape when `dims` is given. */
function need(w: WeightMap, name: string, dims?: number[]): HostTensor {
  const t = w.get(name);
  if (!t) throw new Error(`reference forward: missing weight ${name}`);
  if (dims && !sameDims(t.dims, dims)) {
    throw new Error(`reference forward: ${name} has dims [${t.dims.join(', ')}], expected [${dims.join(', ')}]`);
  }
  let count = 1;
  for (const d of t.dims) count *= d;
  if (t.data.length !== count) {
    throw new Error(`reference forward: ${name} holds ${t.data.length} values for dims [${t.dims.join(', ')}]`);
  }
  return t;
}

/** RMSNorm of one vector, in float64. Exported so tests can use it on hand-made vectors. */
export function referenceRmsNorm(x: ArrayLike<number>, weight: ArrayLike<number>, eps: number): Float64Array {
  const n = x.length;
  if (weight.length !== n) throw new Error(`reference rmsnorm: width ${n} vs weight ${weight.length}`);
  let sumSq = 0;
  for (let i = 0; i < n; i++) sumSq += x[i] * x[i];
  const inv = 1 / Math.sqrt(sumSq / n + eps);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) y[i] = x[i] * inv * weight[i];
  return y;
}

function silu(v: number): number {
  return v / (1 + Math.exp(-v));
}

/**
 * One linear layer applied to every row: y = x W^T (+ b) (+ scale * (x A^T) B^T).
 * W is [out, in]; A is [r, in]; B is [out, r].
 */
function linear(xs: Rows, W: HostTensor, bias: HostTensor | null, lora: LoraPair | null, scale: number): Rows {
  const [outF, inF] = W.dims;
  const r = lora ? lora.A.dims[0] : 0;
  return xs.map((x) => {
    if (x.length !== inF) throw new Error(`reference linear: input width ${x.length}, weight expects ${inF}`);
    const y = new Float64Array(outF);
    for (let o = 0; o < outF; o++) {
      let acc = bias ? bias.data[o] : 0;
      const rowStart = o * inF;
      for (let i = 0; i < inF; i++) acc += W.data[rowStart + i] * x[i];
      y[o] = acc;
    }
    if (lora) {
      // Down-project to rank r with A, then up-project with B, then scale.
      const t = new Float64Array(r);
      for (let k = 0; k < r; k++) {
        let acc = 0;
        for (let i = 0; i < inF; i++) acc += lora.A.data[k * inF + i] * x[i];
        t[k] = acc;
      }
      for (let o = 0; o < outF; o++) {
        let acc = 0;
        for (let k = 0; k < r; k++) acc += lora.B.data[o * r + k] * t[k];
        y[o] += scale * acc;
      }
    }
    return y;
  });
}

// ---------------------------------------------------------------------------------------------
// RoPE
// ---------------------------------------------------------------------------------------------

/**
 * Inverse frequencies for RoPE, one per rotated pair (headDim/2 of them), including the
 * Llama 3.x frequency rescaling when `cfg.ropeScaling` asks for it.
 *
 * Default:  invFreq[i] = theta^(-2i / headDim).
 * llama3:   with wavelength = 2*pi / invFreq[i], lowWave = origCtx / lowFreqFactor and
 *           highWave = origCtx / highFreqFactor:
 *             wavelength < highWave          -> unchanged (high frequencies)
 *             wavelength > lowWave           -> divided by factor (low frequencies)
 *             otherwise (both bounds incl.)  -> blend (1 - s) * f / factor + s * f with
 *                                              s = (origCtx / wavelength - lowFreqFactor)
 *                                                  / (highFreqFactor - lowFreqFactor).
 */
export function referenceInvFreq(cfg: ModelConfig): Float64Array {
  const dim = cfg.headDim;
  if (dim % 2 !== 0) throw new Error(`reference rope: headDim ${dim} is odd`);
  const half = dim / 2;
  const inv = new Float64Array(half);
  for (let i = 0; i < half; i++) inv[i] = 1 / Math.pow(cfg.ropeTheta, (2 * i) / dim);

  const rs = cfg.ropeScaling;
  if (rs === null) return inv;
  if ((rs as { type: string }).type !== 'llama3') {
    throw new Error(`reference rope: unsupported rope scaling ${(rs as { type: string }).type}`);
  }
  const orig = rs.originalMaxPositionEmbeddings;
  const lowWave = orig / rs.lowFreqFactor;
  const highWave = orig / rs.highFreqFactor;
  const out = new Float64Array(half);
  for (let i = 0; i < half; i++) {
    const f = inv[i];
    const wave = (2 * Math.PI) / f;
    if (wave < highWave) {
      out[i] = f;
    } else if (wave > lowWave) {
      out[i] = f / rs.factor;
    } else {
      const s = (orig / wave - rs.lowFreqFactor) / (rs.highFreqFactor - rs.lowFreqFactor);
      out[i] = (1 - s) * (f / rs.factor) + s * f;
    }
  }
  return out;
}

/**
 * Rotate one head vector (length 2 * invFreq.length) for position `pos`, non-interleaved:
 * out[i] = x[i] cos - x[i+half] sin, out[i+half] = x[i+half] cos + x[i] sin.
 */
export function referenceApplyRope(x: ArrayLike<number>, pos: number, invFreq: ArrayLike<number>): Float64Array {
  const half = invFreq.length;
  if (x.length !== 2 * half) throw new Error(`reference rope: vector width ${x.length}, expected ${2 * half}`);
  const y = new Float64Array(2 * half);
  for (let i = 0; i < half; i++) {
    const angle = pos * invFreq[i];
    const c = Math.cos(angle);
    const s = Math.sin(angle);
    const a = x[i];
    const b = x[i + half];
    y[i] = a * c - b * s;
    y[i + half] = b * c + a * s;
  }
  return y;
}

/** Apply RoPE to every head packed in `row` (heads laid out one after another). */
function ropeAllHeads(row: Float64Array, heads: number, headDim: number, pos: number, invFreq: Float64Array): Float64Array {
  const out = new Float64Array(row.length);
  for (let h = 0; h < heads; h++) {
    const rotated = referenceApplyRope(row.subarray(h * headDim, (h + 1) * headDim), pos, invFreq);
    out.set(rotated, h * headDim);
  }
  return out;
}

/** RMS-normalise every head of `row` separately with the same per-head weight (qwen3). */
function normEachHead(row: Float64Array, heads: number, headDim: number, weight: Float32Array, eps: number): Float64Array {
  const out = new Float64Array(row.length);
  for (let h = 0; h < heads; h++) {
    out.set(referenceRmsNorm(row.subarray(h * headDim, (h + 1) * headDim), weight, eps), h * headDim);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Attention
// ---------------------------------------------------------------------------------------------

/**
 * Causal grouped-query attention over already-rotated q/k. q rows are numHeads*headDim wide,
 * k and v rows numKvHeads*headDim. Returns rows numHeads*headDim wide (heads concatenated).
 */
function causalAttention(cfg: ModelConfig, q: Rows, k: Rows, v: Rows): Rows {
  const H = cfg.numHeads;
  const KV = cfg.numKvHeads;
  const hd = cfg.headDim;
  const perKv = H / KV;
  const scale = 1 / Math.sqrt(hd);
  const n = q.length;
  const out: Rows = [];
  for (let t = 0; t < n; t++) {
    const row = new Float64Array(H * hd);
    for (let h = 0; h < H; h++) {
      const kvh = Math.floor(h / perKv);
      // Scores against positions 0..t only (the causal mask).
      const scores = new Float64Array(t + 1);
      let max = -Infinity;
      for (let s = 0; s <= t; s++) {
        let dot = 0;
        for (let d = 0; d < hd; d++) dot += q[t][h * hd + d] * k[s][kvh * hd + d];
        scores[s] = dot * scale;
        if (scores[s] > max) max = scores[s];
      }
      let total = 0;
      for (let s = 0; s <= t; s++) {
        scores[s] = Math.exp(scores[s] - max);
        total += scores[s];
      }
      for (let s = 0; s <= t; s++) {
        const p = scores[s] / total;
        for (let d = 0; d < hd; d++) row[h * hd + d] += p * v[s][kvh * hd + d];
      }
    }
    out.push(row);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// LoRA lookup
// ---------------------------------------------------------------------------------------------

/** Check every adapter module is a known projection of this model with consistent shapes. */
function checkAdapter(cfg: ModelConfig, lora: LoraAdapter): void {
  const known = new Map<string, LoraTarget>();
  for (let l = 0; l < cfg.numLayers; l++) {
    for (const t of LORA_TARGETS) known.set(projectionPath(l, t), t);
  }
  for (const [path, pair] of lora.modules) {
    if (!known.has(path)) throw new Error(`reference forward: LoRA module ${path} is not a projection of this model`);
    const { A, B } = pair;
    if (A.dims.length !== 2 || B.dims.length !== 2 || A.dims[0] !== B.dims[1]) {
      throw new Error(`reference forward: LoRA ${path} has A [${A.dims.join(', ')}] and B [${B.dims.join(', ')}]`);
    }
    if (A.data.length !== A.dims[0] * A.dims[1] || B.data.length !== B.dims[0] * B.dims[1]) {
      throw new Error(`reference forward: LoRA ${path} data length does not match its dims`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Forward pass
// ---------------------------------------------------------------------------------------------

interface Ctx {
  cfg: ModelConfig;
  w: WeightMap;
  lora: LoraAdapter | null;
  scale: number;
}

/** Apply projection `target` of layer `layer` (weight, optional bias, optional LoRA). */
function project(ctx: Ctx, layer: number, target: LoraTarget, xs: Rows, withBias: boolean, inF: number, outF: number): Rows {
  const path = projectionPath(layer, target);
  const W = need(ctx.w, `${path}.weight`, [outF, inF]);
  const b = withBias ? need(ctx.w, `${path}.bias`, [outF]) : null;
  const pair = ctx.lora?.modules.get(path) ?? null;
  if (pair) {
    if (pair.A.dims[1] !== inF || pair.B.dims[0] !== outF) {
      throw new Error(
        `reference forward: LoRA ${path} A [${pair.A.dims.join(', ')}] / B [${pair.B.dims.join(', ')}] ` +
          `do not fit a ${inF} -> ${outF} projection`,
      );
    }
  }
  return linear(xs, W, b, pair, ctx.scale);
}

function addRows(a: Rows, b: Rows): Rows {
  return a.map((x, t) => {
    const y = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) y[i] = x[i] + b[t][i];
    return y;
  });
}

function normRows(xs: Rows, weight: HostTensor, eps: number): Rows {
  return xs.map((x) => referenceRmsNorm(x, weight.data, eps));
}

function decoderLayer(ctx: Ctx, layer: number, x: Rows, invFreq: Float64Array): Rows {
  const { cfg, w } = ctx;
  const D = cfg.hiddenSize;
  const H = cfg.numHeads;
  const KV = cfg.numKvHeads;
  const hd = cfg.headDim;
  const I = cfg.intermediateSize;
  const eps = cfg.rmsNormEps;
  const pre = `model.layers.${layer}`;
  const olmo = cfg.family === 'olmo2';

  // ---- attention block ----
  const attnIn = olmo ? x : normRows(x, need(w, `${pre}.input_layernorm.weight`, [D]), eps);
  let q = project(ctx, layer, 'q_proj', attnIn, cfg.attentionBias, D, H * hd);
  let k = project(ctx, layer, 'k_proj', attnIn, cfg.attentionBias, D, KV * hd);
  const v = project(ctx, layer, 'v_proj', attnIn, cfg.attentionBias, D, KV * hd);

  if (olmo) {
    // One norm across all heads of the projection, before splitting into heads.
    q = normRows(q, need(w, `${pre}.self_attn.q_norm.weight`, [H * hd]), eps);
    k = normRows(k, need(w, `${pre}.self_attn.k_norm.weight`, [KV * hd]), eps);
  } else if (cfg.family === 'qwen3') {
    // The same headDim-sized norm applied to each head on its own.
    const qn = need(w, `${pre}.self_attn.q_norm.weight`, [hd]);
    const kn = need(w, `${pre}.self_attn.k_norm.weight`, [hd]);
    q = q.map((row) => normEachHead(row, H, hd, qn.data, eps));
    k = k.map((row) => normEachHead(row, KV, hd, kn.data, eps));
  }

  q = q.map((row, pos) => ropeAllHeads(row, H, hd, pos, invFreq));
  k = k.map((row, pos) => ropeAllHeads(row, KV, hd, pos, invFreq));

  const attn = causalAttention(cfg, q, k, v);
  let o = project(ctx, layer, 'o_proj', attn, cfg.outputBias, H * hd, D);
  if (olmo) o = normRows(o, need(w, `${pre}.post_attention_layernorm.weight`, [D]), eps);
  const h = addRows(x, o);

  // ---- MLP block ----
  const mlpIn = olmo ? h : normRows(h, need(w, `${pre}.post_attention_layernorm.weight`, [D]), eps);
  const gate = project(ctx, layer, 'gate_proj', mlpIn, cfg.mlpBias, D, I);
  const up = project(ctx, layer, 'up_proj', mlpIn, cfg.mlpBias, D, I);
  const act = gate.map((g, t) => {
    const y = new Float64Array(I);
    for (let j = 0; j < I; j++) y[j] = silu(g[j]) * up[t][j];
    return y;
  });
  let down = project(ctx, layer, 'down_proj', act, cfg.mlpBias, I, D);
  if (olmo) down = normRows(down, need(w, `${pre}.post_feedforward_layernorm.weight`, [D]), eps);
  return addRows(h, down);
}

function checkConfig(cfg: ModelConfig): void {
  const fams = ['llama', 'qwen2', 'qwen3', 'olmo2'];
  if (!fams.includes(cfg.family)) throw new Error(`reference forward: unknown family ${cfg.family}`);
  if (cfg.numKvHeads <= 0 || cfg.numHeads % cfg.numKvHeads !== 0) {
    throw new Error(`reference forward: numHeads ${cfg.numHeads} is not a multiple of numKvHeads ${cfg.numKvHeads}`);
  }
  if (cfg.headDim % 2 !== 0) throw new Error(`reference forward: headDim ${cfg.headDim} is odd`);
}

/**
 * Final hidden states (after model.norm, as in transformers' `last_hidden_state`), one row
 * of width hiddenSize per position 0..n-1.
 */
export function referenceHidden(cfg: ModelConfig, w: WeightMap, ids: number[], lora?: LoraAdapter | null): Float64Array[] {
  checkConfig(cfg);
  const adapter = lora ?? null;
  if (adapter) checkAdapter(cfg, adapter);
  const ctx: Ctx = { cfg, w, lora: adapter, scale: adapter ? loraScale(adapter.config) : 0 };
  const D = cfg.hiddenSize;
  const V = cfg.vocabSize;

  const emb = need(w, 'model.embed_tokens.weight', [V, D]);
  let x: Rows = ids.map((id, pos) => {
    if (!Number.isInteger(id) || id < 0 || id >= V) {
      throw new Error(`reference forward: token id ${id} at position ${pos} is outside [0, ${V})`);
    }
    return Float64Array.from(emb.data.subarray(id * D, (id + 1) * D));
  });

  const invFreq = referenceInvFreq(cfg);
  for (let l = 0; l < cfg.numLayers; l++) x = decoderLayer(ctx, l, x, invFreq);
  return normRows(x, need(w, 'model.norm.weight', [D]), cfg.rmsNormEps);
}

/**
 * Logits for every position of one sequence: row t (length vocabSize) is the prediction
 * after reading ids[0..t]. Positions are 0..n-1.
 */
export function referenceLogits(cfg: ModelConfig, w: WeightMap, ids: number[], lora?: LoraAdapter | null): Float64Array[] {
  const hidden = referenceHidden(cfg, w, ids, lora);
  const headName = cfg.tieWordEmbeddings ? 'model.embed_tokens.weight' : 'lm_head.weight';
  const head = need(w, headName, [cfg.vocabSize, cfg.hiddenSize]);
  return linear(hidden, head, null, null, 0);
}
