/**
 * A protobuf wire-format reader and an ONNX ModelProto decoder (the read side of
 * protobuf.ts / serialize.ts). It decodes what the model importers need: the graph's nodes
 * with their attributes, initializers (raw, typed or external data), graph inputs/outputs,
 * value_info, opset imports and metadata. Subgraphs held in attributes (If/Loop bodies) are
 * decoded too.
 *
 * Every read is bounds-checked; truncated or malformed input throws an OnnxDecodeError that
 * says what was being read and at which byte offset. Tensor payloads are not copied: raw_data
 * is a view into the input buffer, so decoding a large file costs little memory beyond the
 * buffer itself. Field numbers follow onnx/onnx.proto.
 *
 * Size limit: the whole file must sit in one Uint8Array, and protobuf itself caps a message at
 * 2 GiB, so files up to ~2 GB are fine. Larger models keep their weights in external data
 * files (`model.onnx_data`), which this decoder reports as ExternalDataRef for the caller to
 * read by range.
 */
import { dataTypeName, OnnxDataType } from '../../onnx/dtypes';

export class OnnxDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxDecodeError';
  }
}

/** Protobuf wire types. */
export const WireType = {
  Varint: 0,
  Fixed64: 1,
  LengthDelimited: 2,
  StartGroup: 3,
  EndGroup: 4,
  Fixed32: 5,
} as const;

const utf8 = new TextDecoder('utf-8', { fatal: false });
const TWO_POW_32 = 4294967296;

/**
 * Reads protobuf fields from buf[start, end). Sub-messages are read by `sub()`, which returns
 * a reader limited to the embedded message's bytes.
 */
export class ProtoReader {
  pos: number;

  constructor(
    readonly buf: Uint8Array,
    readonly start = 0,
    readonly end = buf.length,
    /** What is being decoded, for error messages (e.g. "TensorProto"). */
    readonly what = 'message',
  ) {
    if (start < 0 || end > buf.length || start > end) {
      throw new OnnxDecodeError(`${what}: invalid byte range [${start}, ${end}) of a ${buf.length}-byte buffer`);
    }
    this.pos = start;
  }

  eof(): boolean {
    return this.pos >= this.end;
  }

  fail(msg: string, at = this.pos): never {
    throw new OnnxDecodeError(`${this.what}: ${msg} at byte ${at}`);
  }

