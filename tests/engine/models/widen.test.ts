/**
 * Widening in place (the stored elements at the back of the fp32 array itself) must give exactly
 * what widening out of place gives, for every dtype and across block boundaries, and refuse
 * NaN/infinity naming the same element.
 */
import { describe, expect, it } from 'vitest';
import { storedBytesOf, widenInPlace, widenInto } from '../../../src/engine/models/widen';
import { ModelFormatError } from '../../../src/engine/models/types';
import { bf16ToF32Bits, f16ToF32Bits } from '../../../src/engine/onnx/half';

/** fp32 bit pattern of stored element i, one element at a time through the scalar conversions. */
function referenceBits(raw: Uint8Array, dtype: string, i: number): number {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  if (dtype === 'F32') return view.getUint32(i * 4, true);
  const h = view.getUint16(i * 2, true);
  return dtype === 'F16' ? f16ToF32Bits(h) : bf16ToF32Bits(h);
}

/** Seeded stored elements of `bytes` each, with every exponent pattern except all-ones (non-finite). */
function storedElements(count: number, bytes: 2 | 4, dtype: string, seed: number): Uint8Array {
  let s = seed >>> 0;
  const next = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s);
  const raw = new Uint8Array(count * bytes);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < count; i++) {
    let v = next();
    if (bytes === 4) {
      if ((v & 0x7f800000) === 0x7f800000) v ^= 0x00800000;
      view.setUint32(i * 4, v, true);
    } else {
      v &= 0xffff;
      const expMask = dtype === 'F16' ? 0x7c00 : 0x7f80;
      if ((v & expMask) === expMask) v ^= dtype === 'F16' ? 0x0400 : 0x0080;
      view.setUint16(i * 2, v, true);
    }
  }
  return raw;
}

const cases = [
  { dtype: 'F32', bytes: 4 },
  { dtype: 'F16', bytes: 2 },
  { dtype: 'BF16', bytes: 2 },
] as const;

describe('widenInPlace', () => {
  for (const { dtype, bytes } of cases) {
    for (const count of [1, 2, 3, 65_535, 65_536, 2 * 65_536 + 7]) {
      it(`${dtype}, ${count} elements: equals widening into a separate array`, () => {
        const raw = storedElements(count, bytes, dtype, count * 7 + bytes);
        const want = new Float32Array(count);
        widenInto(raw, { name: 't', dtype }, want, 0, 'f');
        const got = new Float32Array(count);
        storedBytesOf(got, bytes).set(raw);
        widenInPlace({ name: 't', dtype }, got, 'f');
        expect(Buffer.from(got.buffer).equals(Buffer.from(want.buffer))).toBe(true);
      });
    }

    it(`${dtype}: a NaN is refused naming the same element as out of place`, () => {
      const count = 65_536 + 100;
      const raw = storedElements(count, bytes, dtype, 3);
      const at = 65_536 + 17;
      if (bytes === 4) new DataView(raw.buffer).setUint32(at * 4, 0x7fc00000, true);
      else new DataView(raw.buffer).setUint16(at * 2, dtype === 'F16' ? 0x7e00 : 0x7fc0, true);
      const outOfPlace = (() => {
        try {
          widenInto(raw, { name: 'w', dtype }, new Float32Array(count), 0, 'f.safetensors');
        } catch (e) {
          return e as Error;
        }
      })();
      const got = new Float32Array(count);
      storedBytesOf(got, bytes).set(raw);
      // One call only: a failed in-place widening leaves the array half widened.
      expect(() => widenInPlace({ name: 'w', dtype }, got, 'f.safetensors')).toThrow(new ModelFormatError('f.safetensors', outOfPlace!.message.slice('f.safetensors: '.length)));
      expect(outOfPlace!.message).toMatch(new RegExp(`tensor "w": element ${at} is NaN`));
    });
  }

  for (const { dtype, bytes } of cases) {
    it(`${dtype}: out of place equals the scalar conversion of every element`, () => {
      const count = 65_536 + 333;
      const raw = storedElements(count, bytes, dtype, 11);
      const out = new Float32Array(count + 5);
      widenInto(raw, { name: 't', dtype }, out, 5, 'f');
      const bits = new Uint32Array(out.buffer);
      for (let i = 0; i < count; i++) {
        if (bits[5 + i] !== referenceBits(raw, dtype, i)) throw new Error(`element ${i}: ${bits[5 + i]} != ${referenceBits(raw, dtype, i)}`);
      }
      expect(bits.subarray(0, 5).every((b) => b === 0)).toBe(true);
    });

    it(`${dtype}: a negative infinity is refused, in place and out of place`, () => {
      const raw = storedElements(40, bytes, dtype, 5);
      if (bytes === 4) new DataView(raw.buffer).setUint32(9 * 4, 0xff800000, true);
      else new DataView(raw.buffer).setUint16(9 * 2, dtype === 'F16' ? 0xfc00 : 0xff80, true);
      expect(() => widenInto(raw, { name: 'n', dtype }, new Float32Array(43), 3, 'f')).toThrow(/tensor "n": element 12 is -Infinity/);
      const got = new Float32Array(40);
      storedBytesOf(got, bytes).set(raw);
      expect(() => widenInPlace({ name: 'n', dtype }, got, 'f')).toThrow(/tensor "n": element 9 is -Infinity/);
    });
  }

  it('refuses a dtype it cannot widen', () => {
    expect(() => widenInPlace({ name: 'q', dtype: 'I8' }, new Float32Array(4), 'f')).toThrow(/dtype I8 is not supported/);
  });
});
