/**
 * Stored weight elements (F32, F16 or BF16, little-endian) widened to fp32 and checked for
 * NaN/infinity, block by block so each block is checked while it is still in cache.
 */
import { bf16ArrayToF32, f16ArrayToF32 } from '../onnx/half';
import { checkFinite } from './finite-weights';
import { ModelFormatError } from './types';

/** What the widening needs to know of a stored tensor. */
export interface StoredTensor {
  name: string;
  dtype: string;
}

export const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Elements per block: widened, then checked, in one sweep over the data. */
const WIDEN_BLOCK = 1 << 16;

/** Bytes per element of a dtype we can widen to fp32; any other dtype is refused. */
export function widenableBytes(t: StoredTensor, file: string): 2 | 4 {
  if (t.dtype === 'F32') return 4;
  if (t.dtype === 'F16' || t.dtype === 'BF16') return 2;
  throw new ModelFormatError(file, `tensor "${t.name}": dtype ${t.dtype} is not supported (only F32, F16 and BF16)`);
}

/** Copy whole little-endian elements of `elemBytes` each into a fresh, aligned, host-order buffer. */
function copyElements(buf: Uint8Array, elemBytes: number): Uint8Array {
  const dst = buf.slice();
  if (!LITTLE_ENDIAN_HOST) {
    for (let i = 0; i < dst.length; i += elemBytes) dst.subarray(i, i + elemBytes).reverse();
  }
  return dst;
}

/** Widen elements [start, start + n) of `src` (host order, t.dtype) into out[at + start, ...). */
function widenBlock(t: StoredTensor, src: Uint8Array, out: Float32Array<ArrayBuffer>, at: number, start: number, n: number): void {
  const dst = out.subarray(at + start, at + start + n);
  if (t.dtype === 'F32') {
    // In place the elements are already where they belong.
    if (src.buffer !== out.buffer || src.byteOffset !== out.byteOffset) dst.set(new Float32Array(src.buffer, src.byteOffset + start * 4, n));
  } else if (t.dtype === 'F16') f16ArrayToF32(new Uint16Array(src.buffer, src.byteOffset + start * 2, n), dst);
  else bf16ArrayToF32(new Uint16Array(src.buffer, src.byteOffset + start * 2, n), dst);
}

/**
 * Widen `raw` (whole elements of t.dtype, little-endian) into out[at, at + n), refusing NaN
 * and infinities: weights holding them would silently turn every output into NaN.
 */
export function widenInto(raw: Uint8Array, t: StoredTensor, out: Float32Array<ArrayBuffer>, at: number, file: string): void {
  const elemBytes = widenableBytes(t, file);
  const count = raw.length / elemBytes;
  const src = LITTLE_ENDIAN_HOST && raw.byteOffset % elemBytes === 0 ? raw : copyElements(raw, elemBytes);
  for (let start = 0; start < count; start += WIDEN_BLOCK) {
    const n = Math.min(WIDEN_BLOCK, count - start);
    widenBlock(t, src, out, at, start, n);
    checkFinite(out, file, t.name, at + start, at + start + n);
  }
}

/**
 * Where the stored elements of an fp32 array must be put for widenInPlace: its last
 * `out.length × elemBytes` bytes (for F32, all of them).
 */
export function storedBytesOf(out: Float32Array, elemBytes: 2 | 4): Uint8Array {
  const bytes = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  return bytes.subarray(bytes.length - out.length * elemBytes);
}

/**
 * Widen, inside `out` itself, the elements stored in storedBytesOf(out) (little-endian host
 * only). So a tensor can be read from disk straight into its final array, with no second buffer.
 * Safe because the loops run forwards: element i is read from bytes [2n + 2i, 2n + 2i + 2) before
 * bytes [4i, 4i + 4) are written, and those never reach an element not yet read (4i + 4 ≤
 * 2n + 2i + 2 for every i < n).
 */
export function widenInPlace(t: StoredTensor, out: Float32Array<ArrayBuffer>, file: string): void {
  if (!LITTLE_ENDIAN_HOST) throw new Error('widenInPlace needs a little-endian host');
  const src = storedBytesOf(out, widenableBytes(t, file));
  for (let start = 0; start < out.length; start += WIDEN_BLOCK) {
    const n = Math.min(WIDEN_BLOCK, out.length - start);
    widenBlock(t, src, out, 0, start, n);
    checkFinite(out, file, t.name, start, start + n);
  }
}