  /** An unsigned varint as a number; throws if it does not fit in 2^53. */
  varint(): number {
    const buf = this.buf;
    const begin = this.pos;
    // Fast path: up to 4 bytes (28 bits) with plain integer arithmetic.
    let result = 0;
    let shift = 0;
    let p = this.pos;
    while (shift < 28) {
      if (p >= this.end) this.fail('truncated varint', begin);
      const b = buf[p++];
      result |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = p;
        return result >>> 0;
      }
      shift += 7;
    }
    // Slow path: continue with float arithmetic, exact up to 2^53.
    let value = result >>> 0;
    let mul = 2 ** 28;
    for (let i = 4; i < 10; i++) {
      if (p >= this.end) this.fail('truncated varint', begin);
      const b = buf[p++];
      value += (b & 0x7f) * mul;
      if (b < 0x80) {
        this.pos = p;
        if (value > Number.MAX_SAFE_INTEGER) this.fail('varint larger than 2^53', begin);
        return value;
      }
      mul *= 128;
    }
    this.fail('varint longer than 10 bytes', begin);
  }

  /** A varint as an unsigned 64-bit bigint. */
  varintBig(): bigint {
    const begin = this.pos;
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('truncated varint', begin);
      const b = this.buf[this.pos++];
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return BigInt.asUintN(64, result);
      shift += 7n;
    }
    this.fail('varint longer than 10 bytes', begin);
  }

  /**
   * An int64 field (two's complement in a varint) as a number. Values beyond ±2^53 come back
   * rounded; ONNX uses them only as sentinels such as INT64_MAX in Slice ends.
   */
  int64(): number {
    const begin = this.pos;
    // Non-negative values of up to 7 varint bytes (49 bits) are the common case.
    const save = this.pos;
    let p = this.pos;
    let n = 0;
    let mul = 1;
    for (let i = 0; i < 7; i++) {
      if (p >= this.end) this.fail('truncated varint', begin);
      const b = this.buf[p++];
      n += (b & 0x7f) * mul;
      if (b < 0x80) {
        this.pos = p;
        return n;
      }
      mul *= 128;
    }
    this.pos = save;
    return Number(BigInt.asIntN(64, this.varintBig()));
  }

  /** An int64 field as a bigint (signed). */
  int64Big(): bigint {
    return BigInt.asIntN(64, this.varintBig());
  }

  /** An int32 field: negative values are sign-extended to 10-byte varints on the wire. */
  int32(): number {
    const v = this.int64();
    return v | 0;
  }

  tag(): { field: number; wire: number } {
    const at = this.pos;
    const t = this.varint();
    const field = Math.floor(t / 8);
    const wire = t % 8;
    if (field === 0) this.fail('field number 0', at);
    return { field, wire };
  }

  private need(n: number, what: string): void {
    if (n < 0 || this.pos + n > this.end) {
      this.fail(`truncated ${what}: needs ${n} bytes, ${this.end - this.pos} left`);
    }
  }

  fixed32(): number {
    this.need(4, 'fixed32');
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
  }

  float(): number {
    this.need(4, 'float');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getFloat32(0, true);
    this.pos += 4;
    return v;
  }

  double(): number {
    this.need(8, 'double');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getFloat64(0, true);
    this.pos += 8;
    return v;
  }

  fixed64(): bigint {
    this.need(8, 'fixed64');
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 8).getBigUint64(0, true);
    this.pos += 8;
    return v;
  }

  /** Payload of a length-delimited field: a view, not a copy. */
  bytes(): Uint8Array {
    const at = this.pos;
    const len = this.varint();
    if (this.pos + len > this.end) {
      this.fail(`length-delimited field of ${len} bytes runs past the end (${this.end - this.pos} left)`, at);
    }
    const out = this.buf.subarray(this.pos, this.pos + len);
    this.pos += len;
    return out;
  }

  string(): string {
    return utf8.decode(this.bytes());
  }

  /** A reader over an embedded message. */
  sub(what: string): ProtoReader {
    const at = this.pos;
    const len = this.varint();
    if (this.pos + len > this.end) {
      this.fail(`embedded ${what} of ${len} bytes runs past the end (${this.end - this.pos} left)`, at);
    }
    const r = new ProtoReader(this.buf, this.pos, this.pos + len, what);
    this.pos += len;
    return r;
  }

  /** Skips a field's payload given its wire type. */
  skip(wire: number, field = 0): void {
    switch (wire) {
      case WireType.Varint:
        this.varintBig();
        return;
      case WireType.Fixed64:
        this.need(8, 'fixed64');
        this.pos += 8;
        return;
      case WireType.LengthDelimited:
        this.bytes();
        return;
      case WireType.Fixed32:
        this.need(4, 'fixed32');
        this.pos += 4;
        return;
      case WireType.StartGroup: {
        // Legacy groups: skip nested fields until the matching end-group tag.
        for (;;) {
          if (this.eof()) this.fail(`unterminated group for field ${field}`);
          const t = this.tag();
          if (t.wire === WireType.EndGroup) {
            if (t.field !== field) this.fail(`mismatched end-group tag ${t.field} for group ${field}`);
            return;
          }
          this.skip(t.wire, t.field);
        }
      }
      default:
        this.fail(`unknown wire type ${wire} for field ${field}`);
    }
  }

  /** Repeated varint field read as int64 numbers, packed or not. */
  repeatedInt64(wire: number, out: number[]): void {
    if (wire === WireType.LengthDelimited) {
      const r = this.sub('packed int64');
      while (!r.eof()) out.push(r.int64());
    } else if (wire === WireType.Varint) {
      out.push(this.int64());
    } else {
      this.fail(`wire type ${wire} for a repeated integer field`);
    }
  }

  /** Repeated float field (fixed32), packed or not. */
  repeatedFloat(wire: number, out: number[]): void {
    if (wire === WireType.LengthDelimited) {
      const b = this.bytes();
      if (b.length % 4 !== 0) this.fail(`packed float field of ${b.length} bytes is not a multiple of 4`);
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      for (let i = 0; i < b.length; i += 4) out.push(dv.getFloat32(i, true));
    } else if (wire === WireType.Fixed32) {
      out.push(this.float());
    } else {
      this.fail(`wire type ${wire} for a repeated float field`);
    }
  }

  /** Repeated double field (fixed64), packed or not. */
  repeatedDouble(wire: number, out: number[]): void {
    if (wire === WireType.LengthDelimited) {
      const b = this.bytes();
      if (b.length % 8 !== 0) this.fail(`packed double field of ${b.length} bytes is not a multiple of 8`);
      const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
      for (let i = 0; i < b.length; i += 8) out.push(dv.getFloat64(i, true));
    } else if (wire === WireType.Fixed64) {
      out.push(this.double());
    } else {
      this.fail(`wire type ${wire} for a repeated double field`);
    }
  }

  expectWire(actual: number, expected: number, field: string): void {
    if (actual !== expected) this.fail(`field ${field} has wire type ${actual}, expected ${expected}`);
  }
}

// ---------------------------------------------------------------------------------------------
// ONNX messages
// ---------------------------------------------------------------------------------------------


/** AttributeProto.AttributeType codes. */
export const AttrType = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
  SPARSE_TENSOR: 11,
  SPARSE_TENSORS: 12,
  TYPE_PROTO: 13,
  TYPE_PROTOS: 14,
} as const;

