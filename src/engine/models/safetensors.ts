/**
 * Reading and writing the safetensors format:
 *   [u64 little-endian N][N bytes of JSON header, may be space-padded][raw tensor bytes]
 * The header maps tensor names to {dtype, shape, data_offsets: [begin, end]} (offsets relative
 * to the start of the data section) plus an optional `__metadata__` map of strings.
 * Everything read is validated; problems raise ModelFormatError naming the file.
 */

import { bf16ArrayToF32, f16ArrayToF32, f32ArrayToBf16, f32ArrayToF16 } from '../onnx/half';
import { type FileSource, type HostTensor, ModelFormatError, type WeightMap } from './types';
import { isRecord } from '../../util/records';

/** Bytes per element of every dtype the format defines (only F32/F16/BF16 can be decoded). */
const DTYPE_BYTES: Record<string, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, F8_E8M0: 1,
  I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4,
  I64: 8, U64: 8, F64: 8,
};

export type WritableDtype = 'F32' | 'F16' | 'BF16';

/** Largest header we accept; the reference implementation uses the same 100 MB cap. */
export const MAX_HEADER_BYTES = 100_000_000;

export interface SafetensorsEntry {
  name: string;
  dtype: string;
  shape: number[];
  /** Byte range within the data section, [begin, end). */
  begin: number;
  end: number;
}

