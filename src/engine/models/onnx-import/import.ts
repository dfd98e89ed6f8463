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

import {
  decodeModel,
  elementCount,
  OnnxDecodeError,
  rawByteLength,
  tensorValues,
  type OnnxGraph,
  type OnnxModel,
  type OnnxNode,
  type OnnxTensor,
  type TensorValues,
} from './onnx-reader';
import { dataTypeName, OnnxDataType } from '../../onnx/dtypes';
import { dequantizeGatherBlockQuantized, dequantizeMatMulNBits } from './matmul-nbits';
import { ModelFormatError, type HostTensor, type ModelConfig, type WeightMap } from '../types';
import { expectedWeights } from '../weight-layout';

export type ExternalDataReader = (location: string, offset: number, length: number) => Promise<Uint8Array> | Uint8Array;

export interface ImportOnnxOptions {
  /** Reads `length` bytes at `offset` of an external data file named by the model. */
  externalData?: ExternalDataReader;
  /** The model file's name for error messages (default "model.onnx"). */
  fileName?: string;
}

// ---------------------------------------------------------------------------------------------
// Module paths from node and tensor names
// ---------------------------------------------------------------------------------------------

/** Path segments below `model.layers.N` that name modules (anything else is an op name). */
const LAYER_MODULE_TOKENS = new Set([
  'self_attn',
  'attn',
  'mlp',
  'q_proj',
  'k_proj',
  'v_proj',
  'o_proj',
  'qkv_proj',
  'gate_proj',
  'up_proj',
  'down_proj',
  'gate_up_proj',
  'input_layernorm',
  'post_attention_layernorm',
  'post_feedforward_layernorm',
  'q_norm',
  'k_norm',
  'final_norm_layernorm',
]);

const LINEAR_SUFFIXES = [
  'self_attn.q_proj',
  'self_attn.k_proj',
  'self_attn.v_proj',
  'self_attn.o_proj',
  'self_attn.qkv_proj',
  'mlp.gate_proj',
  'mlp.up_proj',
  'mlp.down_proj',
  'mlp.gate_up_proj',
];

const NORM_SUFFIXES = ['input_layernorm', 'post_attention_layernorm', 'post_feedforward_layernorm', 'self_attn.q_norm', 'self_attn.k_norm'];

/**
 * The Hugging Face module path a node or tensor name refers to, e.g.
 * `/model/layers.0/attn/q_proj/MatMul_Q4` -> `model.layers.0.self_attn.q_proj`,
 * `/model/embed_tokens/Gather` -> `model.embed_tokens`, `/lm_head/MatMul` -> `lm_head`,
 * `/model/norm/Mul_1` and `/model/layers.28/final_norm_layernorm/SkipLayerNorm` -> `model.norm`.
 * Returns null when the name carries no module path.
 */
export function moduleFromOnnxName(name: string): string | null {
  const tokens = name.split(/[/.]/).filter((t) => t.length > 0);
  for (let i = 0; i + 1 < tokens.length; i++) {
    if (tokens[i] !== 'layers' || !/^\d+$/.test(tokens[i + 1])) continue;
    const parts: string[] = [];
    for (let j = i + 2; j < tokens.length && LAYER_MODULE_TOKENS.has(tokens[j]); j++) {
      parts.push(tokens[j] === 'attn' ? 'self_attn' : tokens[j]);
    }
    if (parts.includes('final_norm_layernorm')) return 'model.norm';
    if (parts.length === 0) return null;
    return `model.layers.${Number(tokens[i + 1])}.${parts.join('.')}`;
  }
  if (tokens.includes('embed_tokens')) return 'model.embed_tokens';
  if (tokens.includes('lm_head')) return 'lm_head';
  for (let i = 0; i + 1 < tokens.length; i++) {
    if (tokens[i] === 'model' && (tokens[i + 1] === 'norm' || tokens[i + 1] === 'final_layernorm')) return 'model.norm';
  }
  return null;
}

function isLinearModule(m: string): boolean {
  return m === 'lm_head' || (m.startsWith('model.layers.') && LINEAR_SUFFIXES.some((s) => m.endsWith(`.${s}`)));
}

function isNormModule(m: string): boolean {
  return m === 'model.norm' || (m.startsWith('model.layers.') && NORM_SUFFIXES.some((s) => m.endsWith(`.${s}`)));
}