/** Where an initializer's bytes live when data_location is EXTERNAL. */
export interface ExternalDataRef {
  /** File path relative to the model file. */
  location: string;
  offset: number;
  /** Byte length, when the file gives it. */
  length: number | null;
  /** All key/value entries as written (location, offset, length, checksum, ...). */
  entries: Record<string, string>;
}

export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: number;
  /** raw_data, a view into the decoded buffer. */
  rawData: Uint8Array | null;
  floatData: number[] | null;
  /** int32_data; for FLOAT16/BFLOAT16 each entry holds the 16-bit pattern. */
  int32Data: number[] | null;
  int64Data: bigint[] | null;
  doubleData: number[] | null;
  uint64Data: bigint[] | null;
  stringData: Uint8Array[] | null;
  /** Set when data_location = EXTERNAL. */
  externalData: ExternalDataRef | null;
  docString: string;
}

export interface OnnxAttribute {
  name: string;
  type: number;
  f?: number;
  i?: number;
  /** The raw bytes of a STRING attribute; `s` is the same decoded as UTF-8. */
  bytes?: Uint8Array;
  s?: string;
  t?: OnnxTensor;
  g?: OnnxGraph;
  floats: number[];
  ints: number[];
  strings: string[];
  tensors: OnnxTensor[];
  graphs: OnnxGraph[];
  /** Set for attributes of function bodies that refer to a parent attribute. */
  refAttrName?: string;
}

export interface OnnxNode {
  name: string;
  opType: string;
  /** '' for the default ai.onnx domain. */
  domain: string;
  inputs: string[];
  outputs: string[];
  attributes: Map<string, OnnxAttribute>;
  /** NodeProto.metadata_props (IR 10+), e.g. torch's `pkg.torch.onnx.name_scopes`. */
  metadata: Record<string, string>;
}

export interface OnnxValueInfo {
  name: string;
  /** Element type of a tensor type, or null when the type is not a tensor / not given. */
  elemType: number | null;
  /** Dimensions: a size, a symbolic name, or null when unknown; null when no shape. */
  shape: (number | string | null)[] | null;
}

export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxTensor[];
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  valueInfo: OnnxValueInfo[];
  /** Number of sparse initializers (their contents are not decoded). */
  sparseInitializerCount: number;
}

export interface OnnxOpsetImport {
  domain: string;
  version: number;
}

export interface OnnxModel {
  irVersion: number;
  producerName: string;
  producerVersion: string;
  domain: string;
  modelVersion: number;
  docString: string;
  opsetImports: OnnxOpsetImport[];
  metadata: Record<string, string>;
  graph: OnnxGraph;
}

function decodeStringEntry(r: ProtoReader): [string, string] {
  let key = '';
  let value = '';
  while (!r.eof()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === WireType.LengthDelimited) key = r.string();
    else if (field === 2 && wire === WireType.LengthDelimited) value = r.string();
    else r.skip(wire, field);
  }
  return [key, value];
}

function parseExternal(entries: Record<string, string>, what: string): ExternalDataRef {
  const location = entries.location;
  if (!location) throw new OnnxDecodeError(`${what}: external data without a "location" entry`);
  const num = (key: string): number | null => {
    const v = entries[key];
    if (v === undefined || v === '') return null;
    if (!/^\d+$/.test(v.trim())) throw new OnnxDecodeError(`${what}: external data "${key}" is not a number: "${v}"`);
    const n = Number(v.trim());
    if (!Number.isSafeInteger(n)) throw new OnnxDecodeError(`${what}: external data "${key}" is too large: ${v}`);
    return n;
  };
  return { location, offset: num('offset') ?? 0, length: num('length'), entries };
}

