import { describe, expect, it } from 'vitest';
import { f32ToBf16, f32ToF16, f16ToF32, bf16ToF32 } from '../../../src/engine/onnx/half';
import {
  parseSafetensorsHeader,
  readSafetensors,
  readSafetensorsHeader,
  writeSafetensors,
} from '../../../src/engine/models/safetensors';
import { ModelFormatError } from '../../../src/engine/models/types';
import { MemorySource, utf8 } from '../../support/memory-source';

function sample(): Map<string, { dims: number[]; data: Float32Array }> {
  return new Map([
    ['b.weight', { dims: [2, 3], data: new Float32Array([1, -2, 0.5, 3.25, -0, 1e-3]) }],
    ['a.bias', { dims: [3], data: new Float32Array([0.1, 0.2, -0.3]) }],
    ['scalar', { dims: [], data: new Float32Array([7]) }],
    ['empty', { dims: [0, 4], data: new Float32Array(0) }],
  ]);
}

/** Build a file from a raw header string and data size. */
function rawFile(header: string, dataBytes = 0, lengthOverride?: number): Uint8Array {
  const h = utf8(header);
  const out = new Uint8Array(8 + h.length + dataBytes);
  new DataView(out.buffer).setUint32(0, lengthOverride ?? h.length, true);
  out.set(h, 8);
  return out;
}

function expectFormatError(fn: () => unknown, file: string, pattern: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ModelFormatError);
    expect((e as ModelFormatError).file).toBe(file);
    expect((e as Error).message.startsWith(`${file}: `)).toBe(true);
    expect((e as Error).message).toMatch(pattern);
    return;
  }
  throw new Error('expected a ModelFormatError');
}

describe('writeSafetensors / readSafetensors', () => {
  for (const dtype of ['F32', 'F16', 'BF16'] as const) {
    it(`round-trips ${dtype}`, () => {
      const src = sample();
      const buf = writeSafetensors(src, dtype, { format: 'pt' });
      const { tensors, metadata } = readSafetensors(buf, 'x.safetensors');
      expect(metadata).toEqual({ format: 'pt' });
      expect([...tensors.keys()].sort()).toEqual([...src.keys()].sort());
      for (const [name, t] of src) {
        const got = tensors.get(name)!;
        expect(got.dims).toEqual(t.dims);
        const want = Array.from(t.data, (v) =>
          dtype === 'F32' ? Math.fround(v) : dtype === 'F16' ? f16ToF32(f32ToF16(v)) : bf16ToF32(f32ToBf16(v)),
        );
        expect(Array.from(got.data)).toEqual(want);
      }
    });
  }

  it('pads the header with spaces to 8 bytes and sorts tensors by name', () => {
    const buf = writeSafetensors(sample(), 'F16');
    const n = new DataView(buf.buffer).getUint32(0, true);
    expect(n % 8).toBe(0);
    const text = new TextDecoder().decode(buf.subarray(8, 8 + n));
    expect(text.trimEnd().endsWith('}')).toBe(true);
    expect(/^ *$/.test(text.slice(text.lastIndexOf('}') + 1))).toBe(true);
    const header = parseSafetensorsHeader(buf, 'x');
    const order = [...header.tensors.values()].sort((a, b) => a.begin - b.begin).map((t) => t.name);
    expect(order).toEqual(['a.bias', 'b.weight', 'empty', 'scalar']);
    expect(header.metadata).toBeNull();
  });

  it('writes the known byte layout for a tiny F32 file', () => {
    const buf = writeSafetensors(new Map([['t', { dims: [1], data: new Float32Array([1]) }]]), 'F32');
    const header = '{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}';
    const n = Math.ceil(header.length / 8) * 8;
    expect(new DataView(buf.buffer).getUint32(0, true)).toBe(n);
    expect(new TextDecoder().decode(buf.subarray(8, 8 + n))).toBe(header.padEnd(n, ' '));
    expect(Array.from(buf.subarray(8 + n))).toEqual([0x00, 0x00, 0x80, 0x3f]);
  });

  it('rejects data that does not match dims', () => {
    expect(() => writeSafetensors(new Map([['t', { dims: [2], data: new Float32Array(3) }]]), 'F32')).toThrow(/hold 2 values/);
  });

  it('reads only the header through range reads', async () => {
    const buf = writeSafetensors(sample(), 'BF16');
    const src = new MemorySource(new Map([['m.safetensors', buf]]));
    const header = await readSafetensorsHeader(src, 'm.safetensors');
    expect(header.tensors.get('b.weight')).toMatchObject({ dtype: 'BF16', shape: [2, 3] });
  });
});

