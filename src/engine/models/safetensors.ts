/**
 * Reading and writing the safetensors format:
 *   [u64 little-endian N][N bytes of JSON header, may be space-padded][raw tensor bytes]
 * The header maps tensor names to {dtype, shape, data_offsets: [begin, end]} (offsets relative
 * to the start of the data section) plus an optional `__metadata__` map of strings.
 * Everything read is validated; problems raise ModelFormatError naming the file.
 */

import { f32ArrayToBf16, f32ArrayToF16 } from '../onnx/half';
import { type FileSource, type HostTensor, ModelFormatError, type WeightMap } from './types';
import { LITTLE_ENDIAN_HOST, storedBytesOf, widenableBytes, widenInPlace, widenInto } from './widen';
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

const isCount = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0;

function parseEntry(file: string, name: string, raw: unknown, dataSize: number): SafetensorsEntry {
  const where = `tensor "${name}"`;
  if (!isRecord(raw)) throw new ModelFormatError(file, `${where}: header entry is not an object`);
  const { dtype, shape, data_offsets: offsets } = raw;
  if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, dtype)) {
    throw new ModelFormatError(file, `${where}: unknown dtype ${JSON.stringify(dtype)}`);
  }
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    throw new ModelFormatError(file, `${where}: shape ${JSON.stringify(shape)} must be a list of non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
    throw new ModelFormatError(file, `${where}: data_offsets ${JSON.stringify(offsets)} must be two non-negative integers`);
  }
  // Integers too large to be exact still compare correctly with the data size, so an offset
  // past the end is reported as such rather than as "not an integer".
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
 * The format requires the tensors to tile the data section: no overlaps, no gaps, and nothing
 * after the last tensor (the reference implementation refuses such files too). Empty tensors
 * hold no bytes and are left out of the tiling.
 */
function checkCoverage(file: string, tensors: Iterable<SafetensorsEntry>, dataSize: number): void {
  const spans = [...tensors].filter((t) => t.end > t.begin).sort((a, b) => a.begin - b.begin);
  const rule = 'safetensors requires the tensors to cover the data section exactly';
  let covered = 0;
  let prev: SafetensorsEntry | null = null;
  for (const t of spans) {
    if (prev && t.begin < prev.end) {
      throw new ModelFormatError(file, `tensors "${prev.name}" [${prev.begin}, ${prev.end}) and "${t.name}" [${t.begin}, ${t.end}) overlap`);
    }
    if (t.begin > covered) {
      throw new ModelFormatError(file, `data bytes [${covered}, ${t.begin}) before tensor "${t.name}" belong to no tensor; ${rule}`);
    }
    covered = t.end;
    prev = t;
  }
  if (covered < dataSize) {
    throw new ModelFormatError(
      file,
      `${dataSize - covered} bytes follow the last tensor (the tensors end at byte ${covered} of a ${dataSize}-byte data section); ${rule}`,
    );
  }
}

/** Parse the JSON part of a header; `dataStart` is 8 + its length. */
function parseHeaderJson(jsonBytes: Uint8Array, file: string, dataStart: number, fileSize: number): SafetensorsHeader {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(jsonBytes));
  } catch (e) {
    throw new ModelFormatError(file, `safetensors header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (!isRecord(json)) throw new ModelFormatError(file, 'safetensors header must be a JSON object');
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
  checkCoverage(file, tensors.values(), dataSize);
  return { dataStart, tensors, metadata };
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
  return parseHeaderJson(prefix.subarray(8, 8 + n), file, 8 + n, fileSize);
}

type RangeSource = FileSource & Required<Pick<FileSource, 'range' | 'size'>>;

const canRange = (src: FileSource): src is RangeSource =>
  typeof src.range === 'function' && typeof src.size === 'function';

/** Read only the header of a file, with range reads when the source supports them. */
export async function readSafetensorsHeader(src: FileSource, file: string): Promise<SafetensorsHeader> {
  if (!canRange(src)) return parseSafetensorsHeader(await src.bytes(file), file);
  const size = await src.size(file);
  const n = headerLength(await src.range(file, 0, Math.min(size, 8)), file, size);
  return parseHeaderJson(await src.range(file, 8, 8 + n), file, 8 + n, size);
}

/** Largest single range read while loading a tensor, so no raw copy of a big tensor is ever held whole. */
const RANGE_CHUNK_BYTES = 64 * 2 ** 20;

/** Tensors read ahead from disk while the current one is widened (sources with readInto). */
const READ_AHEAD = 2;

/** One tensor's stored bytes (exactly its data_offsets span) widened to an fp32 HostTensor. */
export function storedTensorToF32(raw: Uint8Array, entry: SafetensorsEntry, file: string): HostTensor {
  const elemBytes = widenableBytes(entry, file);
  const count = numel(entry.shape);
  if (raw.length !== count * elemBytes) {
    throw new ModelFormatError(file, `tensor "${entry.name}": expected ${count * elemBytes} bytes of data, got ${raw.length}`);
  }
  const data = new Float32Array(count);
  widenInto(raw, entry, data, 0, file);
  return { dims: [...entry.shape], data };
}

