/**
 * Test helpers: tiny configs, random HF weights, a reference 4/8/2-bit block quantizer in the
 * MatMulNBits layout, and writers that lay a model out the way the common exporters do
 * (torch.onnx/Optimum, onnxruntime's MatMulNBits quantizer, onnxruntime-genai's builder).
 */
import { Graph, attr, type Attr, type ConstTensor, type DType } from '../../../../src/engine/onnx/graph';
import { ProtoWriter } from '../../../../src/engine/onnx/protobuf';
import { OnnxDataType } from '../../../../src/engine/onnx/dtypes';
import { expectedWeights } from '../../../../src/engine/models/weight-layout';
import { f32Bits, f32BitsToF16 } from '../../../../src/engine/onnx/half';
import type { Family, HostTensor, ModelConfig, WeightMap } from '../../../../src/engine/models/types';
import { Prng } from '../../../../src/util/prng';
import { tinyConfig as baseTinyConfig } from '../../../support/random-model';

/** Uniform [0, 1) stream from the project's seeded generator. */
export function rng(seed: number): () => number {
  const p = new Prng(seed);
  return () => p.next();
}

/** The shared tiny config, with the sizes these import tests were written for. */
export function tinyConfig(family: Family, over: Partial<ModelConfig> = {}): ModelConfig {
  return baseTinyConfig(family, { vocabSize: 48, intermediateSize: 64, maxPositionEmbeddings: 128, eosTokenIds: [0], padTokenId: null, ...over });
}

/** Random weights for every tensor of the layout (plus lm_head when tied, unused then). */
export function randomWeights(cfg: ModelConfig, seed = 1): WeightMap {
  const r = rng(seed);
  const out: WeightMap = new Map();
  const layout = expectedWeights(cfg);
  if (cfg.tieWordEmbeddings) layout.set('lm_head.weight', [cfg.vocabSize, cfg.hiddenSize]);
  for (const [name, dims] of layout) {
    const n = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const isNorm = /norm\.weight$/.test(name);
    for (let i = 0; i < n; i++) data[i] = isNorm ? 1 + 0.2 * (r() - 0.5) : (r() - 0.5) * 0.4;
    out.set(name, { dims, data });
  }
  if (cfg.tieWordEmbeddings) out.set('lm_head.weight', out.get('model.embed_tokens.weight')!);
  return out;
}

export function transpose(t: HostTensor): Float32Array {
  const [r, c] = t.dims;
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = t.data[i * c + j];
  return out;
}

/** fp32 -> fp16 bits, round to nearest even (subnormals included). */
export function toF16Bits(x: number): number {
  return f32BitsToF16(f32Bits(x));
}

export function fromF16Bits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

export function roundF16(a: Float32Array): Float32Array {
  return a.map((x) => fromF16Bits(toF16Bits(x)));
}

// ---------------------------------------------------------------------------------------------
// Reference block quantizer (MatMulNBits layout)
// ---------------------------------------------------------------------------------------------

export type ZpMode = 'none' | 'packed' | 'float';

export interface Quantized {
  K: number;
  N: number;
  bits: number;
  blockSize: number;
  b: Uint8Array;
  scales: Float32Array;
  zp: Uint8Array | Float32Array | null;
  /** Dequantized reference [N, K], computed from the unpacked codes. */
  deq: Float32Array;
}

/**
 * Quantizes W [N, K] block-wise along K: min/max affine with a zero point ('packed' uint8 or
 * 'float'), or symmetric around the default zero point 2^(bits-1) ('none').
 */