describe('malformed safetensors', () => {
  const F = 'bad.safetensors';
  it('too short for the length field', () => {
    expectFormatError(() => readSafetensors(new Uint8Array(5), F), F, /shorter than the 8-byte/);
  });
  it('header length larger than the file', () => {
    expectFormatError(() => readSafetensors(rawFile('{}', 0, 1000), F), F, /claims 1000 bytes/);
  });
  it('header not JSON', () => {
    expectFormatError(() => readSafetensors(rawFile('{"a": nope}'), F), F, /not valid UTF-8 JSON/);
    expectFormatError(() => readSafetensors(rawFile('[1, 2]   '), F), F, /must be a JSON object/);
  });
  it('unknown dtype and unsupported dtype', () => {
    expectFormatError(() => readSafetensors(rawFile('{"t":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}}', 1), F), F, /tensor "t": unknown dtype "Q4"/);
    expectFormatError(() => readSafetensors(rawFile('{"t":{"dtype":"I32","shape":[2],"data_offsets":[0,8]}}', 8), F), F, /tensor "t": dtype I32 is not supported/);
  });
  it('bad shapes', () => {
    expectFormatError(() => readSafetensors(rawFile('{"t":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', 4), F), F, /tensor "t": shape \[-1\]/);
    expectFormatError(() => readSafetensors(rawFile('{"t":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}', 4), F), F, /non-negative integers/);
    expectFormatError(() => readSafetensors(rawFile('{"t":{"dtype":"F32","shape":"2","data_offsets":[0,8]}}', 8), F), F, /shape "2"/);
  });
  it('offsets out of range, reversed, or mismatched with the shape', () => {
    expectFormatError(() => readSafetensors(rawFile('{"t":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}', 8), F), F, /run past the 8-byte data section/);
    expectFormatError(() => readSafetensors(rawFile('{"t":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}', 8), F), F, /end before they begin/);
    expectFormatError(() => readSafetensors(rawFile('{"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', 8), F), F, /needs 12 bytes but data_offsets \[0, 8\] span 8/);
    expectFormatError(() => readSafetensors(rawFile('{"t":{"dtype":"F32","shape":[1],"data_offsets":[0]}}', 8), F), F, /two non-negative integers/);
  });
  it('overlapping tensors', () => {
    const h = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}';
    expectFormatError(() => readSafetensors(rawFile(h, 12), F), F, /"a" .* and "b" .* overlap/);
  });
  it('offsets too large are "past the data section", not "not an integer"', () => {
    for (const big of ['1e300', '18446744073709551615', '9007199254740993']) {
      expectFormatError(
        () => readSafetensors(rawFile(`{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,${big}]}}`, 4), F),
        F,
        /data_offsets \[0, [\de+]+\] run past the 4-byte data section/,
      );
    }
    expectFormatError(() => readSafetensors(rawFile('{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4.5]}}', 4), F), F, /two non-negative integers/);
  });
  it('bytes after the last tensor, or between tensors, are refused', () => {
    expectFormatError(
      () => readSafetensors(rawFile('{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', 8), F),
      F,
      /4 bytes follow the last tensor \(the tensors end at byte 4 of a 8-byte data section\); safetensors requires the tensors to cover the data section exactly/,
    );
    expectFormatError(() => readSafetensors(rawFile('{}', 3), F), F, /3 bytes follow the last tensor/);
    const gap = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}';
    expectFormatError(() => readSafetensors(rawFile(gap, 12), F), F, /data bytes \[4, 8\) before tensor "b" belong to no tensor/);
  });
  it('dtype names are looked up as own keys only', () => {
    expectFormatError(() => readSafetensors(rawFile('{"t":{"dtype":"constructor","shape":[1],"data_offsets":[0,1]}}', 1), F), F, /unknown dtype "constructor"/);
  });
  it('NaN and infinite values are refused, naming the tensor and element', () => {
    for (const dtype of ['F32', 'F16', 'BF16'] as const) {
      for (const bad of [NaN, Infinity, -Infinity]) {
        const data = new Float32Array([0.5, -1, bad, 2]);
        const buf = writeSafetensors(new Map([['w.weight', { dims: [2, 2], data }]]), dtype);
        expectFormatError(() => readSafetensors(buf, F), F, new RegExp(`tensor "w\\.weight": element 2 is ${String(bad)}; weights must be finite`));
      }
    }
  });
  it('bad __metadata__', () => {
    expectFormatError(() => readSafetensors(rawFile('{"__metadata__":{"n":1}}'), F), F, /__metadata__ must be/);
  });
});
