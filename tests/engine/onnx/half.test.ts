import { describe, expect, it } from 'vitest';
import {
  bf16ArrayToF32,
  bf16ToF32,
  f16ArrayToF32,
  f16ToF32,
  f32ArrayToBf16,
  f32ArrayToF16,
  f32FromBits,
  f32ToBf16,
  f32ToF16,
} from '../../../src/engine/onnx/half';

describe('fp16', () => {
  const cases: [number, number][] = [
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [0.5, 0x3800],
    [65504, 0x7bff], // largest finite
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -24, 0x0001], // smallest subnormal
    [2 ** -15, 0x0200],
    [1023 * 2 ** -24, 0x03ff], // largest subnormal
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [1 / 3, 0x3555],
  ];
  it('encodes exact values and hand-computed patterns', () => {
    for (const [x, bits] of cases) expect(f32ToF16(x), `f16(${x})`).toBe(bits);
  });
  it('decodes them back', () => {
    for (const [x, bits] of cases) {
      if (x === 1 / 3) continue;
      expect(Object.is(f16ToF32(bits), x), `${bits.toString(16)}`).toBe(true);
    }
    expect(f16ToF32(0x3555)).toBe(0.333251953125);
  });
  it('rounds to nearest even', () => {
    // 1 + 2^-11 is halfway between 1 and 1+2^-10: ties to even (1).
    expect(f32ToF16(1 + 2 ** -11)).toBe(0x3c00);
    // 1 + 3*2^-11 is halfway between 1+2^-10 (odd) and 1+2^-9 (even).
    expect(f32ToF16(1 + 3 * 2 ** -11)).toBe(0x3c02);
    // Just above the halfway point rounds up.
    expect(f32ToF16(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01);
    // Overflow: 65520 is halfway to 2^16 and rounds to infinity; 65519 stays finite.
    expect(f32ToF16(65520)).toBe(0x7c00);
    expect(f32ToF16(65519)).toBe(0x7bff);
    expect(f32ToF16(1e10)).toBe(0x7c00);
  });
  it('handles subnormal rounding and underflow', () => {
    expect(f32ToF16(2 ** -25)).toBe(0x0000); // tie -> even zero
    expect(f32ToF16(2 ** -25 * 1.0001)).toBe(0x0001);
    expect(f32ToF16(3 * 2 ** -25)).toBe(0x0002); // 1.5 ulp: tie -> even 2
    expect(f32ToF16(2 ** -26)).toBe(0x0000);
    expect(f32ToF16(-(2 ** -30))).toBe(0x8000);
    // Rounding up out of the subnormal range gives the smallest normal.
    expect(f32ToF16(2 ** -14 - 2 ** -26)).toBe(0x0400);
  });
  it('keeps NaN a NaN', () => {
    const h = f32ToF16(NaN);
    expect(h & 0x7c00).toBe(0x7c00);
    expect(h & 0x3ff).not.toBe(0);
    expect(Number.isNaN(f16ToF32(0x7e00))).toBe(true);
    expect(Number.isNaN(f16ToF32(0xfc01))).toBe(true);
  });
  it('round-trips every fp16 pattern', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const wide = f16ArrayToF32(all);
    const back = f32ArrayToF16(wide);
    for (let i = 0; i < 65536; i++) {
      const isNan = (i & 0x7c00) === 0x7c00 && (i & 0x3ff) !== 0;
      if (isNan) expect(Number.isNaN(wide[i])).toBe(true);
      else expect(back[i]).toBe(i);
    }
  });
});

describe('bf16', () => {
  it('encodes hand-computed patterns', () => {
    expect(f32ToBf16(1)).toBe(0x3f80);
    expect(f32ToBf16(-2)).toBe(0xc000);
    expect(f32ToBf16(0)).toBe(0x0000);
    expect(f32ToBf16(-0)).toBe(0x8000);
    expect(f32ToBf16(Infinity)).toBe(0x7f80);
    expect(f32ToBf16(-Infinity)).toBe(0xff80);
    expect(f32ToBf16(1 / 3)).toBe(0x3eab); // 0x3eaaaaab rounds up
    expect(f32ToBf16(3.4028234663852886e38)).toBe(0x7f80); // max float rounds to inf
    expect(f32ToBf16(f32FromBits(0x00010000))).toBe(0x0001); // subnormal kept
  });
  it('rounds to nearest even', () => {
    expect(f32ToBf16(f32FromBits(0x3f808000))).toBe(0x3f80); // tie, even stays
    expect(f32ToBf16(f32FromBits(0x3f818000))).toBe(0x3f82); // tie, odd rounds up
    expect(f32ToBf16(f32FromBits(0x3f808001))).toBe(0x3f81);
    expect(f32ToBf16(f32FromBits(0x3f807fff))).toBe(0x3f80);
  });
  it('keeps NaN a NaN', () => {
    const nanBits = f32ArrayToBf16(new Float32Array(new Uint32Array([0x7f800001]).buffer))[0];
    expect(nanBits & 0x7f80).toBe(0x7f80);
    expect(nanBits & 0x7f).not.toBe(0);
    expect(Number.isNaN(bf16ToF32(0x7fc0))).toBe(true);
  });
  it('widens exactly and round-trips every non-NaN pattern', () => {
    expect(bf16ToF32(0x3f80)).toBe(1);
    expect(bf16ToF32(0x4049)).toBe(3.140625);
    const all = new Uint16Array(65536).map((_, i) => i);
    const back = f32ArrayToBf16(bf16ArrayToF32(all));
    for (let i = 0; i < 65536; i++) {
      const isNan = (i & 0x7f80) === 0x7f80 && (i & 0x7f) !== 0;
      if (!isNan) expect(back[i]).toBe(i);
    }
  });
});