export function decodeTensor(r: ProtoReader): OnnxTensor {
  const t: OnnxTensor = {
    name: '',
    dims: [],
    dataType: 0,
    rawData: null,
    floatData: null,
    int32Data: null,
    int64Data: null,
    doubleData: null,
    uint64Data: null,
    stringData: null,
    externalData: null,
    docString: '',
  };
  const external: Record<string, string> = {};
  let hasExternalEntries = false;
  let dataLocation = 0;
  let segment = false;
  while (!r.eof()) {
    const { field, wire } = r.tag();
    switch (field) {
      case 1:
        r.repeatedInt64(wire, t.dims);
        break;
      case 2:
        r.expectWire(wire, WireType.Varint, 'data_type');
        t.dataType = r.int32();
        break;
      case 3:
        segment = true;
        r.skip(wire, field);
        break;
      case 4:
        r.repeatedFloat(wire, (t.floatData ??= []));
        break;
      case 5: {
        const vals = (t.int32Data ??= []);
        if (wire === WireType.LengthDelimited) {
          const s = r.sub('packed int32_data');
          while (!s.eof()) vals.push(s.int32());
        } else {
          r.expectWire(wire, WireType.Varint, 'int32_data');
          vals.push(r.int32());
        }
        break;
      }
      case 6:
        r.expectWire(wire, WireType.LengthDelimited, 'string_data');
        (t.stringData ??= []).push(r.bytes());
        break;
      case 7: {
        const vals = (t.int64Data ??= []);
        if (wire === WireType.LengthDelimited) {
          const s = r.sub('packed int64_data');
          while (!s.eof()) vals.push(s.int64Big());
        } else {
          r.expectWire(wire, WireType.Varint, 'int64_data');
          vals.push(r.int64Big());
        }
        break;
      }
      case 8:
        r.expectWire(wire, WireType.LengthDelimited, 'name');
        t.name = r.string();
        break;
      case 9:
        r.expectWire(wire, WireType.LengthDelimited, 'raw_data');
        t.rawData = r.bytes();
        break;
      case 10:
        r.repeatedDouble(wire, (t.doubleData ??= []));
        break;
      case 11: {
        const vals = (t.uint64Data ??= []);
        if (wire === WireType.LengthDelimited) {
          const s = r.sub('packed uint64_data');
          while (!s.eof()) vals.push(s.varintBig());
        } else {
          r.expectWire(wire, WireType.Varint, 'uint64_data');
          vals.push(r.varintBig());
        }
        break;
      }
      case 12:
        r.expectWire(wire, WireType.LengthDelimited, 'doc_string');
        t.docString = r.string();
        break;
      case 13: {
        r.expectWire(wire, WireType.LengthDelimited, 'external_data');
        const [k, v] = decodeStringEntry(r.sub('StringStringEntryProto'));
        external[k] = v;
        hasExternalEntries = true;
        break;
      }
      case 14:
        r.expectWire(wire, WireType.Varint, 'data_location');
        dataLocation = r.int32();
        break;
      default:
        r.skip(wire, field);
    }
  }
  const label = `tensor "${t.name}"`;
  for (const d of t.dims) {
    if (!Number.isSafeInteger(d) || d < 0) throw new OnnxDecodeError(`${label}: invalid dimension ${d}`);
  }
  if (segment) throw new OnnxDecodeError(`${label}: segmented tensors are not supported`);
  if (dataLocation === 1) {
    if (!hasExternalEntries) throw new OnnxDecodeError(`${label}: data_location is EXTERNAL but no external_data entries`);
    t.externalData = parseExternal(external, label);
  } else if (dataLocation !== 0) {
    throw new OnnxDecodeError(`${label}: unknown data_location ${dataLocation}`);
  }
  return t;
}

function decodeAttribute(r: ProtoReader, depth: number): OnnxAttribute {
  const a: OnnxAttribute = { name: '', type: 0, floats: [], ints: [], strings: [], tensors: [], graphs: [] };
  while (!r.eof()) {
    const { field, wire } = r.tag();
    switch (field) {
      case 1:
        r.expectWire(wire, WireType.LengthDelimited, 'name');
        a.name = r.string();
        break;
      case 2:
        r.expectWire(wire, WireType.Fixed32, 'f');
        a.f = r.float();
        break;
      case 3:
        r.expectWire(wire, WireType.Varint, 'i');
        a.i = r.int64();
        break;
      case 4:
        r.expectWire(wire, WireType.LengthDelimited, 's');
        a.bytes = r.bytes();
        a.s = utf8.decode(a.bytes);
        break;
      case 5:
        r.expectWire(wire, WireType.LengthDelimited, 't');
        a.t = decodeTensor(r.sub('TensorProto'));
        break;
      case 6:
        r.expectWire(wire, WireType.LengthDelimited, 'g');
        a.g = decodeGraph(r.sub('GraphProto'), depth + 1);
        break;
      case 7:
        r.repeatedFloat(wire, a.floats);
        break;
      case 8:
        r.repeatedInt64(wire, a.ints);
        break;
      case 9:
        r.expectWire(wire, WireType.LengthDelimited, 'strings');
        a.strings.push(r.string());
        break;
      case 10:
        r.expectWire(wire, WireType.LengthDelimited, 'tensors');
        a.tensors.push(decodeTensor(r.sub('TensorProto')));
        break;
      case 11:
        r.expectWire(wire, WireType.LengthDelimited, 'graphs');
        a.graphs.push(decodeGraph(r.sub('GraphProto'), depth + 1));
        break;
      case 20:
        r.expectWire(wire, WireType.Varint, 'type');
        a.type = r.int32();
        break;
      case 21:
        r.expectWire(wire, WireType.LengthDelimited, 'ref_attr_name');
        a.refAttrName = r.string();
        break;
      default:
        r.skip(wire, field);
    }
  }
  // Old writers may leave `type` unset; infer it from the field that is present.
  if (a.type === 0) {
    if (a.f !== undefined) a.type = AttrType.FLOAT;
    else if (a.i !== undefined) a.type = AttrType.INT;
    else if (a.bytes !== undefined) a.type = AttrType.STRING;
    else if (a.t) a.type = AttrType.TENSOR;
    else if (a.g) a.type = AttrType.GRAPH;
    else if (a.floats.length) a.type = AttrType.FLOATS;
    else if (a.ints.length) a.type = AttrType.INTS;
    else if (a.strings.length) a.type = AttrType.STRINGS;
    else if (a.tensors.length) a.type = AttrType.TENSORS;
    else if (a.graphs.length) a.type = AttrType.GRAPHS;
  }
  return a;
}