export function quantizeNBits(W: Float32Array, N: number, K: number, bits: number, blockSize: number, mode: ZpMode): Quantized {
  const nb = Math.ceil(K / blockSize);
  const blob = (blockSize * bits) / 8;
  const zpRow = Math.ceil((nb * bits) / 8);
  const qmax = 2 ** bits - 1;
  const mid = 2 ** (bits - 1);
  const b = new Uint8Array(N * nb * blob);
  const scales = new Float32Array(N * nb);
  const zpPacked = mode === 'packed' ? new Uint8Array(N * zpRow) : null;
  const zpFloat = mode === 'float' ? new Float32Array(N * nb) : null;
  const deq = new Float32Array(N * K);
  for (let n = 0; n < N; n++) {
    for (let blk = 0; blk < nb; blk++) {
      const k0 = blk * blockSize;
      const k1 = Math.min(K, k0 + blockSize);
      let lo = 0;
      let hi = 0;
      for (let k = k0; k < k1; k++) {
        lo = Math.min(lo, W[n * K + k]);
        hi = Math.max(hi, W[n * K + k]);
      }
      let scale: number;
      let z: number;
      if (mode === 'none') {
        const amax = Math.max(Math.abs(lo), Math.abs(hi));
        scale = Math.fround(amax / (mid - 1) || 1);
        z = mid;
      } else {
        scale = Math.fround((hi - lo) / qmax || 1);
        z = Math.min(qmax, Math.max(0, Math.round(-lo / scale)));
        if (mode === 'float') z = Math.fround(z + 0.25); // a non-integer zero point, as HQQ makes
      }
      const si = n * nb + blk;
      scales[si] = scale;
      if (zpPacked) zpPacked[n * zpRow + Math.floor((blk * bits) / 8)] |= z << ((blk * bits) % 8);
      if (zpFloat) zpFloat[si] = z;
      for (let j = 0; j < blockSize; j++) {
        const k = k0 + j;
        const q = k < K ? Math.min(qmax, Math.max(0, Math.round(W[n * K + k] / scale + z))) : 0;
        const bit = j * bits;
        b[si * blob + Math.floor(bit / 8)] |= q << (bit % 8);
        if (k < K) deq[n * K + k] = Math.fround((q - z) * scale);
      }
    }
  }
  return { K, N, bits, blockSize, b, scales, zp: zpPacked ?? zpFloat, deq };
}

// ---------------------------------------------------------------------------------------------
// Writers
// ---------------------------------------------------------------------------------------------

type Style = {
  /** Storage type of float initializers. */
  dtype: 'float32' | 'float16';
  /** How linear layers are written. */
  linear: 'matmul' | 'nbits';
  zp?: ZpMode;
  blockSize?: number;
};

/** A graph being written, with named nodes and the quantized weights kept for checks. */
export class Writer {
  readonly g = new Graph('main_graph');
  readonly quantized = new Map<string, Quantized>();
  /** (input, output) value names of every MatMulNBits node, by HF module. */
  readonly nbitsIO = new Map<string, { x: string; y: string }>();
  private k = 1000;

  constructor(readonly style: Style) {}

  node(name: string, opType: string, inputs: string[], outputs: string[], attrs: Record<string, Attr> = {}, domain = ''): string {
    this.g.nodes.push({ name, opType, inputs, outputs, attrs, domain });
    return outputs[0];
  }

  floatInit(name: string, dims: number[], data: Float32Array): string {
    const t: ConstTensor =
      this.style.dtype === 'float16'
        ? { dtype: 'float16', dims, data: Uint16Array.from(data, toF16Bits) }
        : { dtype: 'float32', dims, data: Float32Array.from(data) };
    return this.g.initializer(name, t);
  }

  init(name: string, dtype: DType, dims: number[], data: ConstTensor['data']): string {
    return this.g.initializer(name, { dtype, dims, data });
  }

  i64(name: string, values: number[]): string {
    return this.init(name, 'int64', [values.length], BigInt64Array.from(values.map(BigInt)));
  }

  scalar(name: string, v: number): string {
    return this.floatInit(name, [], Float32Array.of(v));
  }

  /**
   * A linear layer y = x W^T: MatMul over a transposed initializer (torch/Optimum), or
   * MatMulNBits named `<matmul>_Q4` with `<B>_Q4`, `<B>_scales`, `<B>_zero_points`.
   * `path` is the node-name prefix, e.g. `/model/layers.0/self_attn/q_proj`.
   */
  linear(x: string, path: string, w: HostTensor, weightName: string | null, hfModule: string): string {
    const [N, K] = w.dims;
    const matmulName = `${path}/MatMul`;
    const bName = weightName ?? `onnx::MatMul_${this.k++}`;
    if (this.style.linear === 'matmul') {
      this.floatInit(bName, [K, N], transpose(w));
      return this.node(matmulName, 'MatMul', [x, bName], [`${matmulName}_output_0`]);
    }
    const q = quantizeNBits(w.data, N, K, 4, this.style.blockSize ?? 16, this.style.zp ?? 'none');
    this.quantized.set(hfModule, q);
    const nb = Math.ceil(K / q.blockSize);
    const inputs = [x, this.init(`${bName}_Q4`, 'uint8', [N, nb, (q.blockSize * 4) / 8], q.b), this.floatInit(`${bName}_scales`, [N, nb], q.scales)];
    if (q.zp instanceof Uint8Array) inputs.push(this.init(`${bName}_zero_points`, 'uint8', [N, Math.ceil(nb / 2)], q.zp));
    else if (q.zp) inputs.push(this.floatInit(`${bName}_zero_points`, [N, nb], q.zp));
    const y = this.node(`${matmulName}_Q4`, 'MatMulNBits', inputs, [`${matmulName}_Q4_output_0`], {
      K: attr.int(K),
      N: attr.int(N),
      bits: attr.int(4),
      block_size: attr.int(q.blockSize),
    }, 'com.microsoft');
    this.nbitsIO.set(hfModule, { x, y });
    return y;
  }

