/**
 * Stored weight elements (F32, F16 or BF16, little-endian) widened to fp32 and checked for
 * NaN/infinity in the same pass: a half-precision element is non-finite exactly when its own
 * exponent bits are all set, so the check reads the element already loaded for the widening.
 */
import { f16ToF32Table } from '../onnx/half';
import { firstNonFiniteBits, nonFiniteWeight } from './finite-weights';
import { ModelFormatError } from './types';

/** What the widening needs to know of a stored tensor. */
export interface StoredTensor {
  name: string;
  dtype: string;
}

export const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

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

// The half-precision loops run forwards and read src[i] before writing dst[i], so they may widen
// in place (widenInPlace). Each stops at the first non-finite element, written, and returns its
// index; -1 when all are finite.

function widenBf16(src: Uint16Array, dst: Uint32Array): number {
  for (let i = 0; i < src.length; i++) {
    const h = src[i];
    if ((h & 0x7f80) === 0x7f80) {
      dst[i] = h << 16;
      return i;
    }
    dst[i] = h << 16;
  }
  return -1;
}

function widenF16(src: Uint16Array, dst: Uint32Array): number {
  const table = f16ToF32Table();
  for (let i = 0; i < src.length; i++) {
    const h = src[i];
    if ((h & 0x7c00) === 0x7c00) {
      dst[i] = table[h];
      return i;
    }
    dst[i] = table[h];
  }
  return -1;
}

/**
 * Widen the elements of `src` (host order, aligned, t.dtype) into `out`, which has one slot per
 * element and may share src's memory as widenInPlace lays it out. Returns the index of the first
 * non-finite element, or -1.
 */
function widenChecked(t: StoredTensor, src: Uint8Array, out: Float32Array): number {
  const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  if (t.dtype === 'F32') {
    // In place the elements are already where they belong.
    if (src.buffer !== out.buffer || src.byteOffset !== out.byteOffset) bits.set(new Uint32Array(src.buffer, src.byteOffset, out.length));
    return firstNonFiniteBits(bits);
  }
  const halves = new Uint16Array(src.buffer, src.byteOffset, out.length);
  return t.dtype === 'F16' ? widenF16(halves, bits) : widenBf16(halves, bits);
}

/**
 * Widen `raw` (whole elements of t.dtype, little-endian) into out[at, at + n), refusing NaN
 * and infinities: weights holding them would silently turn every output into NaN.
 */
export function widenInto(raw: Uint8Array, t: StoredTensor, out: Float32Array<ArrayBuffer>, at: number, file: string): void {
  const elemBytes = widenableBytes(t, file);
  const count = raw.length / elemBytes;
  const src = LITTLE_ENDIAN_HOST && raw.byteOffset % elemBytes === 0 ? raw : copyElements(raw, elemBytes);
  const bad = widenChecked(t, src, out.subarray(at, at + count));
  if (bad >= 0) throw nonFiniteWeight(file, t.name, at + bad, out[at + bad]);
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
  const bad = widenChecked(t, storedBytesOf(out, widenableBytes(t, file)), out);
  if (bad >= 0) throw nonFiniteWeight(file, t.name, bad, out[bad]);
}