function decodeNode(r: ProtoReader, depth: number): OnnxNode {
  const n: OnnxNode = { name: '', opType: '', domain: '', inputs: [], outputs: [], attributes: new Map(), metadata: {} };
  while (!r.eof()) {
    const { field, wire } = r.tag();
    switch (field) {
      case 1:
        r.expectWire(wire, WireType.LengthDelimited, 'input');
        n.inputs.push(r.string());
        break;
      case 2:
        r.expectWire(wire, WireType.LengthDelimited, 'output');
        n.outputs.push(r.string());
        break;
      case 3:
        r.expectWire(wire, WireType.LengthDelimited, 'name');
        n.name = r.string();
        break;
      case 4:
        r.expectWire(wire, WireType.LengthDelimited, 'op_type');
        n.opType = r.string();
        break;
      case 5: {
        r.expectWire(wire, WireType.LengthDelimited, 'attribute');
        const a = decodeAttribute(r.sub('AttributeProto'), depth);
        n.attributes.set(a.name, a);
        break;
      }
      case 7:
        r.expectWire(wire, WireType.LengthDelimited, 'domain');
        n.domain = r.string();
        break;
      case 9: {
        r.expectWire(wire, WireType.LengthDelimited, 'metadata_props');
        const [k, v] = decodeStringEntry(r.sub('StringStringEntryProto'));
        n.metadata[k] = v;
        break;
      }
      default:
        r.skip(wire, field);
    }
  }
  if (n.domain === 'ai.onnx') n.domain = '';
  return n;
}

function decodeDim(r: ProtoReader): number | string | null {
  let dim: number | string | null = null;
  while (!r.eof()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === WireType.Varint) dim = r.int64();
    else if (field === 2 && wire === WireType.LengthDelimited) dim = r.string();
    else r.skip(wire, field);
  }
  return dim;
}

function decodeValueInfo(r: ProtoReader): OnnxValueInfo {
  const v: OnnxValueInfo = { name: '', elemType: null, shape: null };
  while (!r.eof()) {
    const { field, wire } = r.tag();
    if (field === 1 && wire === WireType.LengthDelimited) {
      v.name = r.string();
    } else if (field === 2 && wire === WireType.LengthDelimited) {
      // TypeProto: tensor_type = 1 { elem_type = 1, shape = 2 { dim = 1 } }
      const type = r.sub('TypeProto');
      while (!type.eof()) {
        const t = type.tag();
        if (t.field === 1 && t.wire === WireType.LengthDelimited) {
          const tensor = type.sub('TypeProto.Tensor');
          while (!tensor.eof()) {
            const f = tensor.tag();
            if (f.field === 1 && f.wire === WireType.Varint) v.elemType = tensor.int32();
            else if (f.field === 2 && f.wire === WireType.LengthDelimited) {
              const shape = tensor.sub('TensorShapeProto');
              v.shape = [];
              while (!shape.eof()) {
                const s = shape.tag();
                if (s.field === 1 && s.wire === WireType.LengthDelimited) v.shape.push(decodeDim(shape.sub('Dimension')));
                else shape.skip(s.wire, s.field);
              }
            } else tensor.skip(f.wire, f.field);
          }
        } else type.skip(t.wire, t.field);
      }
    } else r.skip(wire, field);
  }
  return v;
}

const MAX_GRAPH_DEPTH = 64;

export function decodeGraph(r: ProtoReader, depth = 0): OnnxGraph {
  if (depth > MAX_GRAPH_DEPTH) r.fail(`subgraphs nested deeper than ${MAX_GRAPH_DEPTH}`);
  const g: OnnxGraph = { name: '', nodes: [], initializers: [], inputs: [], outputs: [], valueInfo: [], sparseInitializerCount: 0 };
  while (!r.eof()) {
    const { field, wire } = r.tag();
    switch (field) {
      case 1:
        r.expectWire(wire, WireType.LengthDelimited, 'node');
        g.nodes.push(decodeNode(r.sub('NodeProto'), depth));
        break;
      case 2:
        r.expectWire(wire, WireType.LengthDelimited, 'name');
        g.name = r.string();
        break;
      case 5:
        r.expectWire(wire, WireType.LengthDelimited, 'initializer');
        g.initializers.push(decodeTensor(r.sub('TensorProto')));
        break;
      case 11:
        r.expectWire(wire, WireType.LengthDelimited, 'input');
        g.inputs.push(decodeValueInfo(r.sub('ValueInfoProto')));
        break;
      case 12:
        r.expectWire(wire, WireType.LengthDelimited, 'output');
        g.outputs.push(decodeValueInfo(r.sub('ValueInfoProto')));
        break;
      case 13:
        r.expectWire(wire, WireType.LengthDelimited, 'value_info');
        g.valueInfo.push(decodeValueInfo(r.sub('ValueInfoProto')));
        break;
      case 15:
        g.sparseInitializerCount++;
        r.skip(wire, field);
        break;
      default:
        r.skip(wire, field);
    }
  }
  return g;
}

