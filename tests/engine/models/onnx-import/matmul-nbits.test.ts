import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { Graph, attr } from '../../../../src/engine/onnx/graph';
import { dequantizeGatherBlockQuantized, dequantizeMatMulNBits } from '../../../../src/engine/models/onnx-import/matmul-nbits';
import { fromF16Bits, matmulT, maxAbsDiff, quantizeNBits, rng, serialize, toF16Bits, type ZpMode } from './helpers';

function randomMatrix(n: number, seed: number, scale = 1): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => (r() - 0.5) * 2 * scale);
}

async function runOrt(g: Graph, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  const s = await ort.InferenceSession.create(serialize(g));
  try {
    return (await s.run(feeds)) as Record<string, ort.Tensor>;
  } finally {
    await s.release();
  }
}

describe('MatMulNBits dequantization', () => {
  const cases: { bits: number; K: number; N: number; block: number; zp: ZpMode }[] = [
    { bits: 4, K: 64, N: 12, block: 16, zp: 'none' },
    { bits: 4, K: 64, N: 12, block: 32, zp: 'packed' },
    { bits: 4, K: 40, N: 5, block: 16, zp: 'packed' }, // K not a multiple of the block; odd block count
    { bits: 4, K: 48, N: 7, block: 16, zp: 'float' },
    { bits: 8, K: 48, N: 6, block: 16, zp: 'none' },
    { bits: 8, K: 40, N: 6, block: 32, zp: 'packed' },
    { bits: 2, K: 64, N: 4, block: 16, zp: 'packed' },
    { bits: 2, K: 32, N: 4, block: 16, zp: 'none' },
  ];

  for (const c of cases) {
    it(`matches a reference dequantization: ${c.bits}-bit, K=${c.K}, N=${c.N}, block ${c.block}, zero points ${c.zp}`, () => {
      const W = randomMatrix(c.N * c.K, c.K * 31 + c.N + c.bits);
      const q = quantizeNBits(W, c.N, c.K, c.bits, c.block, c.zp);
      const out = dequantizeMatMulNBits({ K: c.K, N: c.N, bits: c.bits, blockSize: c.block, b: q.b, scales: q.scales, zeroPoints: q.zp });
      expect(out.length).toBe(c.N * c.K);
      expect(Array.from(out)).toEqual(Array.from(q.deq));
      // And the round trip stays within the quantization step of the original weight.
      const maxScale = Math.max(...q.scales);
      expect(maxAbsDiff(out, W)).toBeLessThanOrEqual(maxScale * (c.zp === 'float' ? 0.76 : 0.51));
    });
  }

  it('rejects g_idx, unsupported bit widths and inconsistent sizes with clear messages', () => {
    const q = quantizeNBits(randomMatrix(4 * 32, 3), 4, 32, 4, 16, 'packed');
    const base = { K: 32, N: 4, bits: 4, blockSize: 16, b: q.b, scales: q.scales, zeroPoints: q.zp };
    expect(() => dequantizeMatMulNBits({ ...base, gIdx: new Int32Array(32) })).toThrow(/g_idx.*not supported/);
    expect(() => dequantizeMatMulNBits({ ...base, bits: 3 })).toThrow(/3-bit weights are not supported/);
    expect(() => dequantizeMatMulNBits({ ...base, b: q.b.subarray(1) })).toThrow(/B has 63 bytes, expected/);
    expect(() => dequantizeMatMulNBits({ ...base, scales: q.scales.subarray(1) })).toThrow(/scales has 7 values, expected N\*n_blocks = 8/);
    expect(() => dequantizeMatMulNBits({ ...base, zeroPoints: new Uint8Array(3) })).toThrow(/zero_points has 3 bytes, expected 4/);
    expect(() => dequantizeMatMulNBits({ ...base, K: 0 })).toThrow(/K must be an integer/);
  });

  // The decisive check: onnxruntime's own MatMulNBits kernel computes x @ W^T with the W we unpack.
  const ortCases: { bits: number; K: number; N: number; block: number; zp: ZpMode; f16?: boolean }[] = [
    { bits: 4, K: 64, N: 24, block: 16, zp: 'none' },
    { bits: 4, K: 64, N: 24, block: 32, zp: 'packed' },
    { bits: 4, K: 80, N: 9, block: 32, zp: 'packed' }, // padded last block, odd number of blocks
    { bits: 4, K: 64, N: 16, block: 16, zp: 'float' },
    { bits: 8, K: 64, N: 16, block: 32, zp: 'packed' },
    { bits: 8, K: 48, N: 8, block: 16, zp: 'none' },
    { bits: 4, K: 32, N: 8, block: 16, zp: 'packed', f16: true },
  ];
  for (const c of ortCases) {
    it(`equals onnxruntime's MatMulNBits: ${c.bits}-bit, K=${c.K}, N=${c.N}, block ${c.block}, zero points ${c.zp}${c.f16 ? ', fp16' : ''}`, async () => {
      const W = randomMatrix(c.N * c.K, 100 + c.K + c.N);
      const q = quantizeNBits(W, c.N, c.K, c.bits, c.block, c.zp);
      const nb = Math.ceil(c.K / c.block);
      const ft = c.f16 ? 'float16' : 'float32';
      const fl = (dims: number[], v: Float32Array) => (c.f16 ? { dtype: 'float16' as const, dims, data: Uint16Array.from(v, toF16Bits) } : { dtype: 'float32' as const, dims, data: v });
      const g = new Graph();
      g.input('x', ft, ['m', c.K]);
      g.initializer('B', { dtype: 'uint8', dims: [c.N, nb, (c.block * c.bits) / 8], data: q.b });
      g.initializer('scales', fl([c.N, nb], q.scales));
      const inputs = ['x', 'B', 'scales'];
      if (q.zp instanceof Uint8Array) {
        g.initializer('zp', { dtype: 'uint8', dims: [c.N, Math.ceil((nb * c.bits) / 8)], data: q.zp });
        inputs.push('zp');
      } else if (q.zp) {
        g.initializer('zp', fl([c.N, nb], q.zp));
        inputs.push('zp');
      }
      g.customNode('com.microsoft', 'MatMulNBits', inputs, { K: attr.int(c.K), N: attr.int(c.N), bits: attr.int(c.bits), block_size: attr.int(c.block) }, ['y']);
      g.output('y', ft, ['m', c.N]);
      const M = 5;
      const x = randomMatrix(M * c.K, 9);
      const feed = c.f16 ? new ort.Tensor('float16', Uint16Array.from(x, toF16Bits), [M, c.K]) : new ort.Tensor('float32', x, [M, c.K]);
      const res = await runOrt(g, { x: feed });

      let zeroPoints: Uint8Array | Float32Array | null = q.zp;
      let sc = q.scales;
      let xs = x;
      if (c.f16) {
        sc = q.scales.map((v) => fromF16Bits(toF16Bits(v)));
        xs = x.map((v) => fromF16Bits(toF16Bits(v)));
        if (q.zp instanceof Float32Array) zeroPoints = q.zp.map((v) => fromF16Bits(toF16Bits(v)));
      }
      const deq = dequantizeMatMulNBits({ K: c.K, N: c.N, bits: c.bits, blockSize: c.block, b: q.b, scales: sc, zeroPoints });
      const want = matmulT(xs, M, deq, c.N, c.K);
      let got: ArrayLike<number>;
      if (c.f16) {
        got = Array.from(res.y.data as Uint16Array, fromF16Bits);
      } else got = res.y.data as Float32Array;
      const scaleOf = Math.max(...Array.from(want, Math.abs));
      const tol = c.f16 ? 2e-2 * scaleOf : 1e-5 * scaleOf + 1e-6;
      expect(maxAbsDiff(got, want)).toBeLessThanOrEqual(tol);
      // The same product with the original (unquantized) weights differs clearly: the check has teeth.
      expect(maxAbsDiff(matmulT(xs, M, W, c.N, c.K), want)).toBeGreaterThan(tol);
    });
  }
});