  /** torch-style decomposed RMSNorm: Pow, ReduceMean, Add(eps), Sqrt, Div, Mul, Mul_1(weight). */
  rmsNormDecomposed(x: string, path: string, weightName: string, w: HostTensor, eps: number): string {
    const two = this.scalar(`${path}/Constant_output_0`, 2);
    const p = this.node(`${path}/Pow`, 'Pow', [x, two], [`${path}/Pow_output_0`]);
    const m = this.node(`${path}/ReduceMean`, 'ReduceMean', [p], [`${path}/ReduceMean_output_0`], { axes: attr.ints([-1]), keepdims: attr.int(1) });
    const e = this.node(`${path}/Add`, 'Add', [m, this.scalar(`${path}/Constant_1_output_0`, eps)], [`${path}/Add_output_0`]);
    const s = this.node(`${path}/Sqrt`, 'Sqrt', [e], [`${path}/Sqrt_output_0`]);
    const r = this.node(`${path}/Div`, 'Div', [this.scalar(`${path}/Constant_2_output_0`, 1), s], [`${path}/Div_output_0`]);
    const n = this.node(`${path}/Mul`, 'Mul', [x, r], [`${path}/Mul_output_0`]);
    return this.node(`${path}/Mul_1`, 'Mul', [this.floatInit(weightName, w.dims, w.data), n], [`${path}/Mul_1_output_0`]);
  }

  finish(): Uint8Array {
    return serialize(this.g);
  }
}

import { serializeGraph } from '../../../../src/engine/onnx/serialize';

export function serialize(g: Graph): Uint8Array {
  return serializeGraph(g, { producer: 'pytorch', extraOpsets: { 'com.microsoft': 1 } });
}

const P = (i: number) => `/model/layers.${i}`;
const H = (i: number) => `model.layers.${i}`;

/**
 * A decoder laid out like a torch.onnx / Optimum export (transformers.js `model.onnx`,
 * `model_fp16.onnx`, and with `linear: 'nbits'` the `model_q4.onnx` made from it). The
 * attention itself is reduced to o_proj(q) so the graph stays small and runnable.
 * `debugOutputs` adds every MatMulNBits input/output as a graph output.
 */