function mergeGraphs(a: OnnxGraph, b: OnnxGraph): OnnxGraph {
  return {
    name: b.name || a.name,
    nodes: [...a.nodes, ...b.nodes],
    initializers: [...a.initializers, ...b.initializers],
    inputs: [...a.inputs, ...b.inputs],
    outputs: [...a.outputs, ...b.outputs],
    valueInfo: [...a.valueInfo, ...b.valueInfo],
    sparseInitializerCount: a.sparseInitializerCount + b.sparseInitializerCount,
  };
}

/** Decodes ONNX ModelProto bytes. Throws OnnxDecodeError on malformed input. */
export function decodeModel(bytes: Uint8Array): OnnxModel {
  if (!(bytes instanceof Uint8Array)) throw new OnnxDecodeError('ModelProto: expected a Uint8Array');
  if (bytes.length === 0) throw new OnnxDecodeError('ModelProto: the file is empty');
  const r = new ProtoReader(bytes, 0, bytes.length, 'ModelProto');
  const m: OnnxModel = {
    irVersion: 0,
    producerName: '',
    producerVersion: '',
    domain: '',
    modelVersion: 0,
    docString: '',
    opsetImports: [],
    metadata: {},
    graph: { name: '', nodes: [], initializers: [], inputs: [], outputs: [], valueInfo: [], sparseInitializerCount: 0 },
  };
  let sawGraph = false;
  while (!r.eof()) {
    const { field, wire } = r.tag();
    switch (field) {
      case 1:
        r.expectWire(wire, WireType.Varint, 'ir_version');
        m.irVersion = r.int64();
        break;
      case 2:
        r.expectWire(wire, WireType.LengthDelimited, 'producer_name');
        m.producerName = r.string();
        break;
      case 3:
        r.expectWire(wire, WireType.LengthDelimited, 'producer_version');
        m.producerVersion = r.string();
        break;
      case 4:
        r.expectWire(wire, WireType.LengthDelimited, 'domain');
        m.domain = r.string();
        break;
      case 5:
        r.expectWire(wire, WireType.Varint, 'model_version');
        m.modelVersion = r.int64();
        break;
      case 6:
        r.expectWire(wire, WireType.LengthDelimited, 'doc_string');
        m.docString = r.string();
        break;
      case 7:
        r.expectWire(wire, WireType.LengthDelimited, 'graph');
        // A repeated embedded message merges into the earlier one (protobuf semantics).
        m.graph = sawGraph ? mergeGraphs(m.graph, decodeGraph(r.sub('GraphProto'))) : decodeGraph(r.sub('GraphProto'));
        sawGraph = true;
        break;
      case 8: {
        r.expectWire(wire, WireType.LengthDelimited, 'opset_import');
        const s = r.sub('OperatorSetIdProto');
        const op: OnnxOpsetImport = { domain: '', version: 0 };
        while (!s.eof()) {
          const t = s.tag();
          if (t.field === 1 && t.wire === WireType.LengthDelimited) op.domain = s.string();
          else if (t.field === 2 && t.wire === WireType.Varint) op.version = s.int64();
          else s.skip(t.wire, t.field);
        }
        m.opsetImports.push(op);
        break;
      }
      case 14: {
        r.expectWire(wire, WireType.LengthDelimited, 'metadata_props');
        const [k, v] = decodeStringEntry(r.sub('StringStringEntryProto'));
        m.metadata[k] = v;
        break;
      }
      default:
        r.skip(wire, field);
    }
  }
  if (!sawGraph) throw new OnnxDecodeError('ModelProto: no graph (is this an ONNX model file?)');
  if (m.irVersion <= 0) throw new OnnxDecodeError('ModelProto: missing ir_version (is this an ONNX model file?)');
  return m;
}

// ---------------------------------------------------------------------------------------------
// Tensor values
// ---------------------------------------------------------------------------------------------

export function elementCount(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  if (!Number.isSafeInteger(n)) throw new OnnxDecodeError(`tensor of shape [${dims.join(', ')}] is too large`);
  return n;
}