describe('GatherBlockQuantized dequantization', () => {
  it('unpacks uint8 tables (4-bit, with and without zero points) like onnxruntime', async () => {
    const V = 10;
    const H = 32;
    const block = 16;
    for (const zp of ['packed', 'none'] as const) {
      const W = randomMatrix(V * H, 55);
      const q = quantizeNBits(W, V, H, 4, block, zp);
      const nb = H / block;
      const table = dequantizeGatherBlockQuantized({
        kind: 'uint8',
        data: q.b,
        dims: [V, H / 2],
        bits: 4,
        blockSize: block,
        quantizeAxis: 1,
        scales: q.scales,
        zeroPoints: q.zp as Uint8Array | null,
      });
      expect(table.dims).toEqual([V, H]);
      expect(Array.from(table.data)).toEqual(Array.from(q.deq));

      const g = new Graph();
      g.input('ids', 'int64', [3]);
      g.initializer('data', { dtype: 'uint8', dims: [V, H / 2], data: q.b });
      g.initializer('scales', { dtype: 'float32', dims: [V, nb], data: q.scales });
      const inputs = ['data', 'ids', 'scales'];
      if (q.zp) {
        g.initializer('zp', { dtype: 'uint8', dims: [V, Math.ceil(nb / 2)], data: q.zp as Uint8Array });
        inputs.push('zp');
      }
      g.customNode('com.microsoft', 'GatherBlockQuantized', inputs, { bits: attr.int(4), block_size: attr.int(block), gather_axis: attr.int(0), quantize_axis: attr.int(1) }, ['y']);
      g.output('y', 'float32', [3, H]);
      const ids = [7, 0, 9];
      const res = await runOrt(g, { ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [3]) });
      const want = ids.flatMap((i) => Array.from(table.data.subarray(i * H, (i + 1) * H)));
      expect(maxAbsDiff(res.y.data as Float32Array, want)).toBeLessThanOrEqual(1e-6);
    }
  });

  it('dequantizes int4/uint4 tables along either axis', () => {
    const data = Int8Array.from([-8, 7, 1, -1, 0, 3, 2, -2]); // [2, 4]
    const scales = Float32Array.from([0.5, 2, 1, 0.25]); // block 2 along axis 1: [2, 2]
    const a1 = dequantizeGatherBlockQuantized({ kind: 'int4', data, dims: [2, 4], bits: 4, blockSize: 2, quantizeAxis: 1, scales });
    expect(Array.from(a1.data)).toEqual([-4, 3.5, 2, -2, 0, 3, 0.5, -0.5]);
    const u = Uint8Array.from([8, 9, 10, 11, 0, 1, 2, 3]);
    const zps = Uint8Array.from([8, 8, 0, 1]);
    const a2 = dequantizeGatherBlockQuantized({ kind: 'uint4', data: u, dims: [2, 4], bits: 4, blockSize: 2, quantizeAxis: 0, scales: Float32Array.from([1, 2, 3, 4]), zeroPoints: zps });
    // quantize_axis 0 with block 2: one block of rows, scales [1, 4] per column.
    // quantize_axis 0 with block 2: one block spans both rows, so column c uses scale/zp [c].
    expect(Array.from(a2.data)).toEqual([0, 2, 30, 40, -8, -14, 6, 8]);
    expect(() => dequantizeGatherBlockQuantized({ kind: 'uint8', data: u, dims: [2, 4], bits: 3, blockSize: 2, quantizeAxis: 1, scales })).toThrow(/3-bit/);
    expect(() => dequantizeGatherBlockQuantized({ kind: 'int4', data, dims: [8], bits: 4, blockSize: 2, quantizeAxis: 0, scales })).toThrow(/rank-2/);
  });
});