export function writeOptimumStyle(cfg: ModelConfig, w: WeightMap, style: Style, opts: { tiedVia?: 'transpose' | 'copy'; debugOutputs?: boolean } = {}): Writer {
  const wr = new Writer(style);
  const W = (n: string) => w.get(n)!;
  const ids = wr.g.input('input_ids', 'int64', ['batch', 'seq']);
  const embedName = wr.floatInit('model.embed_tokens.weight', W('model.embed_tokens.weight').dims, W('model.embed_tokens.weight').data);
  let h = wr.node('/model/embed_tokens/Gather', 'Gather', [embedName, ids], ['/model/embed_tokens/Gather_output_0']);
  const qDim = cfg.numHeads * cfg.headDim;
  for (let i = 0; i < cfg.numLayers; i++) {
    const x = cfg.family === 'olmo2' ? h : wr.rmsNormDecomposed(h, `${P(i)}/input_layernorm`, `${H(i)}.input_layernorm.weight`, W(`${H(i)}.input_layernorm.weight`), cfg.rmsNormEps);
    const proj = (input: string, group: string, name: string) => {
      const mod = `${H(i)}.${group}.${name}`;
      let y = wr.linear(input, `${P(i)}/${group}/${name}`, W(`${mod}.weight`), null, mod);
      const bias = w.get(`${mod}.bias`);
      if (bias) {
        const b = wr.floatInit(`${mod}.bias`, bias.dims, bias.data);
        y = wr.node(`${P(i)}/${group}/${name}/Add`, 'Add', [b, y], [`${P(i)}/${group}/${name}/Add_output_0`]);
      }
      return y;
    };
    let q = proj(x, 'self_attn', 'q_proj');
    proj(x, 'self_attn', 'k_proj');
    proj(x, 'self_attn', 'v_proj');
    if (cfg.family === 'qwen3') {
      const r = wr.node(`${P(i)}/self_attn/Reshape`, 'Reshape', [q, wr.i64(`${P(i)}/self_attn/Constant_output_0`, [0, 0, cfg.numHeads, cfg.headDim])], [`${P(i)}/self_attn/Reshape_output_0`]);
      const nq = wr.rmsNormDecomposed(r, `${P(i)}/self_attn/q_norm`, `${H(i)}.self_attn.q_norm.weight`, W(`${H(i)}.self_attn.q_norm.weight`), cfg.rmsNormEps);
      q = wr.node(`${P(i)}/self_attn/Reshape_1`, 'Reshape', [nq, wr.i64(`${P(i)}/self_attn/Constant_1_output_0`, [0, 0, qDim])], [`${P(i)}/self_attn/Reshape_1_output_0`]);
      // k_norm applied to a [.., heads, head_dim] view of q as a stand-in (only its weight matters).
      wr.rmsNormDecomposed(r, `${P(i)}/self_attn/k_norm`, `${H(i)}.self_attn.k_norm.weight`, W(`${H(i)}.self_attn.k_norm.weight`), cfg.rmsNormEps);
    } else if (cfg.family === 'olmo2') {
      q = wr.rmsNormDecomposed(q, `${P(i)}/self_attn/q_norm`, `${H(i)}.self_attn.q_norm.weight`, W(`${H(i)}.self_attn.q_norm.weight`), cfg.rmsNormEps);
      const kvw = W(`${H(i)}.self_attn.k_norm.weight`);
      const kIn = wr.node(`${P(i)}/self_attn/Slice`, 'Slice', [q, wr.i64(`${P(i)}/self_attn/Constant_2_output_0`, [0]), wr.i64(`${P(i)}/self_attn/Constant_3_output_0`, [kvw.dims[0]]), wr.i64(`${P(i)}/self_attn/Constant_4_output_0`, [-1])], [`${P(i)}/self_attn/Slice_output_0`]);
      wr.rmsNormDecomposed(kIn, `${P(i)}/self_attn/k_norm`, `${H(i)}.self_attn.k_norm.weight`, kvw, cfg.rmsNormEps);
    }
    let a = proj(q, 'self_attn', 'o_proj');
    if (cfg.family === 'olmo2') a = wr.rmsNormDecomposed(a, `${P(i)}/post_attention_layernorm`, `${H(i)}.post_attention_layernorm.weight`, W(`${H(i)}.post_attention_layernorm.weight`), cfg.rmsNormEps);
    h = wr.node(`${P(i)}/Add`, 'Add', [h, a], [`${P(i)}/Add_output_0`]);
    const m = cfg.family === 'olmo2' ? h : wr.rmsNormDecomposed(h, `${P(i)}/post_attention_layernorm`, `${H(i)}.post_attention_layernorm.weight`, W(`${H(i)}.post_attention_layernorm.weight`), cfg.rmsNormEps);
    const gate = proj(m, 'mlp', 'gate_proj');
    const up = proj(m, 'mlp', 'up_proj');
    const sg = wr.node(`${P(i)}/mlp/act_fn/Sigmoid`, 'Sigmoid', [gate], [`${P(i)}/mlp/act_fn/Sigmoid_output_0`]);
    const act = wr.node(`${P(i)}/mlp/act_fn/Mul`, 'Mul', [gate, sg], [`${P(i)}/mlp/act_fn/Mul_output_0`]);
    const prod = wr.node(`${P(i)}/mlp/Mul`, 'Mul', [act, up], [`${P(i)}/mlp/Mul_output_0`]);
    let d = proj(prod, 'mlp', 'down_proj');
    if (cfg.family === 'olmo2') d = wr.rmsNormDecomposed(d, `${P(i)}/post_feedforward_layernorm`, `${H(i)}.post_feedforward_layernorm.weight`, W(`${H(i)}.post_feedforward_layernorm.weight`), cfg.rmsNormEps);
    h = wr.node(`${P(i)}/Add_1`, 'Add', [h, d], [`${P(i)}/Add_1_output_0`]);
  }
  const f = wr.rmsNormDecomposed(h, '/model/norm', 'model.norm.weight', W('model.norm.weight'), cfg.rmsNormEps);
  if (cfg.tieWordEmbeddings && opts.tiedVia === 'transpose' && style.linear === 'matmul') {
    const t = wr.node('/lm_head/Transpose', 'Transpose', [embedName], ['/lm_head/Transpose_output_0'], { perm: attr.ints([1, 0]) });
    wr.node('/lm_head/MatMul', 'MatMul', [f, t], ['logits']);
  } else {
    const y = wr.linear(f, '/lm_head', W('lm_head.weight'), null, 'lm_head');
    wr.node('/lm_head/Identity', 'Identity', [y], ['logits']);
  }
  wr.g.output('logits', 'float32', ['batch', 'seq', cfg.vocabSize]);
  if (opts.debugOutputs) addDebugOutputs(wr);
  return wr;
}