/** Bytes per element in raw_data; 0.5 for the 4-bit types; null for strings/unsupported. */
export function bytesPerElement(dataType: number): number | null {
  switch (dataType) {
    case OnnxDataType.FLOAT:
    case OnnxDataType.INT32:
    case OnnxDataType.UINT32:
      return 4;
    case OnnxDataType.UINT8:
    case OnnxDataType.INT8:
    case OnnxDataType.BOOL:
    case OnnxDataType.FLOAT8E4M3FN:
    case OnnxDataType.FLOAT8E4M3FNUZ:
    case OnnxDataType.FLOAT8E5M2:
    case OnnxDataType.FLOAT8E5M2FNUZ:
      return 1;
    case OnnxDataType.UINT16:
    case OnnxDataType.INT16:
    case OnnxDataType.FLOAT16:
    case OnnxDataType.BFLOAT16:
      return 2;
    case OnnxDataType.INT64:
    case OnnxDataType.UINT64:
    case OnnxDataType.DOUBLE:
      return 8;
    case OnnxDataType.UINT4:
    case OnnxDataType.INT4:
    case OnnxDataType.FLOAT4E2M1:
      return 0.5;
    default:
      return null;
  }
}

/** Size in bytes of a tensor's raw data (4-bit types round up to whole bytes). */
export function rawByteLength(dataType: number, dims: readonly number[]): number | null {
  const per = bytesPerElement(dataType);
  if (per === null) return null;
  return Math.ceil(elementCount(dims) * per);
}

let f16Table: Float32Array | null = null;

/** fp32 value of every fp16 bit pattern (built once, 256 KiB). */
export function fp16Table(): Float32Array {
  if (f16Table) return f16Table;
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    let v: number;
    if (exp === 0) v = mant * 2 ** -24;
    else if (exp === 31) v = mant === 0 ? Infinity : NaN;
    else v = (1 + mant / 1024) * 2 ** (exp - 15);
    t[h] = sign * v;
  }
  f16Table = t;
  return t;
}

/** Values of a tensor as decoded by `tensorValues`. */
export type TensorValues = Float32Array | Int32Array | Int8Array | Uint8Array | BigInt64Array | Float64Array;

function readU16(b: Uint8Array, n: number): Uint16Array {
  if (b.byteOffset % 2 === 0) return new Uint16Array(b.buffer, b.byteOffset, n);
  return new Uint16Array(b.slice(0, n * 2).buffer);
}

/**
 * A tensor's values, decoded from raw_data (or `raw`, the external bytes, when given) or from
 * the typed fields:
 * - FLOAT, FLOAT16, BFLOAT16, DOUBLE -> Float32Array (fp16/bf16 widened exactly)
 * - INT8 -> Int8Array; INT4 -> Int8Array, one value per element (unpacked, sign-extended)
 * - UINT8, BOOL -> Uint8Array; UINT4 -> Uint8Array, one value per element (unpacked)
 * - INT16, UINT16, INT32 -> Int32Array
 * - INT64 -> BigInt64Array; UINT32 -> Float64Array
 * Other types throw.
 */
