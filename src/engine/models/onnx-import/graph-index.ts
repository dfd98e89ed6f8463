/**
 * An index of an ONNX model's graph (initializers, producers, consumers, nodes of If branches
 * included) and the constant folding that follows a weight back through Identity, Cast,
 * Transpose, Reshape, (Un)Squeeze, Flatten and DequantizeLinear to its initializer or Constant,
 * reading external data when the tensor lives in another file.
 */
import {
  elementCount,
  rawByteLength,
  tensorValues,
  type OnnxGraph,
  type OnnxModel,
  type OnnxNode,
  type ExternalDataRef,
  type OnnxTensor,
  type TensorValues,
} from './onnx-reader';
import { dataTypeName, OnnxDataType } from '../../onnx/dtypes';

/** Reads `length` bytes at `offset` of an external data file named by the model. */
export type ExternalDataReader = (location: string, offset: number, length: number) => Promise<Uint8Array> | Uint8Array;

/** The size in bytes of an external data file named by the model. */
export type ExternalDataSize = (location: string) => Promise<number> | number;

export interface ConstVal {
  dims: number[];
  data: TensorValues;
  /** Data type of the source tensor (for error messages and int4/uint4 detection). */
  dataType: number;
}

export const FLOAT_TYPES = new Set<number>([OnnxDataType.FLOAT, OnnxDataType.FLOAT16, OnnxDataType.BFLOAT16, OnnxDataType.DOUBLE]);
const MAX_TRACE_DEPTH = 32;

/** A problem with the model; importOnnxWeights reports it as a ModelFormatError naming the file. */
export class ImportError extends Error {}

export class GraphIndex {
  readonly initializers = new Map<string, OnnxTensor>();
  readonly producers = new Map<string, OnnxNode>();
  readonly consumers = new Map<string, OnnxNode[]>();
  readonly nodes: OnnxNode[] = [];
  private readonly small = new Map<string, Promise<ConstVal | null>>();
  private readonly externalSizes = new Map<string, Promise<number>>();

  constructor(
    model: OnnxModel,
    private readonly readExternal: ExternalDataReader | undefined,
    private readonly externalSize?: ExternalDataSize,
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
    const raw = t.externalData ? await this.externalBytes(t, t.externalData) : undefined;
    return { dims: t.dims.slice(), data: tensorValues(t, raw), dataType: t.dataType };
  }

  /**
   * The bytes of a tensor stored in an external file. The entry is checked against the tensor's
   * own size and, when the file's size is known, against the file before anything is read, so a
   * broken entry is reported rather than allocated.
   */
  private async externalBytes(t: OnnxTensor, ext: ExternalDataRef): Promise<Uint8Array> {
    const file = `the external data file "${ext.location}"`;
    if (!this.readExternal) {
      throw new ImportError(`tensor "${t.name}" is stored in ${file}; provide that file (opts.externalData)`);
    }
    const need = rawByteLength(t.dataType, t.dims);
    const length = ext.length ?? need;
    if (length === null) throw new ImportError(`tensor "${t.name}" has unsupported type ${dataTypeName(t.dataType)}`);
    if (need !== null && length !== need) {
      throw new ImportError(
        `tensor "${t.name}" (${dataTypeName(t.dataType)} [${t.dims.join(', ')}]) takes ${need} bytes, but its entry in ${file} gives length ${length}`,
      );
    }
    const end = ext.offset + length;
    if (this.externalSize) {
      const size = await this.fileSize(ext.location);
      if (end > size) {
        throw new ImportError(`tensor "${t.name}" is stored at bytes [${ext.offset}, ${end}) of ${file}, which has only ${size} bytes`);
      }
    }
    const raw = await this.readExternal(ext.location, ext.offset, length);
    if (!(raw instanceof Uint8Array) || raw.length !== length) {
      throw new ImportError(
        `external data "${ext.location}" returned ${raw instanceof Uint8Array ? raw.length : 'no'} bytes at offset ${ext.offset} for tensor "${t.name}", expected ${length}`,
      );
    }
    return raw;
  }

  private fileSize(location: string): Promise<number> {
    let p = this.externalSizes.get(location);
    if (!p) this.externalSizes.set(location, (p = Promise.resolve(this.externalSize!(location))));
    return p;
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
export function transpose2d<T extends TensorValues>(d: T, rows: number, cols: number): T {
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

/** The float32 values of a constant, or an ImportError naming `what`. */
export function floatData(v: ConstVal, what: string): Float32Array {
  if (!(v.data instanceof Float32Array)) {
    throw new ImportError(`${what} is ${dataTypeName(v.dataType)}, expected a float tensor`);
  }
  return v.data;
}
