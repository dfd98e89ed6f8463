import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { Graph, attr } from '../../../src/engine/onnx/graph';
import { serializeGraph } from '../../../src/engine/onnx/serialize';

async function run(g: Graph, feeds: Record<string, ort.Tensor>) {
  const s = await ort.InferenceSession.create(serializeGraph(g));
  try {
    return await s.run(feeds);
  } finally {
    await s.release();
  }
}

describe('ONNX serialization', () => {
  it('runs a MatMul + Softmax graph with symbolic dims and matches a plain computation', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', ['n', 3]);
    const w = g.initializer('w', { dtype: 'float32', dims: [3, 2], data: Float32Array.from([1, -2, 0.5, 3, -1, 0.25]) });
    const y = g.op('MatMul', [x, w]);
    g.op('Softmax', [y], { axis: attr.int(-1) }, 'out');
    g.output('out', 'float32', ['n', 2]);
    const xv = Float32Array.from([0.1, 0.2, 0.3, -1, 2, 0.5]);
    const res = await run(g, { x: new ort.Tensor('float32', xv, [2, 3]) });
    const out = res.out.data as Float32Array;
    for (let r = 0; r < 2; r++) {
      const z = [0, 1].map((c) => xv[r * 3] * [1, -2][c] + xv[r * 3 + 1] * [0.5, 3][c] + xv[r * 3 + 2] * [-1, 0.25][c]);
      const m = Math.max(...z);
      const e = z.map((v) => Math.exp(v - m));
      const s = e[0] + e[1];
      expect(out[r * 2]).toBeCloseTo(e[0] / s, 6);
      expect(out[r * 2 + 1]).toBeCloseTo(e[1] / s, 6);
    }
  });

  it('encodes int, float, ints attributes and int64 constants (negative values too)', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [2, 3]);
    const t = g.op('Transpose', [x], { perm: attr.ints([1, 0]) });
    const r = g.op('Reshape', [t, g.i64([-1])]);
    const sl = g.op('Slice', [r, g.i64([-4]), g.i64([9_007_199_254_740_991]), g.i64([0])]);
    const e = g.op('Elu', [sl], { alpha: attr.float(0.5) });
    g.op('Identity', [e], {}, 'y');
    g.output('y', 'float32', [4]);
    const res = await run(g, { x: new ort.Tensor('float32', Float32Array.from([1, -2, 3, 4, 5, -6]), [2, 3]) });
    // transpose -> [1,4,-2,5,3,-6]; last four -> [-2,5,3,-6]; elu(alpha .5)
    const expected = [-2, 5, 3, -6].map((v) => (v > 0 ? v : 0.5 * (Math.exp(v) - 1)));
    Array.from(res.y.data as Float32Array).forEach((v, i) => expect(v).toBeCloseTo(expected[i], 6));
  });
});