/**
 * Module of a node: from its name, else its first output's name, else the module scopes that
 * torch's dynamo exporter records in the node's metadata (`pkg.torch.onnx.name_scopes`, a list
 * such as `['', 'model', 'model.layers.0', 'model.layers.0.self_attn.q_proj', 'linear']`).
 */
export function moduleOfNode(n: OnnxNode): string | null {
  const fromName = moduleFromOnnxName(n.name) ?? (n.outputs[0] ? moduleFromOnnxName(n.outputs[0]) : null);
  if (fromName) return fromName;
  const scopes = n.metadata['pkg.torch.onnx.name_scopes'];
  if (!scopes) return null;
  const list = [...scopes.matchAll(/'([^']*)'|"([^"]*)"/g)].map((m) => m[1] ?? m[2]);
  for (let i = list.length - 1; i >= 0; i--) {
    const m = moduleFromOnnxName(list[i]);
    if (m) return m;
  }
  return null;
}

/** The HF parameter name an initializer name maps to, for 1-D tensors and the embedding. */
function hfNameFromInitializer(name: string): string | null {
  const module = moduleFromOnnxName(name);
  if (!module) return null;
  const last = name.split(/[/.]/).filter((t) => t.length > 0).pop() ?? '';
  if (last === 'weight' || last === 'bias') return `${module}.${last}`;
  return null;
}

// ---------------------------------------------------------------------------------------------
// Graph index and constant folding of weight chains
// ---------------------------------------------------------------------------------------------

interface ConstVal {
  dims: number[];
  data: TensorValues;
  /** Data type of the source tensor (for error messages and int4/uint4 detection). */
  dataType: number;
}

const FLOAT_TYPES = new Set<number>([OnnxDataType.FLOAT, OnnxDataType.FLOAT16, OnnxDataType.BFLOAT16, OnnxDataType.DOUBLE]);
const MAX_TRACE_DEPTH = 32;

class ImportError extends Error {}

class GraphIndex {
  readonly initializers = new Map<string, OnnxTensor>();
  readonly producers = new Map<string, OnnxNode>();
  readonly consumers = new Map<string, OnnxNode[]>();
  readonly nodes: OnnxNode[] = [];
  private readonly small = new Map<string, Promise<ConstVal | null>>();

  constructor(
    model: OnnxModel,
    private readonly readExternal: ExternalDataReader | undefined,
  ) {
    this.addGraph(model.graph);
  }

  private addGraph(g: OnnxGraph): void {
    for (const t of g.initializers) if (!this.initializers.has(t.name)) this.initializers.set(t.name, t);
    for (const n of g.nodes) {
      this.nodes.push(n);
      for (const o of n.outputs) if (o) this.producers.set(o, n);
      for (const i of n.inputs) {
        if (!i) continue;
        const list = this.consumers.get(i);
        if (list) list.push(n);
        else this.consumers.set(i, [n]);
      }
      for (const a of n.attributes.values()) {
        if (a.g) this.addGraph(a.g);
        for (const sub of a.graphs) this.addGraph(sub);
      }
    }
  }

  /** Decoded values of a tensor, reading external data when needed. */
  async tensor(t: OnnxTensor): Promise<ConstVal> {
    let raw: Uint8Array | undefined;
    if (t.externalData) {
      const ext = t.externalData;
      if (!this.readExternal) {
        throw new ImportError(
          `tensor "${t.name}" is stored in the external data file "${ext.location}"; provide that file (opts.externalData)`,
        );
      }
      const length = ext.length ?? rawByteLength(t.dataType, t.dims);
      if (length === null) throw new ImportError(`tensor "${t.name}" has unsupported type ${dataTypeName(t.dataType)}`);
      raw = await this.readExternal(ext.location, ext.offset, length);
      if (!(raw instanceof Uint8Array) || raw.length !== length) {
        throw new ImportError(
          `external data "${ext.location}" returned ${raw instanceof Uint8Array ? raw.length : 'no'} bytes at offset ${ext.offset} for tensor "${t.name}", expected ${length}`,
        );
      }
    }
    return { dims: t.dims.slice(), data: tensorValues(t, raw), dataType: t.dataType };
  }

