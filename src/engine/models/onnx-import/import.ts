/**
 * Reads the weights of an exported decoder-only LM (Qwen2, Qwen3, Llama/SmolLM2, OLMo2) out of
 * an ONNX file and returns them under their Hugging Face names and shapes (linear weights
 * [out, in]), so the engine's own graph builder can rebuild the model.
 *
 * Exports name their tensors in several ways, so the mapping is driven by the graph, not by
 * initializer names. Each weight-consuming node (MatMul, Gemm, MatMulNBits, Gather,
 * GatherBlockQuantized, the RMSNorm ops or the Mul of a decomposed RMSNorm, bias Adds) is tied
 * to a module through its node name, which every exporter derives from the PyTorch module path:
 *
 * - torch.onnx / Optimum (transformers.js `model.onnx`, `model_fp16.onnx`):
 *   `/model/layers.0/self_attn/q_proj/MatMul` consuming a pre-transposed [in, out] initializer
 *   named `onnx::MatMul_1234`; biases via `/…/q_proj/Add`; norms as Pow/ReduceMean/…/Mul
 *   subgraphs under `/model/layers.0/input_layernorm/`; `/model/embed_tokens/Gather`;
 *   `/lm_head/MatMul`. Older merged decoders keep the nodes inside If subgraphs.
 * - onnxruntime's MatMulNBits quantizer (transformers.js `model_q4.onnx`, `model_q4f16.onnx`):
 *   the MatMul becomes `/…/q_proj/MatMul_Q4` (com.microsoft MatMulNBits) with initializers
 *   `<B>_Q4`, `<B>_scales` and, when asymmetric, `<B>_zero_points`.
 * - onnxruntime-genai's model builder: `/model/layers.0/attn/q_proj/MatMul` (or the fused
 *   `/attn/qkv_proj/MatMul`) with initializer `model.layers.0.attn.q_proj.MatMul.weight`
 *   ([in, out]) or, quantized, `…MatMul.weight_Q4`; norms as (Skip)SimplifiedLayerNormalization
 *   named `/model/layers.0/input_layernorm/SkipLayerNorm`, the final norm as
 *   `/model/layers.N/final_norm_layernorm/…`; q/k norms as `/…/attn/q_norm/…` or as
 *   initializers `model.layers.0.attn.q_norm.layernorm.weight`; tied embeddings as
 *   Transpose(lm_head.MatMul.weight) -> Gather, or Reshape(lm_head…weight_Q4) ->
 *   GatherBlockQuantized.
 *
 * Constant inputs are traced back through Identity, Cast, Transpose, Reshape, (Un)Squeeze,
 * Flatten and DequantizeLinear to an initializer or Constant node, so weights reached through
 * such chains are found too. Fused QKV and gate_up projections are split with the config's
 * dimensions. As a fallback, 1-D tensors (norm weights, biases) and the embedding are also
 * matched by initializer name. Finally every tensor of the family's layout
 * (expectedWeights) must be present with its exact shape, or a ModelFormatError lists what is
 * missing or wrong.
 */
import { decodeModel, elementCount, OnnxDecodeError, type OnnxModel, type OnnxNode } from './onnx-reader';
import { dataTypeName, OnnxDataType } from '../../onnx/dtypes';
import { dequantizeGatherBlockQuantized, dequantizeMatMulNBits } from './matmul-nbits';
import { ModelFormatError, type HostTensor, type ModelConfig, type WeightMap } from '../types';
import { expectedWeights } from '../weight-layout';
import { hfNameFromInitializer, isLinearModule, isNormModule, moduleOfNode } from './module-names';
import { FLOAT_TYPES, floatData, GraphIndex, ImportError, transpose2d, type ExternalDataReader } from './graph-index';
import { Candidates, sameDims, splitFused } from './candidates';

export { moduleFromOnnxName, moduleOfNode } from './module-names';
export type { ExternalDataReader } from './graph-index';

export interface ImportOnnxOptions {
  /** Reads `length` bytes at `offset` of an external data file named by the model. */
  externalData?: ExternalDataReader;
  /** The model file's name for error messages (default "model.onnx"). */
  fileName?: string;
}

/** Ops that carry weights in formats this importer cannot read. */
const UNSUPPORTED_WEIGHT_OPS: Record<string, string> = {
  MatMulInteger: '8-bit dynamic quantization (model_quantized / int8 / uint8 exports)',
  DynamicQuantizeMatMul: '8-bit dynamic quantization',
  MatMulIntegerToFloat: '8-bit quantization',
  QLinearMatMul: '8-bit static quantization',
  MatMulBnb4: 'bitsandbytes 4-bit quantization (bnb4 exports)',
  MatMulFpQ4: 'MatMulFpQ4 quantization',
};

