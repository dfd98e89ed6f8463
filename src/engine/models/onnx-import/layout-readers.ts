/**
 * One reader per way an exporter lays out a decoder's weights. Node readers look at one
 * weight-consuming node (chosen by op type in `NODE_READERS`) and add what they find to the
 * shared `WeightMapping`; graph readers run once after all nodes were seen.
 *
 * - readFloatLinear: MatMul/Gemm/FusedMatMul over a float [in, out] initializer (torch.onnx /
 *   Optimum `onnx::MatMul_N`, onnxruntime-genai `….MatMul.weight`), possibly via Transpose.
 * - readMatMulNBits: onnxruntime's 4/8/2-bit quantizer (model_q4, model_q4f16, genai q4).
 * - readEmbeddingGather / readBlockQuantizedEmbedding: the embedding as a float Gather or as
 *   genai's GatherBlockQuantized (tied to the quantized lm_head).
 * - readNormOp: genai's (Skip)SimplifiedLayerNormalization, LayerNormalization, RMSNormalization.
 * - readDecomposedNormMul: Optimum's Pow/ReduceMean/Sqrt/Div/Mul RMSNorm, weight in the last Mul.
 * - readUnsupportedFormat: 8-bit and bnb4 exports, reported instead of silently skipped.
 * - readBiasAdds: Add(bias) after a linear layer (Optimum `/q_proj/Add`, genai `qkv_proj/Add`).
 * - readNamedInitializers: weights no node gave, by initializer name (genai's fused-attention
 *   q/k norm weights, tensors stored under their exact HF name).
 */
import { elementCount, OnnxDecodeError, type OnnxNode } from './onnx-reader';
import { dataTypeName, OnnxDataType } from '../../onnx/dtypes';
import { dequantizeGatherBlockQuantized, dequantizeMatMulNBits } from './matmul-nbits';
import type { ModelConfig } from '../types';
import { hfNameFromInitializer, isLinearModule, isNormModule } from './module-names';
import { FLOAT_TYPES, floatData, ImportError, transpose2d, type GraphIndex } from './graph-index';
import { Candidates } from './candidates';

/** What the readers find in one model, and the graph they read it from. */
export class WeightMapping {
  readonly cands = new Candidates();
  /** Output value of each linear layer -> its module and output features (for bias Adds). */
  readonly linearOutputs = new Map<string, { module: string; outFeatures: number }>();
  readonly linearModules = new Set<string>();
  /** Modules whose output gets a constant added: their bias is never assumed to be zero. */
  readonly biasAdded = new Set<string>();
  /** Weight-carrying nodes in formats this importer cannot read. */
  readonly unsupported: string[] = [];

  constructor(
    readonly g: GraphIndex,
    readonly cfg: ModelConfig,
  ) {}

  label(n: OnnxNode): string {
    return `${n.opType} node "${n.name || n.outputs[0] || '?'}"`;
  }