  /**
   * The constant value of a graph value, traced back through value-preserving ops to
   * initializers and Constant nodes; null when it depends on graph inputs or on ops not handled.
   */
  async constant(name: string, depth = 0): Promise<ConstVal | null> {
    if (!name || depth > MAX_TRACE_DEPTH) return null;
    const init = this.initializers.get(name);
    if (init) {
      // Small constants (shapes, axes, scales) are cached; big weights are decoded on demand.
      if (elementCount(init.dims) <= 4096) {
        let p = this.small.get(name);
        if (!p) this.small.set(name, (p = this.tensor(init)));
        return p;
      }
      return this.tensor(init);
    }
    const n = this.producers.get(name);
    if (!n) return null;
    const dom = n.domain;
    if (dom !== '' && dom !== 'com.microsoft') return null;
    switch (n.opType) {
      case 'Constant':
        return this.constantNode(n);
      case 'Identity':
        return this.constant(n.inputs[0], depth + 1);
      case 'Cast': {
        const v = await this.constant(n.inputs[0], depth + 1);
        if (!v) return null;
        const to = n.attributes.get('to')?.i ?? 0;
        if (FLOAT_TYPES.has(to)) return { ...v, data: toFloat32(v.data), dataType: to };
        if (v.data instanceof Float32Array) return null; // float -> int casts are not weight chains
        return v;
      }
      case 'Transpose': {
        const v = await this.constant(n.inputs[0], depth + 1);
        if (!v) return null;
        const perm = n.attributes.get('perm')?.ints;
        return transpose(v, perm && perm.length ? perm : v.dims.map((_, i) => v.dims.length - 1 - i));
      }
      case 'Reshape': {
        const v = await this.constant(n.inputs[0], depth + 1);
        const s = await this.constant(n.inputs[1], depth + 1);
        if (!v || !s) return null;
        const allowZero = (n.attributes.get('allowzero')?.i ?? 0) === 1;
        return { ...v, dims: reshapeDims(v.dims, intList(s.data), allowZero) };
      }
      case 'Flatten': {
        const v = await this.constant(n.inputs[0], depth + 1);
        if (!v) return null;
        let axis = n.attributes.get('axis')?.i ?? 1;
        if (axis < 0) axis += v.dims.length;
        const a = v.dims.slice(0, axis).reduce((x, y) => x * y, 1);
        return { ...v, dims: [a, elementCount(v.dims) / a] };
      }
      case 'Squeeze':
      case 'Unsqueeze': {
        const v = await this.constant(n.inputs[0], depth + 1);
        if (!v) return null;
        let axes = n.attributes.get('axes')?.ints;
        if ((!axes || axes.length === 0) && n.inputs[1]) {
          const a = await this.constant(n.inputs[1], depth + 1);
          if (!a) return null;
          axes = intList(a.data);
        }
        if (n.opType === 'Squeeze') {
          const rank = v.dims.length;
          const drop = new Set((axes ?? []).map((x) => (x < 0 ? x + rank : x)));
          return { ...v, dims: v.dims.filter((d, i) => (drop.size ? !drop.has(i) : d !== 1)) };
        }
        const rank = v.dims.length + (axes?.length ?? 0);
        const add = new Set((axes ?? []).map((x) => (x < 0 ? x + rank : x)));
        const dims: number[] = [];
        let src = 0;
        for (let i = 0; i < rank; i++) dims.push(add.has(i) ? 1 : v.dims[src++]);
        return { ...v, dims };
      }
      case 'DequantizeLinear':
        return this.dequantizeLinear(n, depth);
      default:
        return null;
    }
  }

  private async constantNode(n: OnnxNode): Promise<ConstVal | null> {
    const a = n.attributes;
    const t = a.get('value')?.t;
    if (t) return this.tensor(t);
    const f = a.get('value_float')?.f;
    if (f !== undefined) return { dims: [], data: Float32Array.of(f), dataType: OnnxDataType.FLOAT };
    const fs = a.get('value_floats');
    if (fs && fs.floats.length) return { dims: [fs.floats.length], data: Float32Array.from(fs.floats), dataType: OnnxDataType.FLOAT };
    const i = a.get('value_int')?.i;
    if (i !== undefined) return { dims: [], data: BigInt64Array.of(BigInt(i)), dataType: OnnxDataType.INT64 };
    const is = a.get('value_ints');
    if (is && is.ints.length) return { dims: [is.ints.length], data: BigInt64Array.from(is.ints.map((x) => BigInt(x))), dataType: OnnxDataType.INT64 };
    return null;
  }