function addDebugOutputs(wr: Writer): void {
  const seen = new Set(wr.g.outputs.map((o) => o.name));
  for (const { x, y } of wr.nbitsIO.values()) {
    for (const v of [x, y]) {
      if (seen.has(v)) continue;
      seen.add(v);
      wr.g.output(v, 'float32', ['batch', 'seq', `width_${seen.size}`]);
    }
  }
}

/**
 * A decoder laid out like onnxruntime-genai's model builder, int4: fused qkv_proj MatMulNBits
 * (`/model/layers.0/attn/qkv_proj/MatMul_Q4`, `model.layers.0.attn.qkv_proj.MatMul.weight_Q4`),
 * packed bias Add, (Skip)SimplifiedLayerNormalization norms, q/k norms under `/attn/q_norm/`,
 * the final norm as `/model/layers.N/final_norm_layernorm/SkipLayerNorm`, and, when tied,
 * the embedding as GatherBlockQuantized over Reshape(lm_head.MatMul.weight_Q4).
 */
export function writeGenaiStyle(cfg: ModelConfig, w: WeightMap, style: Style, opts: { debugOutputs?: boolean; qkNormVia?: 'layernorm' | 'gqa-initializers' } = {}): Writer {
  const wr = new Writer(style);
  const W = (n: string) => w.get(n)!;
  const ids = wr.g.input('input_ids', 'int64', ['batch', 'seq']);
  const V = cfg.vocabSize;
  const Hd = cfg.hiddenSize;
  const qDim = cfg.numHeads * cfg.headDim;
  const kvDim = cfg.numKvHeads * cfg.headDim;
  const eps = attr.float(cfg.rmsNormEps);
  let embedOut: string;
  // lm_head first so tied embeddings can point at its initializers.
  const lmHeadW = W('lm_head.weight');
  let lmHeadQ: Quantized | null = null;
  if (style.linear === 'nbits') {
    lmHeadQ = quantizeNBits(lmHeadW.data, V, Hd, 4, style.blockSize ?? 16, style.zp ?? 'none');
  }
  if (cfg.tieWordEmbeddings && lmHeadQ) {
    const q = lmHeadQ;
    const nb = Math.ceil(Hd / q.blockSize);
    wr.init('lm_head.MatMul.weight_Q4', 'uint8', [V, nb, q.blockSize / 2], q.b);
    wr.floatInit('lm_head.MatMul.weight_scales', [V, nb], q.scales);
    if (q.zp instanceof Uint8Array) wr.init('lm_head.MatMul.weight_zero_points', 'uint8', [V, Math.ceil(nb / 2)], q.zp);
    const shape = wr.i64(`/model/constants/INT64/[${V}, ${Hd / 2}]`, [V, Hd / 2]);
    const r = wr.node('/model/embed_tokens/Reshape', 'Reshape', ['lm_head.MatMul.weight_Q4', shape], ['/model/embed_tokens/Reshape/output_0']);
    const inputs = [r, ids, 'lm_head.MatMul.weight_scales'];
    if (q.zp instanceof Uint8Array) inputs.push('lm_head.MatMul.weight_zero_points');
    embedOut = wr.node('/model/embed_tokens/GatherBlockQuantized', 'GatherBlockQuantized', inputs, ['/model/embed_tokens/GatherBlockQuantized/output_0'], {
      bits: attr.int(4),
      block_size: attr.int(q.blockSize),
      gather_axis: attr.int(0),
      quantize_axis: attr.int(1),
    }, 'com.microsoft');
  } else if (cfg.tieWordEmbeddings) {
    wr.floatInit('lm_head.MatMul.weight', [Hd, V], transpose(lmHeadW));
    const t = wr.node('/model/embed_tokens/Transpose', 'Transpose', ['lm_head.MatMul.weight'], ['/model/embed_tokens/Transpose/output_0'], { perm: attr.ints([1, 0]) });
    embedOut = wr.node('/model/embed_tokens/Gather', 'Gather', [t, ids], ['/model/embed_tokens/Gather/output_0']);
  } else {
    const e = W('model.embed_tokens.weight');
    wr.floatInit('model.embed_tokens.weight', e.dims, e.data);
    embedOut = wr.node('/model/embed_tokens/Gather', 'Gather', ['model.embed_tokens.weight', ids], ['/model/embed_tokens/Gather/output_0']);
  }

  const builderLinear = (x: string, path: string, hfModule: string, t: HostTensor): string => {
    const initName = `${path.slice(1).replace(/\//g, '.')}.MatMul.weight`;
    if (style.linear === 'matmul') {
      wr.floatInit(initName, [t.dims[1], t.dims[0]], transpose(t));
      return wr.node(`${path}/MatMul`, 'MatMul', [x, initName], [`${path}/MatMul/output_0`]);
    }
    const q = quantizeNBits(t.data, t.dims[0], t.dims[1], 4, style.blockSize ?? 16, style.zp ?? 'none');
    wr.quantized.set(hfModule, q);
    const nb = Math.ceil(t.dims[1] / q.blockSize);
    const inputs = [x, wr.init(`${initName}_Q4`, 'uint8', [t.dims[0], nb, q.blockSize / 2], q.b), wr.floatInit(`${initName}_scales`, [t.dims[0], nb], q.scales)];
    if (q.zp instanceof Uint8Array) inputs.push(wr.init(`${initName}_zero_points`, 'uint8', [t.dims[0], Math.ceil(nb / 2)], q.zp));
    const y = wr.node(`${path}/MatMul_Q4`, 'MatMulNBits', inputs, [`${path}/MatMul/output_0`], {
      K: attr.int(t.dims[1]),
      N: attr.int(t.dims[0]),
      bits: attr.int(4),
      block_size: attr.int(q.blockSize),
      accuracy_level: attr.int(0),
    }, 'com.microsoft');
    wr.nbitsIO.set(hfModule, { x, y });
    return y;
  };
  const normW = (name: string, t: HostTensor) => wr.floatInit(name, t.dims, t.data);

  let root = embedOut;
  let skip: string | null = null;
  for (let i = 0; i < cfg.numLayers; i++) {
    const inW = normW(`${H(i)}.input_layernorm.weight`, W(`${H(i)}.input_layernorm.weight`));
    let x: string;
    if (skip === null) {
      x = wr.node(`${P(i)}/input_layernorm/LayerNorm`, 'SimplifiedLayerNormalization', [root, inW], [`${P(i)}/input_layernorm/output_0`], { axis: attr.int(-1), epsilon: eps });
      skip = root;
    } else {
      x = wr.node(`${P(i)}/input_layernorm/SkipLayerNorm`, 'SkipSimplifiedLayerNormalization', [root, skip, inW], [`${P(i)}/input_layernorm/output_0`, '', '', `${P(i)}/input_layernorm/output_3`], { epsilon: eps }, 'com.microsoft');
      skip = `${P(i)}/input_layernorm/output_3`;
    }
    const qkvW = new Float32Array((qDim + 2 * kvDim) * Hd);
    qkvW.set(W(`${H(i)}.self_attn.q_proj.weight`).data, 0);
    qkvW.set(W(`${H(i)}.self_attn.k_proj.weight`).data, qDim * Hd);
    qkvW.set(W(`${H(i)}.self_attn.v_proj.weight`).data, (qDim + kvDim) * Hd);
    let qkv = builderLinear(x, `${P(i)}/attn/qkv_proj`, `${H(i)}.self_attn.qkv_proj`, { dims: [qDim + 2 * kvDim, Hd], data: qkvW });
    if (cfg.attentionBias) {
      const b = new Float32Array(qDim + 2 * kvDim);
      b.set(W(`${H(i)}.self_attn.q_proj.bias`).data, 0);
      b.set(W(`${H(i)}.self_attn.k_proj.bias`).data, qDim);
      b.set(W(`${H(i)}.self_attn.v_proj.bias`).data, qDim + kvDim);
      const bn = wr.floatInit(`${H(i)}.attn.qkv_proj.Add.bias`, [b.length], b);
      qkv = wr.node(`${P(i)}/attn/qkv_proj/Add`, 'Add', [qkv, bn], [`${P(i)}/attn/qkv_proj/Add/output_0`]);
    }
    const split = wr.i64(`${P(i)}/attn/split_sizes`, [qDim, kvDim, kvDim]);
    const [q, k] = [`${P(i)}/attn/q`, `${P(i)}/attn/k`, `${P(i)}/attn/v`];
    wr.node(`${P(i)}/attn/qkv_proj/Split`, 'Split', [qkv, split], [q, k, `${P(i)}/attn/v`], { axis: attr.int(-1) });
    let attnIn = q;
    if (cfg.family === 'qwen3') {
      const qn = W(`${H(i)}.self_attn.q_norm.weight`);
      const kn = W(`${H(i)}.self_attn.k_norm.weight`);
      if (opts.qkNormVia === 'gqa-initializers') {
        // Fused GQA path: the norm weights only appear as inputs of an attention op.
        const qName = normW(`${H(i)}.attn.q_norm.layernorm.weight`, qn);
        const kName = normW(`${H(i)}.attn.k_norm.layernorm.weight`, kn);
        attnIn = wr.node(`${P(i)}/attn/GroupQueryAttention`, 'GroupQueryAttention', [q, k, `${P(i)}/attn/v`, '', '', '', '', '', '', '', '', '', '', '', qName, kName], [`${P(i)}/attn/GroupQueryAttention/output_0`], { num_heads: attr.int(cfg.numHeads), kv_num_heads: attr.int(cfg.numKvHeads) }, 'com.microsoft');
      } else {
        const r = wr.node(`${P(i)}/attn/q_norm/Reshape_1`, 'Reshape', [q, wr.i64(`${P(i)}/attn/q_norm/shape1`, [0, 0, cfg.numHeads, cfg.headDim])], [`${P(i)}/attn/q_norm/Reshape_1/output_0`]);
        const n = wr.node(`${P(i)}/attn/q_norm/SimplifiedLayerNormalization`, 'SimplifiedLayerNormalization', [r, normW(`${H(i)}.attn.q_norm.layernorm.weight`, qn)], [`${P(i)}/attn/q_norm/SimplifiedLayerNormalization/output_0`], { axis: attr.int(-1), epsilon: eps });
        attnIn = wr.node(`${P(i)}/attn/q_norm/Reshape_2`, 'Reshape', [n, wr.i64(`${P(i)}/attn/q_norm/shape2`, [0, 0, qDim])], [`${P(i)}/attn/q_norm/Reshape_2/output_0`]);
        const rk = wr.node(`${P(i)}/attn/k_norm/Reshape_1`, 'Reshape', [k, wr.i64(`${P(i)}/attn/k_norm/shape1`, [0, 0, cfg.numKvHeads, cfg.headDim])], [`${P(i)}/attn/k_norm/Reshape_1/output_0`]);
        wr.node(`${P(i)}/attn/k_norm/SimplifiedLayerNormalization`, 'SimplifiedLayerNormalization', [rk, normW(`${H(i)}.attn.k_norm.layernorm.weight`, kn)], [`${P(i)}/attn/k_norm/SimplifiedLayerNormalization/output_0`], { axis: attr.int(-1), epsilon: eps });
      }
    }
    const o = builderLinear(attnIn, `${P(i)}/attn/o_proj`, `${H(i)}.self_attn.o_proj`, W(`${H(i)}.self_attn.o_proj.weight`));
    const postW = normW(`${H(i)}.post_attention_layernorm.weight`, W(`${H(i)}.post_attention_layernorm.weight`));
    const m = wr.node(`${P(i)}/post_attention_layernorm/SkipLayerNorm`, 'SkipSimplifiedLayerNormalization', [o, skip, postW], [`${P(i)}/post_attention_layernorm/output_0`, '', '', `${P(i)}/post_attention_layernorm/output_3`], { epsilon: eps }, 'com.microsoft');
    skip = `${P(i)}/post_attention_layernorm/output_3`;
    const gate = builderLinear(m, `${P(i)}/mlp/gate_proj`, `${H(i)}.mlp.gate_proj`, W(`${H(i)}.mlp.gate_proj.weight`));
    const up = builderLinear(m, `${P(i)}/mlp/up_proj`, `${H(i)}.mlp.up_proj`, W(`${H(i)}.mlp.up_proj.weight`));
    const sg = wr.node(`${P(i)}/mlp/act_fn/Sigmoid`, 'Sigmoid', [gate], [`${P(i)}/mlp/act_fn/Sigmoid/output_0`]);
    const act = wr.node(`${P(i)}/mlp/act_fn/Mul`, 'Mul', [gate, sg], [`${P(i)}/mlp/act_fn/Mul/output_0`]);
    const prod = wr.node(`${P(i)}/mlp/Mul`, 'Mul', [act, up], [`${P(i)}/mlp/Mul/output_0`]);
    root = builderLinear(prod, `${P(i)}/mlp/down_proj`, `${H(i)}.mlp.down_proj`, W(`${H(i)}.mlp.down_proj.weight`));
  }
  const L = cfg.numLayers;
  const finalW = normW(`${H(L)}.final_norm_layernorm.weight`, W('model.norm.weight'));
  const f = wr.node(`${P(L)}/final_norm_layernorm/SkipLayerNorm`, 'SkipSimplifiedLayerNormalization', [root, skip!, finalW], [`${P(L)}/final_norm_layernorm/output_0`], { epsilon: eps }, 'com.microsoft');
  if (lmHeadQ) {
    const q = lmHeadQ;
    wr.quantized.set('lm_head', q);
    const nb = Math.ceil(Hd / q.blockSize);
    if (!cfg.tieWordEmbeddings) {
      wr.init('lm_head.MatMul.weight_Q4', 'uint8', [V, nb, q.blockSize / 2], q.b);
      wr.floatInit('lm_head.MatMul.weight_scales', [V, nb], q.scales);
      if (q.zp instanceof Uint8Array) wr.init('lm_head.MatMul.weight_zero_points', 'uint8', [V, Math.ceil(nb / 2)], q.zp);
    }
    const inputs = [f, 'lm_head.MatMul.weight_Q4', 'lm_head.MatMul.weight_scales'];
    if (q.zp instanceof Uint8Array) inputs.push('lm_head.MatMul.weight_zero_points');
    wr.node('/lm_head/MatMul_Q4', 'MatMulNBits', inputs, ['logits'], { K: attr.int(Hd), N: attr.int(V), bits: attr.int(4), block_size: attr.int(q.blockSize) }, 'com.microsoft');
    wr.nbitsIO.set('lm_head', { x: f, y: 'logits' });
  } else {
    if (!cfg.tieWordEmbeddings) wr.floatInit('lm_head.MatMul.weight', [Hd, V], transpose(lmHeadW));
    wr.node('/lm_head/MatMul', 'MatMul', [f, 'lm_head.MatMul.weight'], ['logits']);
  }
  wr.g.output('logits', 'float32', ['batch', 'seq', V]);
  if (opts.debugOutputs) {
    addDebugOutputs(wr);
    wr.g.output(embedOut, 'float32', ['batch', 'seq', Hd]);
  }
  return wr;
}