  /** Runs a reader on a node, prefixing the node to the importer's and decoders' errors. */
  async wrap<T>(n: OnnxNode, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      if (e instanceof ImportError || e instanceof OnnxDecodeError || (e instanceof Error && /^(MatMulNBits|GatherBlockQuantized)/.test(e.message))) {
        throw new ImportError(`${this.label(n)}: ${e.message}`);
      }
      throw e;
    }
  }

  /** The [out, in] weight of a MatMul-like node from its B input ([in, out] unless transposed). */
  async linearWeight(bName: string, bIsOutIn: boolean): Promise<{ dims: number[]; data: Float32Array } | null> {
    const g = this.g;
    // Transpose(W) feeding B: read W directly instead of transposing twice.
    const p = g.producers.get(bName);
    if (p && p.opType === 'Transpose' && p.domain === '' && !g.initializers.has(bName)) {
      const perm = p.attributes.get('perm')?.ints;
      if (!perm || perm.length === 0 || (perm.length === 2 && perm[0] === 1 && perm[1] === 0)) {
        const inner = await g.constant(p.inputs[0]);
        if (inner && inner.dims.length === 2) {
          const d = floatData(inner, `weight "${p.inputs[0]}"`);
          if (!bIsOutIn) return { dims: inner.dims.slice(), data: d };
          return { dims: [inner.dims[1], inner.dims[0]], data: transpose2d(d, inner.dims[0], inner.dims[1]) };
        }
      }
    }
    const v = await g.constant(bName);
    if (!v) return null;
    if (v.dims.length !== 2) throw new ImportError(`weight "${bName}" has shape [${v.dims.join(', ')}], expected 2-D`);
    const d = floatData(v, `weight "${bName}"`);
    if (bIsOutIn) return { dims: v.dims.slice(), data: d };
    return { dims: [v.dims[1], v.dims[0]], data: transpose2d(d, v.dims[0], v.dims[1]) };
  }

  registerLinear(n: OnnxNode, module: string, dims: number[], data: Float32Array): void {
    this.cands.addValue(`${module}.weight`, dims, data, this.label(n));
    this.linearModules.add(module);
    if (n.outputs[0]) this.linearOutputs.set(n.outputs[0], { module, outFeatures: dims[0] });
  }

  async addBias(n: OnnxNode, module: string, biasName: string, outFeatures: number, scale = 1): Promise<void> {
    const b = await this.g.constant(biasName);
    if (!b) throw new ImportError(`bias "${biasName}" is not a constant`);
    let d = floatData(b, `bias "${biasName}"`);
    if (d.length !== outFeatures) throw new ImportError(`bias "${biasName}" has ${d.length} values, expected ${outFeatures}`);
    if (scale !== 1) d = d.map((x) => x * scale);
    this.cands.addValue(`${module}.bias`, [d.length], d, this.label(n));
    this.biasAdded.add(module);
  }
}

/** Reads one node; `module` is the HF module its name points to, if any. */
export type NodeReader = (m: WeightMapping, n: OnnxNode, module: string | null) => Promise<void>;

const readFloatLinear: NodeReader = async (m, n, module) => {
  if (!module || !isLinearModule(module)) return;
  await m.wrap(n, async () => {
    const a = n.attributes;
    if ((a.get('transA')?.i ?? 0) !== 0) return;
    const transB = (a.get('transB')?.i ?? 0) === 1;
    const w = await m.linearWeight(n.inputs[1], transB);
    if (!w) return;
    let data = w.data;
    const alpha = a.get('alpha')?.f ?? 1;
    if (alpha !== 1) data = data.map((x) => x * alpha);
    m.registerLinear(n, module, w.dims, data);
    if (n.opType === 'Gemm' && n.inputs[2]) await m.addBias(n, module, n.inputs[2], w.dims[0], a.get('beta')?.f ?? 1);
  });
};

const readMatMulNBits: NodeReader = async (m, n, module) => {
  if (n.domain !== 'com.microsoft' || !module || !isLinearModule(module)) return;
  await m.wrap(n, async () => {
    const a = n.attributes;
    const K = a.get('K')?.i ?? 0;
    const N = a.get('N')?.i ?? 0;
    const bits = a.get('bits')?.i ?? 4;
    const blockSize = a.get('block_size')?.i ?? 0;
    if (a.get('weight_prepacked')?.i) throw new ImportError('weights prepacked for CUDA (weight_prepacked) are not supported');
    const bv = await m.g.constant(n.inputs[1]);
    const sv = await m.g.constant(n.inputs[2]);
    if (!bv || !sv) throw new ImportError('B and scales must be constant initializers');
    if (!(bv.data instanceof Uint8Array) || bv.dataType !== OnnxDataType.UINT8) throw new ImportError(`B is ${dataTypeName(bv.dataType)}, expected uint8`);
    let zeroPoints: Uint8Array | Float32Array | null = null;
    if (n.inputs[3]) {
      const zv = await m.g.constant(n.inputs[3]);
      if (!zv) throw new ImportError('zero_points must be a constant initializer');
      if (zv.data instanceof Uint8Array && zv.dataType === OnnxDataType.UINT8) zeroPoints = zv.data;
      else if (zv.data instanceof Float32Array) zeroPoints = zv.data;
      else throw new ImportError(`zero_points of type ${dataTypeName(zv.dataType)} are not supported`);
    }
    const data = dequantizeMatMulNBits({
      K,
      N,
      bits,
      blockSize,
      b: bv.data,
      scales: floatData(sv, 'scales'),
      zeroPoints,
      gIdx: n.inputs[4] ? n.inputs[4] : undefined,
    });
    m.registerLinear(n, module, [N, K], data);
    if (n.inputs[5]) await m.addBias(n, module, n.inputs[5], N);
  });
};

