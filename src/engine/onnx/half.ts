/**
 * Half-precision conversions. fp16 is IEEE binary16; bf16 is the top half of an fp32.
 * Narrowing rounds to nearest, ties to even; NaN stays NaN (quiet), infinities and signed
 * zeros are kept, and fp16 subnormals are produced and read correctly.
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Bit pattern of a number rounded to fp32. */
export function f32Bits(x: number): number {
  f32[0] = x;
  return u32[0];
}

/** fp32 value of a bit pattern. */
export function f32FromBits(bits: number): number {
  u32[0] = bits >>> 0;
  return f32[0];
}

/** fp32 bit pattern -> fp16 bit pattern. */
export function f32BitsToF16(x: number): number {
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  const mant = x & 0x7fffff;
  if (exp === 0xff) {
    // Infinity, or NaN with its top payload bits kept and the quiet bit set.
    return mant === 0 ? sign | 0x7c00 : sign | 0x7e00 | (mant >>> 13);
  }
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Below 2^-25 everything rounds to zero (2^-25 itself is a tie that goes to even 0).
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    let r = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (r & 1) === 1)) r += 1;
    return sign | r; // a carry to 0x400 is exactly the smallest normal
  }
  let r = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (r & 1) === 1)) r += 1; // a carry may reach 0x7c00 = inf
  return sign | r;
}

/** fp16 bit pattern -> fp32 bit pattern (exact). */
export function f16ToF32Bits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0;
  if (exp === 0) {
    if (mant === 0) return sign >>> 0;
    // Subnormal: shift the mantissa up until its leading one reaches the hidden-bit slot.
    let e = 113; // 127 - 15 + 1
    while ((mant & 0x400) === 0) {
      mant <<= 1;
      e -= 1;
    }
    return (sign | (e << 23) | ((mant & 0x3ff) << 13)) >>> 0;
  }
  return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
}

/** fp32 bit pattern -> bf16 bit pattern. */
export function f32BitsToBf16(x: number): number {
  if ((x & 0x7f800000) === 0x7f800000 && (x & 0x7fffff) !== 0) return ((x >>> 16) | 0x40) & 0xffff;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

export function bf16ToF32Bits(h: number): number {
  return (h << 16) >>> 0;
}

export const f32ToF16 = (x: number): number => f32BitsToF16(f32Bits(x));
export const f16ToF32 = (h: number): number => f32FromBits(f16ToF32Bits(h));
export const f32ToBf16 = (x: number): number => f32BitsToBf16(f32Bits(x));
export const bf16ToF32 = (h: number): number => f32FromBits(bf16ToF32Bits(h));

let f16Table: Uint32Array | null = null;

/** fp32 bit patterns of all 65,536 fp16 bit patterns, built on first use. */
export function f16ToF32Table(): Uint32Array {
  if (!f16Table) {
    f16Table = new Uint32Array(65536);
    for (let i = 0; i < 65536; i++) f16Table[i] = f16ToF32Bits(i);
  }
  return f16Table;
}

/** Widen a run of fp16 values through f16ToF32Table. */
export function f16ArrayToF32(src: Uint16Array, out = new Float32Array(src.length)): Float32Array {
  const table = f16ToF32Table();
  const dst = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < src.length; i++) dst[i] = table[src[i]];
  return out;
}

export function bf16ArrayToF32(src: Uint16Array, out = new Float32Array(src.length)): Float32Array {
  const dst = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < src.length; i++) dst[i] = src[i] << 16;
  return out;
}

export function f32ArrayToF16(src: Float32Array, out = new Uint16Array(src.length)): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < src.length; i++) out[i] = f32BitsToF16(bits[i]);
  return out;
}

export function f32ArrayToBf16(src: Float32Array, out = new Uint16Array(src.length)): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < src.length; i++) out[i] = f32BitsToBf16(bits[i]);
  return out;
}
