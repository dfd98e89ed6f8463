/**
 * value_info from the static inference: names for provably equal dims, unknown dims left empty,
 * and onnxruntime accepts and runs the annotated graph.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { inferValueInfo } from '../../../src/engine/autodiff/value-info';
import { attr, Graph, UNKNOWN_DIM } from '../../../src/engine/onnx/graph';
import { serializeGraph } from '../../../src/engine/onnx/serialize';

function graph(): Graph {
  const g = new Graph('vi');
  g.input('x', 'float32', ['batch', 'seq', 4]);
  g.input('m', 'float32', ['batch', 'seq', 'total']);
  const flat = g.op('Reshape', ['x', g.i64([-1, 4])]); // [batch*seq, 4]
  const sq = g.op('Mul', [flat, flat]);
  const back = g.op('Reshape', [sq, g.op('Shape', ['x'])]); // [batch, seq, 4]
  const scores = g.op('MatMul', [back, g.op('Transpose', ['x'], { perm: attr.ints([0, 2, 1]) })]); // [batch, seq, seq]
  g.op('Identity', [g.op('Add', [scores, 'm'])], {}, 'y'); // seq vs total: not provably equal
  g.output('y', 'float32', ['batch', 'seq', 'total']);
  return g;
}

describe('value_info', () => {
  it('names monomial dims, leaves unprovable ones empty, skips declared values', () => {
    const g = graph();
    const vi = new Map(inferValueInfo(g).map((v) => [v.name, v.shape]));
    const out = (op: string) => g.nodes.filter((n) => n.opType === op).map((n) => n.outputs[0]);
    expect(vi.get(out('Mul')[0])).toEqual(['batch*seq', 4]);
    expect(vi.get(out('MatMul')[0])).toEqual(['batch', 'seq', 'seq']);
    expect(vi.has('y')).toBe(false);
    // With seq and total known equal, the sum's dims are provable too.
    const eq = new Map(inferValueInfo(g, [['seq', 'total']]).map((v) => [v.name, v.shape]));
    expect(eq.get(out('Reshape')[1])).toEqual(['batch', 'seq', 4]);
    expect(vi.get(out('Reshape')[1])).toEqual(['batch', 'seq', 4]);
    expect(vi.get(out('Add')[0])).toEqual(['batch', 'seq', UNKNOWN_DIM]);
    expect(eq.get(out('Add')[0])).toEqual(['batch', 'seq', 'seq']);
  });

  it('a Slice with run-time bounds keeps the axes it does not slice', () => {
    // As in the decode-static graph: the split point is the capacity of another input.
    const g = new Graph('slice');
    g.input('x', 'float32', ['batch', 'seq', 'total']);
    g.input('p', 'float32', ['batch', 'cap', 4]);
    const cap = g.op('Shape', ['p'], { start: attr.int(1), end: attr.int(2) });
    const past = g.op('Slice', ['x', g.i64([0]), cap, g.i64([-1])]);
    const rest = g.op('Slice', ['x', cap, g.i64([2 ** 53 - 1]), g.i64([2])]);
    const both = g.op('Slice', ['x', g.op('Concat', [cap, cap], { axis: attr.int(0) }), g.i64([9, 9]), g.i64([1, 2])]);
    const vi = new Map(inferValueInfo(g).map((v) => [v.name, v.shape]));
    expect(vi.get(past)).toEqual(['batch', 'seq', UNKNOWN_DIM]);
    expect(vi.get(rest)).toEqual(['batch', 'seq', UNKNOWN_DIM]);
    expect(vi.get(both)).toEqual(['batch', UNKNOWN_DIM, UNKNOWN_DIM]);
  });

  it('onnxruntime runs the annotated graph and gives the same result', async () => {
    const g = graph();
    const feeds = {
      x: new ort.Tensor('float32', Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => (i % 7) - 3), [2, 3, 4]),
      m: new ort.Tensor('float32', new Float32Array(2 * 3 * 3).fill(0.5), [2, 3, 3]),
    };
    const run = async (valueInfo: ReturnType<typeof inferValueInfo>) => {
      const s = await ort.InferenceSession.create(serializeGraph(g, { valueInfo }), { executionProviders: ['cpu'] });
      try {
        return Array.from((await s.run(feeds)).y.data as Float32Array);
      } finally {
        await s.release();
      }
    };
    const annotated = inferValueInfo(g);
    expect(annotated.length).toBeGreaterThan(3);
    expect(await run(annotated)).toEqual(await run([]));
  });
});