/** The embedding table by module name, or (unnamed) by its [vocab, hidden] shape. */
const isEmbeddingTable = (m: WeightMapping, module: string | null, dims: number[]) =>
  module === 'model.embed_tokens' || (dims[0] === m.cfg.vocabSize && dims[1] === m.cfg.hiddenSize);

const readEmbeddingGather: NodeReader = async (m, n, module) => {
  if (module && module !== 'model.embed_tokens') return;
  await m.wrap(n, async () => {
    if ((n.attributes.get('axis')?.i ?? 0) !== 0) return;
    const v = await m.g.constant(n.inputs[0]);
    if (!v || v.dims.length !== 2) return;
    // Without a module name, only a table of exactly [vocab, hidden] counts as the embedding.
    if (!isEmbeddingTable(m, module, v.dims)) return;
    if (!(v.data instanceof Float32Array)) {
      m.unsupported.push(`${m.label(n)} (quantized embedding table of type ${dataTypeName(v.dataType)})`);
      return;
    }
    m.cands.addValue('model.embed_tokens.weight', v.dims, v.data, m.label(n));
  });
};

const readBlockQuantizedEmbedding: NodeReader = async (m, n, module) => {
  if (module && module !== 'model.embed_tokens') return;
  await m.wrap(n, async () => {
    if (n.domain !== 'com.microsoft') return;
    const a = n.attributes;
    const dv = await m.g.constant(n.inputs[0]);
    const sv = await m.g.constant(n.inputs[2]);
    if (!dv || !sv) {
      if (module) throw new ImportError('data and scales must be constant');
      return;
    }
    if ((a.get('gather_axis')?.i ?? 0) !== 0) throw new ImportError('only gather_axis 0 is supported');
    const rank = dv.dims.length;
    let qa = a.get('quantize_axis')?.i ?? 1;
    if (qa < 0) qa += rank;
    const kind = dv.dataType === OnnxDataType.INT4 ? 'int4' : dv.dataType === OnnxDataType.UINT4 ? 'uint4' : dv.dataType === OnnxDataType.UINT8 ? 'uint8' : null;
    if (!kind) throw new ImportError(`data of type ${dataTypeName(dv.dataType)} is not supported`);
    let zeroPoints: Uint8Array | Int8Array | null = null;
    if (n.inputs[3]) {
      const zv = await m.g.constant(n.inputs[3]);
      if (!zv || !(zv.data instanceof Uint8Array || zv.data instanceof Int8Array)) throw new ImportError('zero_points must be a constant 4-bit or uint8 tensor');
      zeroPoints = zv.data;
    }
    const out = dequantizeGatherBlockQuantized({
      kind,
      data: dv.data as Uint8Array | Int8Array,
      dims: dv.dims,
      bits: a.get('bits')?.i ?? 4,
      blockSize: a.get('block_size')?.i ?? 128,
      quantizeAxis: qa,
      scales: floatData(sv, 'scales'),
      zeroPoints,
    });
    if (!isEmbeddingTable(m, module, out.dims)) return;
    m.cands.addValue('model.embed_tokens.weight', out.dims, out.data, m.label(n));
  });
};

/** Adds the 1-D float constants among `inputs` as candidates for the norm's weight. */
async function addNormWeights(m: WeightMapping, n: OnnxNode, module: string, inputs: string[], lenient: boolean): Promise<void> {
  for (const inp of inputs) {
    if (!inp) continue;
    const v = lenient ? await m.g.constant(inp).catch(() => null) : await m.g.constant(inp);
    if (!v || !(v.data instanceof Float32Array)) continue;
    const count = v.data.length;
    if (count <= 1) continue; // scalars in a decomposed norm are eps/exponents, not the weight
    m.cands.addValue(`${module}.weight`, [count], v.data, m.label(n));
  }
}