export function tensorValues(t: OnnxTensor, raw?: Uint8Array): TensorValues {
  const n = elementCount(t.dims);
  const label = `tensor "${t.name}" (${dataTypeName(t.dataType)}, [${t.dims.join(', ')}])`;
  const data = raw ?? t.rawData;
  if (t.externalData && !raw) throw new OnnxDecodeError(`${label}: data is in external file "${t.externalData.location}"`);
  if (data) {
    const need = rawByteLength(t.dataType, t.dims);
    if (need === null) throw new OnnxDecodeError(`${label}: unsupported data type for raw data`);
    if (data.length !== need) throw new OnnxDecodeError(`${label}: raw data has ${data.length} bytes, expected ${need}`);
    const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
    switch (t.dataType) {
      case OnnxDataType.FLOAT: {
        if (data.byteOffset % 4 === 0) return new Float32Array(data.buffer, data.byteOffset, n).slice();
        const out = new Float32Array(n);
        for (let i = 0; i < n; i++) out[i] = dv.getFloat32(i * 4, true);
        return out;
      }
      case OnnxDataType.FLOAT16: {
        const table = fp16Table();
        const u = readU16(data, n);
        const out = new Float32Array(n);
        for (let i = 0; i < n; i++) out[i] = table[u[i]];
        return out;
      }
      case OnnxDataType.BFLOAT16: {
        const u = readU16(data, n);
        const out = new Float32Array(n);
        const bits = new Uint32Array(out.buffer);
        for (let i = 0; i < n; i++) bits[i] = u[i] << 16;
        return out;
      }
      case OnnxDataType.DOUBLE: {
        const out = new Float32Array(n);
        for (let i = 0; i < n; i++) out[i] = dv.getFloat64(i * 8, true);
        return out;
      }
      case OnnxDataType.INT8:
        return new Int8Array(data.buffer, data.byteOffset, n).slice();
      case OnnxDataType.UINT8:
      case OnnxDataType.BOOL:
        return data.slice(0, n);
      case OnnxDataType.INT16: {
        const out = new Int32Array(n);
        for (let i = 0; i < n; i++) out[i] = dv.getInt16(i * 2, true);
        return out;
      }
      case OnnxDataType.UINT16: {
        const out = new Int32Array(n);
        for (let i = 0; i < n; i++) out[i] = dv.getUint16(i * 2, true);
        return out;
      }
      case OnnxDataType.INT32: {
        const out = new Int32Array(n);
        for (let i = 0; i < n; i++) out[i] = dv.getInt32(i * 4, true);
        return out;
      }
      case OnnxDataType.UINT32: {
        const out = new Float64Array(n);
        for (let i = 0; i < n; i++) out[i] = dv.getUint32(i * 4, true);
        return out;
      }
      case OnnxDataType.INT64: {
        const out = new BigInt64Array(n);
        for (let i = 0; i < n; i++) out[i] = dv.getBigInt64(i * 8, true);
        return out;
      }
      case OnnxDataType.UINT4:
        return unpackNibbles(data, n, false) as Uint8Array;
      case OnnxDataType.INT4:
        return unpackNibbles(data, n, true) as Int8Array;
      default:
        throw new OnnxDecodeError(`${label}: unsupported data type`);
    }
  }
  const count = (len: number, field: string): void => {
    if (len !== n) throw new OnnxDecodeError(`${label}: ${field} has ${len} values, expected ${n}`);
  };
  switch (t.dataType) {
    case OnnxDataType.FLOAT: {
      const v = t.floatData ?? [];
      count(v.length, 'float_data');
      return Float32Array.from(v);
    }
    case OnnxDataType.DOUBLE: {
      const v = t.doubleData ?? [];
      count(v.length, 'double_data');
      return Float32Array.from(v);
    }
    case OnnxDataType.FLOAT16: {
      const v = t.int32Data ?? [];
      count(v.length, 'int32_data');
      const table = fp16Table();
      return Float32Array.from(v, (x) => table[x & 0xffff]);
    }
    case OnnxDataType.BFLOAT16: {
      const v = t.int32Data ?? [];
      count(v.length, 'int32_data');
      const out = new Float32Array(n);
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) bits[i] = (v[i] & 0xffff) << 16;
      return out;
    }
    case OnnxDataType.INT8: {
      const v = t.int32Data ?? [];
      count(v.length, 'int32_data');
      return Int8Array.from(v);
    }
    case OnnxDataType.UINT8:
    case OnnxDataType.BOOL: {
      const v = t.int32Data ?? [];
      count(v.length, 'int32_data');
      return Uint8Array.from(v);
    }
    case OnnxDataType.INT16:
    case OnnxDataType.UINT16:
    case OnnxDataType.INT32: {
      const v = t.int32Data ?? [];
      count(v.length, 'int32_data');
      return Int32Array.from(v);
    }
    case OnnxDataType.INT64: {
      const v = t.int64Data ?? [];
      count(v.length, 'int64_data');
      return BigInt64Array.from(v);
    }
    case OnnxDataType.UINT32: {
      const v = t.uint64Data ?? [];
      count(v.length, 'uint64_data');
      return Float64Array.from(v, (x) => Number(x));
    }
    case OnnxDataType.UINT4:
    case OnnxDataType.INT4: {
      // int32_data holds one packed byte (two 4-bit values) per entry.
      const v = t.int32Data ?? [];
      const bytes = Math.ceil(n / 2);
      if (v.length !== bytes) throw new OnnxDecodeError(`${label}: int32_data has ${v.length} entries, expected ${bytes} packed bytes`);
      return unpackNibbles(Uint8Array.from(v), n, t.dataType === OnnxDataType.INT4);
    }
    default:
      throw new OnnxDecodeError(`${label}: unsupported data type`);
  }
}

/** Unpacks 4-bit values stored two per byte, first value in the low nibble. */
export function unpackNibbles(packed: Uint8Array, n: number, signed: boolean): Uint8Array | Int8Array {
  if (packed.length * 2 < n) throw new OnnxDecodeError(`4-bit data: ${packed.length} bytes cannot hold ${n} values`);
  const out = signed ? new Int8Array(n) : new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const b = packed[i >> 1];
    const v = i & 1 ? b >> 4 : b & 0x0f;
    out[i] = signed && v >= 8 ? v - 16 : v;
  }
  return out;
}

/** Value of an attribute (for convenience in importers); undefined when absent. */
export function attrInt(n: OnnxNode, name: string): number | undefined {
  const a = n.attributes.get(name);
  return a?.i;
}

export function attrFloat(n: OnnxNode, name: string): number | undefined {
  return n.attributes.get(name)?.f;
}

export function attrInts(n: OnnxNode, name: string): number[] | undefined {
  const a = n.attributes.get(name);
  return a ? a.ints : undefined;
}