  /** ONNX DequantizeLinear over constants: per-tensor, per-axis or blocked. */
  private async dequantizeLinear(n: OnnxNode, depth: number): Promise<ConstVal | null> {
    const x = await this.constant(n.inputs[0], depth + 1);
    const s = await this.constant(n.inputs[1], depth + 1);
    if (!x || !s) return null;
    const zp = n.inputs[2] ? await this.constant(n.inputs[2], depth + 1) : null;
    if (n.inputs[2] && !zp) return null;
    if (x.data instanceof Float32Array || x.data instanceof BigInt64Array) return null;
    const scale = toFloat32(s.data);
    const rank = x.dims.length;
    let axis = n.attributes.get('axis')?.i ?? 1;
    if (axis < 0) axis += rank;
    const block = n.attributes.get('block_size')?.i ?? 0;
    const count = elementCount(x.dims);
    const out = new Float32Array(count);
    const z = zp ? toFloat32(zp.data) : null;
    if (scale.length === 1) {
      const z0 = z ? z[0] : 0;
      for (let i = 0; i < count; i++) out[i] = (Number(x.data[i]) - z0) * scale[0];
    } else {
      if (axis < 0 || axis >= rank) throw new ImportError(`DequantizeLinear ${n.name}: axis out of range`);
      const inner = x.dims.slice(axis + 1).reduce((a, b) => a * b, 1);
      const axDim = x.dims[axis];
      const outer = count / (inner * axDim);
      const nb = block > 0 ? Math.ceil(axDim / block) : axDim;
      if (scale.length !== outer * nb * inner && !(block === 0 && scale.length === axDim)) {
        throw new ImportError(`DequantizeLinear ${n.name}: scale has ${scale.length} values for input [${x.dims.join(', ')}]`);
      }
      for (let o = 0; o < outer; o++) {
        for (let a = 0; a < axDim; a++) {
          for (let i = 0; i < inner; i++) {
            const idx = (o * axDim + a) * inner + i;
            const si = block > 0 ? (o * nb + Math.floor(a / block)) * inner + i : a;
            out[idx] = (Number(x.data[idx]) - (z ? z[si] : 0)) * scale[si];
          }
        }
      }
    }
    return { dims: x.dims.slice(), data: out, dataType: OnnxDataType.FLOAT };
  }

  /** Follows a value up through Cast/Identity to the node that computes it. */
  producerThrough(name: string): OnnxNode | null {
    let n = this.producers.get(name) ?? null;
    for (let i = 0; n && i < MAX_TRACE_DEPTH && (n.opType === 'Cast' || n.opType === 'Identity'); i++) {
      n = this.producers.get(n.inputs[0]) ?? null;
    }
    return n;
  }
}

function toFloat32(d: TensorValues): Float32Array {
  if (d instanceof Float32Array) return d;
  const out = new Float32Array(d.length);
  if (d instanceof BigInt64Array) for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
  else out.set(d);
  return out;
}

function intList(d: TensorValues): number[] {
  return Array.from(d as ArrayLike<number | bigint>, (v) => Number(v));
}

function reshapeDims(from: number[], shape: number[], allowZero: boolean): number[] {
  const total = elementCount(from);
  const dims = shape.map((d, i) => (d === 0 && !allowZero ? from[i] : d));
  const infer = dims.indexOf(-1);
  if (infer >= 0) {
    const known = dims.reduce((a, d, i) => (i === infer ? a : a * d), 1);
    dims[infer] = known === 0 ? 0 : total / known;
  }
  if (elementCount(dims) !== total || dims.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new ImportError(`cannot reshape [${from.join(', ')}] to [${shape.join(', ')}]`);
  }
  return dims;
}