/**
 * Reads the weights of an ONNX export of a Qwen2/Qwen3/Llama/OLMo2 model into a WeightMap with
 * Hugging Face names and shapes. Weights in external data files are read through
 * `opts.externalData`. Throws ModelFormatError naming the file and the missing or
 * mis-shaped tensors when the export cannot be mapped completely.
 */
export async function importOnnxWeights(bytes: Uint8Array, cfg: ModelConfig, opts: ImportOnnxOptions = {}): Promise<WeightMap> {
  const file = opts.fileName ?? 'model.onnx';
  let model: OnnxModel;
  try {
    model = decodeModel(bytes);
  } catch (e) {
    if (e instanceof OnnxDecodeError) throw new ModelFormatError(file, `not a valid ONNX model: ${e.message}`);
    throw e;
  }
  try {
    return await mapWeights(model, cfg, opts.externalData, file);
  } catch (e) {
    if (e instanceof ImportError || e instanceof OnnxDecodeError) throw new ModelFormatError(file, e.message);
    throw e;
  }
}

async function mapWeights(model: OnnxModel, cfg: ModelConfig, readExternal: ExternalDataReader | undefined, file: string): Promise<WeightMap> {
  const g = new GraphIndex(model, readExternal);
  const cands = new Candidates();
  const linearOutputs = new Map<string, { module: string; outFeatures: number }>();
  const linearModules = new Set<string>();
  const biasAdded = new Set<string>();
  const unsupported: string[] = [];

  const nodeLabel = (n: OnnxNode) => `${n.opType} node "${n.name || n.outputs[0] || '?'}"`;
  const wrap = async <T>(n: OnnxNode, f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      if (e instanceof ImportError || e instanceof OnnxDecodeError || (e instanceof Error && /^(MatMulNBits|GatherBlockQuantized)/.test(e.message))) {
        throw new ImportError(`${nodeLabel(n)}: ${e.message}`);
      }
      throw e;
    }
  };

  /** The [out, in] weight of a MatMul-like node from its B input ([in, out] unless transposed). */
  const linearWeight = async (bName: string, bIsOutIn: boolean): Promise<{ dims: number[]; data: Float32Array } | null> => {
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
  };

  const registerLinear = (n: OnnxNode, module: string, dims: number[], data: Float32Array) => {
    cands.addValue(`${module}.weight`, dims, data, nodeLabel(n));
    linearModules.add(module);
    if (n.outputs[0]) linearOutputs.set(n.outputs[0], { module, outFeatures: dims[0] });
  };

  const addBias = async (n: OnnxNode, module: string, biasName: string, outFeatures: number, scale = 1) => {
    const b = await g.constant(biasName);
    if (!b) throw new ImportError(`bias "${biasName}" is not a constant`);
    let d = floatData(b, `bias "${biasName}"`);
    if (d.length !== outFeatures) throw new ImportError(`bias "${biasName}" has ${d.length} values, expected ${outFeatures}`);
    if (scale !== 1) d = d.map((x) => x * scale);
    cands.addValue(`${module}.bias`, [d.length], d, nodeLabel(n));
    biasAdded.add(module);
  };

  // Pass 1: linear layers, embeddings, norms.
  for (const n of g.nodes) {
    const module = moduleOfNode(n);
    const op = n.opType;
    if (n.domain !== '' && n.domain !== 'com.microsoft') continue;

    if (module && isLinearModule(module) && op in UNSUPPORTED_WEIGHT_OPS) {
      unsupported.push(`${nodeLabel(n)} (${UNSUPPORTED_WEIGHT_OPS[op]})`);
      continue;
    }

    if (op === 'MatMul' || op === 'FusedMatMul' || op === 'Gemm') {
      if (!module || !isLinearModule(module)) continue;
      await wrap(n, async () => {
        const a = n.attributes;
        if ((a.get('transA')?.i ?? 0) !== 0) return;
        const transB = (a.get('transB')?.i ?? 0) === 1;
        const w = await linearWeight(n.inputs[1], transB);
        if (!w) return;
        let data = w.data;
        const alpha = a.get('alpha')?.f ?? 1;
        if (alpha !== 1) data = data.map((x) => x * alpha);
        registerLinear(n, module, w.dims, data);
        if (op === 'Gemm' && n.inputs[2]) await addBias(n, module, n.inputs[2], w.dims[0], a.get('beta')?.f ?? 1);
      });
      continue;
    }

    if (op === 'MatMulNBits' && n.domain === 'com.microsoft') {
      if (!module || !isLinearModule(module)) continue;
      await wrap(n, async () => {
        const a = n.attributes;
        const K = a.get('K')?.i ?? 0;
        const N = a.get('N')?.i ?? 0;
        const bits = a.get('bits')?.i ?? 4;
        const blockSize = a.get('block_size')?.i ?? 0;
        if (a.get('weight_prepacked')?.i) throw new ImportError('weights prepacked for CUDA (weight_prepacked) are not supported');
        const bv = await g.constant(n.inputs[1]);
        const sv = await g.constant(n.inputs[2]);
        if (!bv || !sv) throw new ImportError('B and scales must be constant initializers');
        if (!(bv.data instanceof Uint8Array) || bv.dataType !== OnnxDataType.UINT8) throw new ImportError(`B is ${dataTypeName(bv.dataType)}, expected uint8`);
        let zeroPoints: Uint8Array | Float32Array | null = null;
        if (n.inputs[3]) {
          const zv = await g.constant(n.inputs[3]);
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
        registerLinear(n, module, [N, K], data);
        if (n.inputs[5]) await addBias(n, module, n.inputs[5], N);
      });
      continue;
    }

    if (op === 'Gather' || op === 'GatherBlockQuantized') {
      await wrap(n, async () => {
        const isEmbed = module === 'model.embed_tokens';
        if (!isEmbed && module) return;
        if (op === 'Gather') {
          if ((n.attributes.get('axis')?.i ?? 0) !== 0) return;
          const v = await g.constant(n.inputs[0]);
          if (!v || v.dims.length !== 2) return;
          // Without a module name, only a table of exactly [vocab, hidden] counts as the embedding.
          if (!isEmbed && !(v.dims[0] === cfg.vocabSize && v.dims[1] === cfg.hiddenSize)) return;
          if (!(v.data instanceof Float32Array)) {
            unsupported.push(`${nodeLabel(n)} (quantized embedding table of type ${dataTypeName(v.dataType)})`);
            return;
          }
          cands.addValue('model.embed_tokens.weight', v.dims, v.data, nodeLabel(n));
          return;
        }
        if (n.domain !== 'com.microsoft') return;
        const a = n.attributes;
        const dv = await g.constant(n.inputs[0]);
        const sv = await g.constant(n.inputs[2]);
        if (!dv || !sv) {
          if (isEmbed) throw new ImportError('data and scales must be constant');
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
          const zv = await g.constant(n.inputs[3]);
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
        if (!isEmbed && !(out.dims[0] === cfg.vocabSize && out.dims[1] === cfg.hiddenSize)) return;
        cands.addValue('model.embed_tokens.weight', out.dims, out.data, nodeLabel(n));
      });
      continue;
    }

    if (!module || !isNormModule(module)) continue;
    const weightInput =
      op === 'SimplifiedLayerNormalization' || op === 'LayerNormalization' || op === 'RMSNormalization'
        ? 1
        : op === 'SkipSimplifiedLayerNormalization' || op === 'SkipLayerNormalization'
          ? 2
          : op === 'Mul'
            ? -1
            : null;
    if (weightInput === null) continue;
    await wrap(n, async () => {
      const inputs = weightInput >= 0 ? [n.inputs[weightInput]] : n.inputs;
      for (const inp of inputs) {
        if (!inp) continue;
        // A Mul in a norm's scope is only a candidate: failing to fold its operand is not an error.
        const v = op === 'Mul' ? await g.constant(inp).catch(() => null) : await g.constant(inp);
        if (!v || !(v.data instanceof Float32Array)) continue;
        const count = v.data.length;
        if (count <= 1) continue; // scalars in a decomposed norm are eps/exponents, not the weight
        cands.addValue(`${module}.weight`, [count], v.data, nodeLabel(n));
      }
    });
  }

  // Pass 2: biases added after a linear layer (MatMul -> Add(bias)).
  for (const n of g.nodes) {
    if (n.opType !== 'Add' || n.domain !== '' || n.inputs.length !== 2) continue;
    for (let side = 0; side < 2; side++) {
      const src = g.producerThrough(n.inputs[side]);
      const lin = src && src.outputs[0] ? linearOutputs.get(src.outputs[0]) : undefined;
      if (!lin) continue;
      const other = n.inputs[1 - side];
      await wrap(n, async () => {
        const b = await g.constant(other);
        if (!b) return;
        // Something constant is added to the projection's output: never assume a zero bias now.
        biasAdded.add(lin.module);
        if (elementCount(b.dims) !== lin.outFeatures || !(b.data instanceof Float32Array)) return;
        cands.addValue(`${lin.module}.bias`, [lin.outFeatures], b.data, nodeLabel(n));
      });
    }
  }

  // Name-based fallback, used only where the graph gave nothing of the right shape: 1-D tensors
  // (e.g. q/k norm weights consumed by fused attention ops) whose initializer name is the
  // module path in HF or model-builder spelling, and 2-D tensors under their exact HF name.
  const expected = expectedWeights(cfg);
  for (const [name, t] of g.initializers) {
    const hf = hfNameFromInitializer(name);
    if (!hf) continue;
    // 2-D tensors only under their exact HF name (then they hold the HF [out, in] layout).
    const exact2d = name === hf && t.dims.length === 2;
    if (!exact2d && t.dims.filter((d) => d !== 1).length > 1) continue;
    if (!FLOAT_TYPES.has(t.dataType)) continue;
    cands.add(hf, {
      dims: exact2d ? t.dims.slice() : [elementCount(t.dims)],
      source: `initializer "${name}"`,
      load: async () => (await g.tensor(t)).data as Float32Array,
    });
  }

  splitFused(cands, cfg);

  // Tied embeddings: the table may only exist as the lm_head weight (or the other way round).
  const V = cfg.vocabSize;
  const H = cfg.hiddenSize;
  const embedCands = cands.byName.get('model.embed_tokens.weight') ?? [];
  const headCands = cands.byName.get('lm_head.weight') ?? [];
  if (cfg.tieWordEmbeddings && !embedCands.some((c) => sameDims(c.dims, [V, H]))) {
    for (const c of headCands) cands.add('model.embed_tokens.weight', { ...c, source: `${c.source} (tied lm_head)` });
  }

  // Select one candidate per expected tensor.
  const out: WeightMap = new Map();
  const missing: string[] = [];
  const wrong: string[] = [];
  for (const [name, shape] of expected) {
    const list = cands.byName.get(name) ?? [];
    const hit = list.find((c) => sameDims(c.dims, shape));
    if (hit) {
      const data = await hit.load();
      if (data.length !== elementCount(shape)) throw new ImportError(`${name} from ${hit.source}: data length ${data.length} does not match its shape`);
      out.set(name, { dims: shape.slice(), data } satisfies HostTensor);
      continue;
    }
    if (list.length > 0) {
      wrong.push(`${name}: found [${list[0].dims.join(', ')}] (${list[0].source}), expected [${shape.join(', ')}]`);
      continue;
    }
    // A bias the exporter dropped: the projection was found and nothing is added to its output.
    const m = /^(.*)\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)\.bias$/.exec(name);
    if (m) {
      const module = `${m[1]}.${m[2]}`;
      const fused = `${m[1]}.${m[2] === 'gate_proj' || m[2] === 'up_proj' ? 'gate_up_proj' : 'qkv_proj'}`;
      const owner = linearModules.has(module) ? module : linearModules.has(fused) && m[2] !== 'o_proj' && m[2] !== 'down_proj' ? fused : null;
      if (owner && !biasAdded.has(owner)) {
        out.set(name, { dims: shape.slice(), data: new Float32Array(shape[0]) });
        continue;
      }
    }
    missing.push(name);
  }

  if (missing.length || wrong.length) {
    const parts: string[] = [];
    const show = (list: string[]) => (list.length > 12 ? `${list.slice(0, 12).join('; ')}; … and ${list.length - 12} more` : list.join('; '));
    if (missing.length) parts.push(`missing ${missing.length} tensor(s) for ${cfg.family}: ${show(missing)}`);
    if (wrong.length) parts.push(`wrong shape: ${show(wrong)}`);
    if (unsupported.length) parts.push(`unsupported weight formats: ${show([...new Set(unsupported)])}`);
    const producer = model.producerName ? ` (producer: ${model.producerName}${model.producerVersion ? ` ${model.producerVersion}` : ''})` : '';
    throw new ModelFormatError(file, `cannot map the ONNX weights to Hugging Face names${producer}: ${parts.join('. ')}`);
  }
  return out;
}

