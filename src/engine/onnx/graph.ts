/**
 * A small graph IR for ONNX: values are named strings, nodes are plain records, and the
 * whole graph can be inspected (by autodiff) before it is serialized to a ModelProto.
 */
import { isDefaultDomain, type OpType } from './ops';

export type DType = 'float32' | 'float16' | 'float64' | 'int64' | 'int32' | 'bool' | 'uint8';

/** A dimension: a fixed size or a symbolic name such as "batch". */
export type Dim = number | string;

/** A dimension of unknown size (written with neither a value nor a name). */
export const UNKNOWN_DIM = '';

export type Attr =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'ints'; value: number[] }
  | { kind: 'floats'; value: number[] }
  | { kind: 'string'; value: string }
  | { kind: 'tensor'; value: ConstTensor };

export const attr = {
  int: (value: number): Attr => ({ kind: 'int', value }),
  float: (value: number): Attr => ({ kind: 'float', value }),
  ints: (value: number[]): Attr => ({ kind: 'ints', value }),
  floats: (value: number[]): Attr => ({ kind: 'floats', value }),
  string: (value: string): Attr => ({ kind: 'string', value }),
  tensor: (value: ConstTensor): Attr => ({ kind: 'tensor', value }),
};

export interface ConstTensor {
  dtype: DType;
  dims: number[];
  /** float32 values as Float32Array, int64 as BigInt64Array, and so on. */
  data: Float32Array | Float64Array | BigInt64Array | Int32Array | Uint8Array | Uint16Array;
}

export interface GraphNode {
  /** An OpType when written by Graph.node; any name for customNode (and for hand-pushed records). */
  opType: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, Attr>;
  domain: string;
  name: string;
}

export interface ValueInfo {
  name: string;
  dtype: DType;
  shape: Dim[];
}

export interface Initializer {
  name: string;
  tensor: ConstTensor;
}

/**
 * An initializer whose bytes are not in the model but handed to the runtime beside it (ONNX
 * external data, here a whole "file" per tensor): a constant to the runtime, which may then
 * pre-pack it, without copying the bytes into the serialized model.
 */
export interface ExternalInitializer {
  name: string;
  dtype: DType;
  dims: number[];
  /** The external-data file name the runtime is given the bytes under. */
  location: string;
  byteLength: number;
}

export class Graph {
  readonly nodes: GraphNode[] = [];
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  readonly initializers: Initializer[] = [];
  readonly externalInitializers: ExternalInitializer[] = [];
  /** Known shapes of intermediate values (optional; written as ONNX value_info). */
  readonly valueInfo: ValueInfo[] = [];
  private counter = 0;
  private readonly constCache = new Map<string, string>();

  constructor(readonly name = 'graph') {}

  /** A fresh value name with a readable prefix. */
  fresh(prefix: string): string {
    return `${prefix}__${this.counter++}`;
  }

  input(name: string, dtype: DType, shape: Dim[]): string {
    if (this.inputs.some((i) => i.name === name)) throw new Error(`duplicate graph input ${name}`);
    this.inputs.push({ name, dtype, shape });
    return name;
  }

  output(name: string, dtype: DType, shape: Dim[]): void {
    this.outputs.push({ name, dtype, shape });
  }

  /**
   * Add a node of the default ONNX domain. Returns its output names: `outputs` gives the count
   * (or explicit names).
   */
  node(opType: OpType, inputs: string[], attrs: Record<string, Attr> = {}, outputs: number | string[] = 1): string[] {
    return this.push('', opType, inputs, attrs, outputs);
  }

  /** Single-output convenience. */
  op(opType: OpType, inputs: string[], attrs: Record<string, Attr> = {}, outName?: string): string {
    return this.node(opType, inputs, attrs, outName ? [outName] : 1)[0];
  }

  /** Add a node of another domain (com.microsoft, a custom test domain); autodiff treats it as opaque. */
  customNode(domain: string, opType: string, inputs: string[], attrs: Record<string, Attr> = {}, outputs: number | string[] = 1): string[] {
    if (isDefaultDomain(domain)) throw new Error(`customNode: ${opType} is in the default domain; use node()`);
    return this.push(domain, opType, inputs, attrs, outputs);
  }

  private push(domain: string, opType: string, inputs: string[], attrs: Record<string, Attr>, outputs: number | string[]): string[] {
    const outs = typeof outputs === 'number' ? Array.from({ length: outputs }, () => this.fresh(opType.toLowerCase())) : outputs;
    this.nodes.push({ opType, inputs, outputs: outs, attrs, domain, name: this.fresh(`n_${opType}`) });
    return outs;
  }

  initializer(name: string, tensor: ConstTensor): string {
    this.initializers.push({ name, tensor });
    return name;
  }

  /** A constant, deduplicated by content so repeated small constants share one initializer. */
  constant(tensor: ConstTensor, prefix = 'const'): string {
    const key = `${tensor.dtype}|${tensor.dims.join('x')}|${Array.from(tensor.data as ArrayLike<number | bigint>).join(',')}`;
    const hit = key.length < 4096 ? this.constCache.get(key) : undefined;
    if (hit) return hit;
    const name = this.initializer(this.fresh(prefix), tensor);
    if (key.length < 4096) this.constCache.set(key, name);
    return name;
  }

  i64(values: number[], dims: number[] = [values.length]): string {
    return this.constant({ dtype: 'int64', dims, data: BigInt64Array.from(values.map((v) => BigInt(v))) }, 'i64');
  }

  f32(values: number[] | Float32Array, dims: number[] = [values.length]): string {
    return this.constant({ dtype: 'float32', dims, data: Float32Array.from(values) }, 'f32');
  }

  /** Scalar float constant of rank 0. */
  scalar(v: number): string {
    return this.f32([v], []);
  }
}