function transpose(v: ConstVal, perm: number[]): ConstVal {
  const rank = v.dims.length;
  if (perm.length !== rank) throw new ImportError(`Transpose perm [${perm.join(', ')}] does not match rank ${rank}`);
  const dims = perm.map((p) => v.dims[p]);
  if (rank === 2 && perm[0] === 1) return { ...v, dims, data: transpose2d(v.data, v.dims[0], v.dims[1]) };
  if (perm.every((p, i) => p === i)) return { ...v, dims };
  // General N-d transpose.
  const inStrides = new Array<number>(rank);
  let s = 1;
  for (let i = rank - 1; i >= 0; i--) {
    inStrides[i] = s;
    s *= v.dims[i];
  }
  const n = elementCount(v.dims);
  const out = new (v.data.constructor as { new (n: number): TensorValues })(n);
  const idx = new Array<number>(rank).fill(0);
  for (let o = 0; o < n; o++) {
    let src = 0;
    for (let k = 0; k < rank; k++) src += idx[k] * inStrides[perm[k]];
    (out as unknown as unknown[])[o] = (v.data as unknown as unknown[])[src];
    for (let k = rank - 1; k >= 0; k--) {
      if (++idx[k] < dims[k]) break;
      idx[k] = 0;
    }
  }
  return { ...v, dims, data: out };
}

/** Transposes a row-major [rows, cols] array to [cols, rows]. */
function transpose2d<T extends TensorValues>(d: T, rows: number, cols: number): T {
  const out = new (d.constructor as { new (n: number): T })(rows * cols);
  const B = 32;
  for (let r0 = 0; r0 < rows; r0 += B) {
    const r1 = Math.min(rows, r0 + B);
    for (let c0 = 0; c0 < cols; c0 += B) {
      const c1 = Math.min(cols, c0 + B);
      for (let r = r0; r < r1; r++) {
        for (let c = c0; c < c1; c++) (out as unknown as number[])[c * rows + r] = (d as unknown as number[])[r * cols + c];
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Candidates
// ---------------------------------------------------------------------------------------------

interface Candidate {
  dims: number[];
  /** How it was found, for error messages. */
  source: string;
  load: () => Promise<Float32Array>;
}

class Candidates {
  readonly byName = new Map<string, Candidate[]>();

  add(name: string, c: Candidate): void {
    const list = this.byName.get(name);
    if (list) list.push(c);
    else this.byName.set(name, [c]);
  }

  addValue(name: string, dims: number[], data: Float32Array, source: string): void {
    this.add(name, { dims, source, load: async () => data });
  }
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function floatData(v: ConstVal, what: string): Float32Array {
  if (!(v.data instanceof Float32Array)) {
    throw new ImportError(`${what} is ${dataTypeName(v.dataType)}, expected a float tensor`);
  }
  return v.data;
}

// ---------------------------------------------------------------------------------------------
// The importer
// ---------------------------------------------------------------------------------------------

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

/** Splits fused qkv_proj / gate_up_proj weights and biases into their HF parts (rows). */
function splitFused(cands: Candidates, cfg: ModelConfig): void {
  const q = cfg.numHeads * cfg.headDim;
  const kv = cfg.numKvHeads * cfg.headDim;
  const I = cfg.intermediateSize;
  for (const [name, list] of [...cands.byName]) {
    const m = /^(.*)\.(qkv_proj|gate_up_proj)\.(weight|bias)$/.exec(name);
    if (!m) continue;
    const [, prefix, kind, param] = m;
    const parts: [string, number][] = kind === 'qkv_proj' ? [['q_proj', q], ['k_proj', kv], ['v_proj', kv]] : [['gate_proj', I], ['up_proj', I]];
    const rows = parts.reduce((a, [, r]) => a + r, 0);
    for (const c of list) {
      if (c.dims[0] !== rows || (param === 'weight' && c.dims.length !== 2) || (param === 'bias' && c.dims.length !== 1)) {
        for (const [part] of parts) {
          cands.add(`${prefix}.${part}.${param}`, { dims: c.dims, source: `${c.source} (fused ${kind}; expected ${rows} rows to split)`, load: c.load });
        }
        continue;
      }
      const width = param === 'weight' ? c.dims[1] : 1;
      let start = 0;
      for (const [part, r] of parts) {
        const from = start;
        cands.add(`${prefix}.${part}.${param}`, {
          dims: param === 'weight' ? [r, width] : [r],
          source: `${c.source} (split from ${kind})`,
          load: async () => (await c.load()).slice(from * width, (from + r) * width),
        });
        start += r;
      }
    }
  }
}
