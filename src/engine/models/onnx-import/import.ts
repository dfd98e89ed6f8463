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
 *
 * Layout by layout, the readers are in layout-readers.ts; the graph index and constant folding
 * (external data included) in graph-index.ts; this file runs them and picks the tensors.
 */
import { decodeModel, elementCount, OnnxDecodeError, type OnnxModel } from './onnx-reader';
import { ModelFormatError, type HostTensor, type ModelConfig, type WeightMap } from '../types';
import { expectedWeights } from '../weight-layout';
import { moduleOfNode } from './module-names';
import { GraphIndex, ImportError, type ExternalDataReader, type ExternalDataSize } from './graph-index';
import { addTiedEmbedding, sameDims, splitFused } from './candidates';
import { NODE_READERS, readBiasAdds, readNamedInitializers, WeightMapping } from './layout-readers';

export { moduleFromOnnxName, moduleOfNode } from './module-names';
export type { ExternalDataReader, ExternalDataSize } from './graph-index';

export interface ImportOnnxOptions {
  /** Reads `length` bytes at `offset` of an external data file named by the model. */
  externalData?: ExternalDataReader;
  /**
   * The size of an external data file: lets every entry's offset and length be checked against
   * the file before reading (recommended; without it only the tensor's own size is checked).
   */
  externalDataSize?: ExternalDataSize;
  /** The model file's name for error messages (default "model.onnx"). */
  fileName?: string;
}

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
    return await mapWeights(model, cfg, new GraphIndex(model, opts.externalData, opts.externalDataSize), file);
  } catch (e) {
    if (e instanceof ImportError || e instanceof OnnxDecodeError) throw new ModelFormatError(file, e.message);
    throw e;
  }
}

/** Runs every layout reader over the graph, then picks one candidate per expected tensor. */
async function mapWeights(model: OnnxModel, cfg: ModelConfig, g: GraphIndex, file: string): Promise<WeightMap> {
  const m = new WeightMapping(g, cfg);
  for (const n of m.g.nodes) {
    if (n.domain !== '' && n.domain !== 'com.microsoft') continue;
    await NODE_READERS.get(n.opType)?.(m, n, moduleOfNode(n));
  }
  await readBiasAdds(m);
  readNamedInitializers(m);
  splitFused(m.cands, cfg);
  addTiedEmbedding(m.cands, cfg);

  const { weights, missing, wrong } = await selectWeights(m, expectedWeights(cfg));
  if (missing.length || wrong.length) {
    const parts: string[] = [];
    const show = (list: string[]) => (list.length > 12 ? `${list.slice(0, 12).join('; ')}; … and ${list.length - 12} more` : list.join('; '));
    if (missing.length) parts.push(`missing ${missing.length} tensor(s) for ${cfg.family}: ${show(missing)}`);
    if (wrong.length) parts.push(`wrong shape: ${show(wrong)}`);
    if (m.unsupported.length) parts.push(`unsupported weight formats: ${show([...new Set(m.unsupported)])}`);
    const producer = model.producerName ? ` (producer: ${model.producerName}${model.producerVersion ? ` ${model.producerVersion}` : ''})` : '';
    throw new ModelFormatError(file, `cannot map the ONNX weights to Hugging Face names${producer}: ${parts.join('. ')}`);
  }
  return weights;
}

/**
 * One candidate of the expected shape per tensor of the layout; a projection bias the exporter
 * dropped is zero when the projection was found and nothing constant is added to its output.
 */
async function selectWeights(m: WeightMapping, expected: Map<string, number[]>): Promise<{ weights: WeightMap; missing: string[]; wrong: string[] }> {
  const weights: WeightMap = new Map();
  const missing: string[] = [];
  const wrong: string[] = [];
  for (const [name, shape] of expected) {
    const list = m.cands.byName.get(name) ?? [];
    const hit = list.find((c) => sameDims(c.dims, shape));
    if (hit) {
      const data = await hit.load();
      if (data.length !== elementCount(shape)) throw new ImportError(`${name} from ${hit.source}: data length ${data.length} does not match its shape`);
      weights.set(name, { dims: shape.slice(), data } satisfies HostTensor);
      continue;
    }
    if (list.length > 0) {
      wrong.push(`${name}: found [${list[0].dims.join(', ')}] (${list[0].source}), expected [${shape.join(', ')}]`);
      continue;
    }
    if (isDroppedBias(m, name)) {
      weights.set(name, { dims: shape.slice(), data: new Float32Array(shape[0]) });
      continue;
    }
    missing.push(name);
  }
  return { weights, missing, wrong };
}

function isDroppedBias(m: WeightMapping, name: string): boolean {
  const p = /^(.*)\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)\.bias$/.exec(name);
  if (!p) return false;
  const module = `${p[1]}.${p[2]}`;
  const fused = `${p[1]}.${p[2] === 'gate_proj' || p[2] === 'up_proj' ? 'gate_up_proj' : 'qkv_proj'}`;
  const owner = m.linearModules.has(module) ? module : m.linearModules.has(fused) && p[2] !== 'o_proj' && p[2] !== 'down_proj' ? fused : null;
  return !!owner && !m.biasAdded.has(owner);
}