/** A tensor read by ranges of at most RANGE_CHUNK_BYTES, each widened into place as it arrives. */
async function readRangedF32(src: RangeSource, file: string, header: SafetensorsHeader, entry: SafetensorsEntry): Promise<HostTensor> {
  const elemBytes = widenableBytes(entry, file);
  const count = numel(entry.shape);
  const data = new Float32Array(count);
  const perRead = Math.floor(RANGE_CHUNK_BYTES / elemBytes);
  for (let i = 0; i < count; i += perRead) {
    const n = Math.min(perRead, count - i);
    const start = header.dataStart + entry.begin + i * elemBytes;
    const raw = await src.range(file, start, start + n * elemBytes);
    if (raw.length !== n * elemBytes) {
      throw new ModelFormatError(file, `tensor "${entry.name}": the file ends inside its data (byte ${start + raw.length})`);
    }
    widenInto(raw, entry, data, i, file);
  }
  return { dims: [...entry.shape], data };
}

/** A safetensors file opened for reading one tensor at a time. */
export interface SafetensorsReader {
  readonly file: string;
  readonly header: SafetensorsHeader;
  /**
   * The given tensors in order, widened to fp32 (see storedTensorToF32), reading only their own
   * bytes when the source can. From a source that can read into a buffer, the next tensors are
   * read from disk while one is widened.
   */
  readEachF32(entries: readonly SafetensorsEntry[]): AsyncGenerator<[SafetensorsEntry, HostTensor]>;
}

type ReadIntoSource = FileSource & Required<Pick<FileSource, 'readInto' | 'range' | 'size'>>;

const canReadInto = (src: FileSource): src is ReadIntoSource =>
  LITTLE_ENDIAN_HOST && typeof src.readInto === 'function' && canRange(src);

/**
 * Read a tensor's stored bytes straight into the back of its fp32 array (no raw copy is ever
 * allocated), leaving the widening to finishInPlace. Returns the array and the bytes read.
 */
async function startInPlace(src: ReadIntoSource, file: string, header: SafetensorsHeader, entry: SafetensorsEntry) {
  const data = new Float32Array(numel(entry.shape));
  const stored = storedBytesOf(data, widenableBytes(entry, file));
  const got = await src.readInto(file, header.dataStart + entry.begin, stored);
  return { data, got, want: stored.length };
}

function finishInPlace(file: string, header: SafetensorsHeader, entry: SafetensorsEntry, r: Awaited<ReturnType<typeof startInPlace>>): HostTensor {
  if (r.got !== r.want) {
    throw new ModelFormatError(file, `tensor "${entry.name}": the file ends inside its data (byte ${header.dataStart + entry.begin + r.got})`);
  }
  widenInPlace(entry, r.data, file);
  return { dims: [...entry.shape], data: r.data };
}

async function* eachInPlace(src: ReadIntoSource, file: string, header: SafetensorsHeader, entries: readonly SafetensorsEntry[]) {
  const start = (e: SafetensorsEntry) => {
    const p = startInPlace(src, file, header, e);
    p.catch(() => {}); // awaited below; if the loop stops early, a failed read must not go unhandled
    return p;
  };
  const pending = entries.slice(0, READ_AHEAD).map(start);
  for (let k = 0; k < entries.length; k++) {
    const read = await pending.shift()!;
    if (k + READ_AHEAD < entries.length) pending.push(start(entries[k + READ_AHEAD]));
    yield [entries[k], finishInPlace(file, header, entries[k], read)] as [SafetensorsEntry, HostTensor];
  }
}

async function* eachInTurn(readF32: (e: SafetensorsEntry) => Promise<HostTensor>, entries: readonly SafetensorsEntry[]) {
  for (const e of entries) yield [e, await readF32(e)] as [SafetensorsEntry, HostTensor];
}

/**
 * Open `file` for tensor-by-tensor reading. With a source that can read byte ranges (Node files,
 * picked browser files, HTTP with Range) only the header and each requested tensor's bytes are
 * read, so a file of any size loads with peak memory near the fp32 weights themselves. A source
 * that can also read into a given buffer (Node files) gets each tensor's bytes put straight into
 * its fp32 array and widened there; the others are read in pieces of at most 64 MiB. Sources
 * without ranges are read whole, once.
 */
export async function openSafetensors(src: FileSource, file: string): Promise<SafetensorsReader> {
  if (canReadInto(src)) {
    const header = await readSafetensorsHeader(src, file);
    return { file, header, readEachF32: (entries) => eachInPlace(src, file, header, entries) };
  }
  if (canRange(src)) {
    const header = await readSafetensorsHeader(src, file);
    return { file, header, readEachF32: (entries) => eachInTurn((e) => readRangedF32(src, file, header, e), entries) };
  }
  const buf = await src.bytes(file);
  const header = parseSafetensorsHeader(buf, file);
  return { file, header, readEachF32: (entries) => eachInTurn(async (e) => tensorOfBuffer(buf, header, e, file), entries) };
}

function tensorOfBuffer(buf: Uint8Array, header: SafetensorsHeader, entry: SafetensorsEntry, file: string): HostTensor {
  return storedTensorToF32(buf.subarray(header.dataStart + entry.begin, header.dataStart + entry.end), entry, file);
}

/** Parse a whole safetensors file into fp32 tensors. */
export function readSafetensors(buf: Uint8Array, file: string): { tensors: WeightMap; metadata: Record<string, string> | null } {
  const header = parseSafetensorsHeader(buf, file);
  const tensors: WeightMap = new Map();
  for (const entry of header.tensors.values()) tensors.set(entry.name, tensorOfBuffer(buf, header, entry, file));
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