export interface SafetensorsHeader {
  /** Offset of the data section from the start of the file (8 + header length). */
  dataStart: number;
  tensors: Map<string, SafetensorsEntry>;
  metadata: Record<string, string> | null;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;


export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** The JSON header length N stored in the first 8 bytes. */
function headerLength(prefix: Uint8Array, file: string, fileSize: number): number {
  if (prefix.length < 8 || fileSize < 8) {
    throw new ModelFormatError(file, `not a safetensors file: ${fileSize} bytes is shorter than the 8-byte header length`);
  }
  const view = new DataView(prefix.buffer, prefix.byteOffset, 8);
  const lo = view.getUint32(0, true);
  const hi = view.getUint32(4, true);
  const n = hi * 4294967296 + lo;
  if (n > fileSize - 8) {
    throw new ModelFormatError(file, `safetensors header claims ${n} bytes but the file holds only ${fileSize - 8} after the length field`);
  }
  if (n > MAX_HEADER_BYTES) {
    throw new ModelFormatError(file, `safetensors header of ${n} bytes exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  }
  if (n < 2) throw new ModelFormatError(file, `safetensors header of ${n} bytes is too short to hold JSON`);
  return n;
}

function parseEntry(file: string, name: string, raw: unknown, dataSize: number): SafetensorsEntry {
  const where = `tensor "${name}"`;
  if (!isRecord(raw)) throw new ModelFormatError(file, `${where}: header entry is not an object`);
  const { dtype, shape, data_offsets: offsets } = raw;
  if (typeof dtype !== 'string' || !(dtype in DTYPE_BYTES)) {
    throw new ModelFormatError(file, `${where}: unknown dtype ${JSON.stringify(dtype)}`);
  }
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    throw new ModelFormatError(file, `${where}: shape ${JSON.stringify(shape)} must be a list of non-negative integers`);
  }
  if (
    !Array.isArray(offsets) || offsets.length !== 2 ||
    !offsets.every((o) => Number.isSafeInteger(o) && (o as number) >= 0)
  ) {
    throw new ModelFormatError(file, `${where}: data_offsets ${JSON.stringify(offsets)} must be two non-negative integers`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) throw new ModelFormatError(file, `${where}: data_offsets [${begin}, ${end}] end before they begin`);
  if (end > dataSize) {
    throw new ModelFormatError(file, `${where}: data_offsets [${begin}, ${end}] run past the ${dataSize}-byte data section`);
  }
  const dims = shape as number[];
  const bytes = numel(dims) * DTYPE_BYTES[dtype];
  if (!Number.isSafeInteger(bytes) || bytes !== end - begin) {
    throw new ModelFormatError(
      file,
      `${where}: ${dtype} [${dims.join(', ')}] needs ${bytes} bytes but data_offsets [${begin}, ${end}] span ${end - begin}`,
    );
  }
  return { name, dtype, shape: dims, begin, end };
}

/**
 * Parse and validate a header. `prefix` holds at least the first 8 + N bytes of the file;
 * `fileSize` is the whole file's size (defaults to prefix.length, i.e. the whole file).
 */
export function parseSafetensorsHeader(prefix: Uint8Array, file: string, fileSize = prefix.length): SafetensorsHeader {
  const n = headerLength(prefix, file, fileSize);
  if (prefix.length < 8 + n) {
    throw new ModelFormatError(file, `need ${8 + n} bytes to read the safetensors header, got ${prefix.length}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(prefix.subarray(8, 8 + n)));
  } catch (e) {
    throw new ModelFormatError(file, `safetensors header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (!isRecord(json)) throw new ModelFormatError(file, 'safetensors header must be a JSON object');
  const dataStart = 8 + n;
  const dataSize = fileSize - dataStart;
  let metadata: Record<string, string> | null = null;
  const tensors = new Map<string, SafetensorsEntry>();
  for (const [name, raw] of Object.entries(json)) {
    if (name === '__metadata__') {
      if (!isRecord(raw) || !Object.values(raw).every((v) => typeof v === 'string')) {
        throw new ModelFormatError(file, '__metadata__ must be an object mapping strings to strings');
      }
      metadata = raw as Record<string, string>;
      continue;
    }
    tensors.set(name, parseEntry(file, name, raw, dataSize));
  }
  // No two tensors may share bytes.
  const spans = [...tensors.values()].filter((t) => t.end > t.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i].begin < spans[i - 1].end) {
      throw new ModelFormatError(
        file,
        `tensors "${spans[i - 1].name}" [${spans[i - 1].begin}, ${spans[i - 1].end}) and "${spans[i].name}" [${spans[i].begin}, ${spans[i].end}) overlap`,
      );
    }
  }
  return { dataStart, tensors, metadata };
}

/** Read only the header of a file, with range reads when the source supports them. */
export async function readSafetensorsHeader(src: FileSource, file: string): Promise<SafetensorsHeader> {
  if (!src.range || !src.size) return parseSafetensorsHeader(await src.bytes(file), file);
  const size = await src.size(file);
  const first = await src.range(file, 0, Math.min(size, 8));
  const n = headerLength(first, file, size);
  const prefix = await src.range(file, 0, 8 + n);
  return parseSafetensorsHeader(prefix, file, size);
}

/** Copy `count` little-endian elements of `elemBytes` each out of a file buffer. */
function copyElements(buf: Uint8Array, offset: number, count: number, elemBytes: 2 | 4): ArrayBuffer {
  const out = new ArrayBuffer(count * elemBytes);
  const dst = new Uint8Array(out);
  dst.set(buf.subarray(offset, offset + count * elemBytes));
  if (!LITTLE_ENDIAN_HOST) {
    for (let i = 0; i < dst.length; i += elemBytes) dst.subarray(i, i + elemBytes).reverse();
  }
  return out;
}

/** Decode one tensor of a whole-file buffer to fp32. */
export function decodeTensor(buf: Uint8Array, header: SafetensorsHeader, entry: SafetensorsEntry, file: string): HostTensor {
  const count = numel(entry.shape);
  const offset = header.dataStart + entry.begin;
  if (header.dataStart + entry.end > buf.length) {
    throw new ModelFormatError(file, `tensor "${entry.name}": data runs past the end of the buffer`);
  }
  let data: Float32Array;
  switch (entry.dtype) {
    case 'F32':
      data = new Float32Array(copyElements(buf, offset, count, 4));
      break;
    case 'F16':
      data = f16ArrayToF32(new Uint16Array(copyElements(buf, offset, count, 2)));
      break;
    case 'BF16':
      data = bf16ArrayToF32(new Uint16Array(copyElements(buf, offset, count, 2)));
      break;
    default:
      throw new ModelFormatError(file, `tensor "${entry.name}": dtype ${entry.dtype} is not supported (only F32, F16 and BF16)`);
  }
  return { dims: [...entry.shape], data };
}

/** Parse a whole safetensors file into fp32 tensors. */
export function readSafetensors(buf: Uint8Array, file: string): { tensors: WeightMap; metadata: Record<string, string> | null } {
  const header = parseSafetensorsHeader(buf, file);
  const tensors: WeightMap = new Map();
  for (const entry of header.tensors.values()) tensors.set(entry.name, decodeTensor(buf, header, entry, file));
  return { tensors, metadata: header.metadata };
}

/** Serialize fp32 tensors as a safetensors file in the given storage dtype. */
export function writeSafetensors(
  tensors: Map<string, { dims: number[]; data: Float32Array }>,
  dtype: WritableDtype,
  metadata?: Record<string, string>,
): Uint8Array {
  const elemBytes = DTYPE_BYTES[dtype];
  const names = [...tensors.keys()].sort();
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = { ...metadata };
  let offset = 0;
  for (const name of names) {
    if (name === '__metadata__') throw new Error('a tensor may not be named __metadata__');
    const t = tensors.get(name)!;
    if (!t.dims.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new Error(`tensor "${name}": dims ${JSON.stringify(t.dims)} must be non-negative integers`);
    }
    if (numel(t.dims) !== t.data.length) {
      throw new Error(`tensor "${name}": dims [${t.dims.join(', ')}] hold ${numel(t.dims)} values but data has ${t.data.length}`);
    }
    const size = t.data.length * elemBytes;
    header[name] = { dtype, shape: t.dims, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, json.length % 4294967296, true);
  view.setUint32(4, Math.floor(json.length / 4294967296), true);
  out.set(json, 8);
  let pos = 8 + json.length;
  for (const name of names) {
    const data = tensors.get(name)!.data;
    const raw =
      dtype === 'F32' ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : dtype === 'F16' ? new Uint8Array(f32ArrayToF16(data).buffer)
      : new Uint8Array(f32ArrayToBf16(data).buffer);
    out.set(raw, pos);
    if (!LITTLE_ENDIAN_HOST) {
      for (let i = pos; i < pos + raw.length; i += elemBytes) out.subarray(i, i + elemBytes).reverse();
    }
    pos += raw.length;
  }
  return out;
}