/** A norm op whose scale is input `weightInput`. */
const readNormOp =
  (weightInput: number): NodeReader =>
  async (m, n, module) => {
    if (!module || !isNormModule(module)) return;
    await m.wrap(n, () => addNormWeights(m, n, module, [n.inputs[weightInput]], false));
  };

// A Mul in a norm's scope is only a candidate: failing to fold its operand is not an error.
const readDecomposedNormMul: NodeReader = async (m, n, module) => {
  if (!module || !isNormModule(module)) return;
  await m.wrap(n, () => addNormWeights(m, n, module, n.inputs, true));
};

const readUnsupportedFormat =
  (format: string): NodeReader =>
  async (m, n, module) => {
    if (module && isLinearModule(module)) m.unsupported.push(`${m.label(n)} (${format})`);
  };

/** Node readers by op type (nodes of the default and com.microsoft domains). */
export const NODE_READERS: ReadonlyMap<string, NodeReader> = new Map([
  ['MatMul', readFloatLinear],
  ['FusedMatMul', readFloatLinear],
  ['Gemm', readFloatLinear],
  ['MatMulNBits', readMatMulNBits],
  ['Gather', readEmbeddingGather],
  ['GatherBlockQuantized', readBlockQuantizedEmbedding],
  ['SimplifiedLayerNormalization', readNormOp(1)],
  ['LayerNormalization', readNormOp(1)],
  ['RMSNormalization', readNormOp(1)],
  ['SkipSimplifiedLayerNormalization', readNormOp(2)],
  ['SkipLayerNormalization', readNormOp(2)],
  ['Mul', readDecomposedNormMul],
  ['MatMulInteger', readUnsupportedFormat('8-bit dynamic quantization (model_quantized / int8 / uint8 exports)')],
  ['DynamicQuantizeMatMul', readUnsupportedFormat('8-bit dynamic quantization')],
  ['MatMulIntegerToFloat', readUnsupportedFormat('8-bit quantization')],
  ['QLinearMatMul', readUnsupportedFormat('8-bit static quantization')],
  ['MatMulBnb4', readUnsupportedFormat('bitsandbytes 4-bit quantization (bnb4 exports)')],
  ['MatMulFpQ4', readUnsupportedFormat('MatMulFpQ4 quantization')],
]);

/** Biases added after a linear layer (MatMul -> Add(bias)), run after every node reader. */
export async function readBiasAdds(m: WeightMapping): Promise<void> {
  for (const n of m.g.nodes) {
    if (n.opType !== 'Add' || n.domain !== '' || n.inputs.length !== 2) continue;
    for (let side = 0; side < 2; side++) {
      const src = m.g.producerThrough(n.inputs[side]);
      const lin = src && src.outputs[0] ? m.linearOutputs.get(src.outputs[0]) : undefined;
      if (!lin) continue;
      const other = n.inputs[1 - side];
      await m.wrap(n, async () => {
        const b = await m.g.constant(other);
        if (!b) return;
        // Something constant is added to the projection's output: never assume a zero bias now.
        m.biasAdded.add(lin.module);
        if (elementCount(b.dims) !== lin.outFeatures || !(b.data instanceof Float32Array)) return;
        m.cands.addValue(`${lin.module}.bias`, [lin.outFeatures], b.data, m.label(n));
      });
    }
  }
}

/**
 * Name-based fallback, used only where the graph gave nothing of the right shape: 1-D tensors
 * (e.g. q/k norm weights consumed by fused attention ops) whose initializer name is the module
 * path in HF or model-builder spelling, and 2-D tensors under their exact HF name.
 */
export function readNamedInitializers(m: WeightMapping): void {
  for (const [name, t] of m.g.initializers) {
    const hf = hfNameFromInitializer(name);
    if (!hf) continue;
    // 2-D tensors only under their exact HF name (then they hold the HF [out, in] layout).
    const exact2d = name === hf && t.dims.length === 2;
    if (!exact2d && t.dims.filter((d) => d !== 1).length > 1) continue;
    if (!FLOAT_TYPES.has(t.dataType)) continue;
    m.cands.add(hf, {
      dims: exact2d ? t.dims.slice() : [elementCount(t.dims)],
      source: `initializer "${name}"`,
      load: async () => (await m.g.tensor(t)).data as Float32Array,
    });
  }
}