/**
 * Moves every float32 initializer of `minElements`+ elements into an external data file
 * "model.onnx_data" (4 KiB aligned, like onnx's save_as_external_data) and returns both files.
 * `entry` may rewrite a tensor's external_data entries (to write broken ones).
 */
export function withExternalData(
  wr: Writer,
  opts: { minElements?: number; entry?: (name: string, e: { location: string; offset: string; length: string }) => Record<string, string> } = {},
): { bytes: Uint8Array; dataFile: Uint8Array } {
  const min = opts.minElements ?? 64;
  const keep = wr.g.initializers.filter((i) => i.tensor.data.length < min);
  const moved = wr.g.initializers.filter((i) => i.tensor.data.length >= min);
  wr.g.initializers.splice(0, wr.g.initializers.length, ...keep);
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const extGraph = new ProtoWriter();
  for (const i of moved) {
    const d = i.tensor.data as Float32Array;
    const b = new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
    const pad = (4096 - (offset % 4096)) % 4096;
    chunks.push(new Uint8Array(pad), b);
    offset += pad;
    const e = { location: 'model.onnx_data', offset: String(offset), length: String(b.length) };
    extGraph.message(5, externalTensorProto(i.name, OnnxDataType.FLOAT, i.tensor.dims, opts.entry ? opts.entry(i.name, e) : e));
    offset += b.length;
  }
  const tail = new ProtoWriter();
  tail.message(7, extGraph);
  return { bytes: concatBytes(serialize(wr.g), tail.finish()), dataFile: concatBytes(...chunks) };
}

/** Writes a TensorProto whose data lives in an external file. */
export function externalTensorProto(name: string, dataType: number, dims: number[], entries: Record<string, string>): ProtoWriter {
  const w = new ProtoWriter();
  w.packedInts(1, dims);
  w.int(2, dataType);
  w.string(8, name);
  for (const [k, v] of Object.entries(entries)) {
    const e = new ProtoWriter();
    e.string(1, k);
    e.string(2, v);
    w.message(13, e);
  }
  w.int(14, 1);
  return w;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Max |a - b| over two arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** y = x W^T for x [rows, K] and W [N, K], in float64. */
export function matmulT(x: ArrayLike<number>, rows: number, Wt: Float32Array, N: number, K: number): Float64Array {
  const y = new Float64Array(rows * N);
  for (let r = 0; r < rows; r++) {
    for (let n = 0; n < N; n++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += x[r * K + k] * Wt[n * K + k];
      y[r * N + n] = s;
    }
  }
  return y;
}
