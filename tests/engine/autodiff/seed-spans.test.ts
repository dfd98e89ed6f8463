/**
 * The `seed`, `spans` and `recompute` options of buildGradientGraph: a given output gradient
 * gives the vector-Jacobian product; spans and recomputation leave every gradient as it was;
 * recomputed copies nothing reads are pruned; misuse is reported.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildGradientGraph } from '../../../src/engine/autodiff/autodiff';
import { attr, Graph } from '../../../src/engine/onnx/graph';
import { randn, runOnce } from './helpers';

/** Three "layers" x -> tanh(x W_l^T) + x, then loss = sum(y * y); spans are the layers. */
function layered(): { g: Graph; spans: [number, number][] } {
  const g = new Graph('layers');
  let x = g.input('x', 'float32', ['n', 4]);
  const spans: [number, number][] = [];
  for (let l = 0; l < 3; l++) {
    const w = g.input(`w${l}`, 'float32', [4, 4]);
    const start = g.nodes.length;
    const h = g.op('Tanh', [g.op('Gemm', [x, w], { transB: attr.int(1) })]);
    g.op('Exp', [h]); // a dead end inside the layer
    x = g.op('Add', [h, x]);
    spans.push([start, g.nodes.length]);
  }
  g.op('Identity', [x], {}, 'y');
  g.op('ReduceSum', [g.op('Mul', [x, x])], { keepdims: attr.int(0) }, 'loss');
  g.output('y', 'float32', ['n', 4]);
  g.output('loss', 'float32', []);
  return { g, spans };
}

const feeds = () => ({
  x: new ort.Tensor('float32', randn(8, 1), [2, 4]),
  w0: new ort.Tensor('float32', randn(16, 2, 0.5), [4, 4]),
  w1: new ort.Tensor('float32', randn(16, 3, 0.5), [4, 4]),
  w2: new ort.Tensor('float32', randn(16, 4, 0.5), [4, 4]),
});
const wrt = ['w0', 'w1', 'w2', 'x'];
const values = (r: ort.InferenceSession.OnnxValueMapType, k: string) => Array.from(r[k].data as Float32Array);

describe('seed, spans and recompute', () => {
  it('seed: the gradient of a non-scalar value weighted by a given seed equals that of sum(value * seed)', async () => {
    const { g } = layered();
    const seed = g.input('seed', 'float32', ['n', 4]);
    const viaSeed = buildGradientGraph(g, { loss: 'y', seed, wrt });
    const h = g.op('ReduceSum', [g.op('Mul', ['y', seed])], { keepdims: attr.int(0) }, 'weighted');
    g.output(h, 'float32', []);
    const direct = buildGradientGraph(g, { loss: 'weighted', wrt });
    const f = { ...feeds(), seed: new ort.Tensor('float32', randn(8, 9), [2, 4]) };
    const a = await runOnce(viaSeed, f);
    const b = await runOnce(direct, f);
    for (const w of wrt) expect(values(a, `grad.${w}`)).toEqual(values(b, `grad.${w}`));
  });

  it('spans, with and without recompute, give the same gradients; dead recomputed nodes are pruned', async () => {
    const { g, spans } = layered();
    const plain = buildGradientGraph(g, { loss: 'loss', wrt });
    const ordered = buildGradientGraph(g, { loss: 'loss', wrt, spans });
    const recomputed = buildGradientGraph(g, { loss: 'loss', wrt, spans, recompute: true });
    const f = feeds();
    const [a, b, c] = await Promise.all([plain, ordered, recomputed].map((x) => runOnce(x, f)));
    for (const w of wrt) {
      expect(values(b, `grad.${w}`)).toEqual(values(a, `grad.${w}`));
      expect(values(c, `grad.${w}`)).toEqual(values(a, `grad.${w}`));
    }
    const count = (x: Graph, op: string) => x.nodes.filter((n) => n.opType === op).length;
    // Each layer's Gemm and Tanh run again; its dead Exp and the next layer's input (the Add) do not.
    expect(count(recomputed, 'Gemm') - count(plain, 'Gemm')).toBe(3);
    expect(count(recomputed, 'Tanh')).toBe(6);
    expect(count(recomputed, 'Exp')).toBe(count(plain, 'Exp'));
  });

  it('reports misuse', () => {
    const { g, spans } = layered();
    expect(() => buildGradientGraph(g, { loss: 'loss', wrt, recompute: true })).toThrow(/recompute needs spans/);
    expect(() => buildGradientGraph(g, { loss: 'loss', wrt, spans: [[0, 3], [2, 5]] })).toThrow(/overlap/);
    expect(() => buildGradientGraph(g, { loss: 'loss', wrt, spans: [[0, 999]] })).toThrow(/not a range/);
    const i = g.input('int', 'int64', ['n', 4]);
    expect(() => buildGradientGraph(g, { loss: 'y', seed: i, wrt })).toThrow(/seed/);
    void spans;
  });
});
