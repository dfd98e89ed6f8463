/**
 * Structural properties of buildGradientGraph: it leaves the input graph alone, prunes what the
 * loss does not need, produces well-formed graphs (unique names, default domain only), reports
 * errors clearly, and handles the decoder in float16 storage.
 */
import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { attr, Graph } from '../../../src/engine/onnx/graph';
import { buildGradientGraph, buildGradientGraphWithStats } from '../../../src/engine/autodiff/autodiff';
import { buildDecoderGraph } from '../../../src/engine/models/decoder-graph';
import { LORA_TARGETS, projectionPath } from '../../../src/engine/models/types';
import { tinyConfig } from '../../support/random-model';
import { decoderCase } from './decoder-setup';
import { gradients, randn, runOnce } from './helpers';
import { f32ArrayToF16 } from '../../../src/engine/onnx/half';

function snapshot(g: Graph): string {
  return JSON.stringify({ n: g.nodes, i: g.inputs, o: g.outputs, init: g.initializers.map((x) => [x.name, x.tensor.dims]) });
}

function wellFormed(g: Graph): void {
  const produced = new Set<string>();
  const nodeNames = new Set<string>();
  const defined = new Set<string>([...g.inputs.map((i) => i.name), ...g.initializers.map((i) => i.name)]);
  expect(defined.size).toBe(g.inputs.length + g.initializers.length);
  for (const n of g.nodes) {
    expect(n.domain).toBe('');
    expect(nodeNames.has(n.name), `duplicate node name ${n.name}`).toBe(false);
    nodeNames.add(n.name);
    for (const i of n.inputs) if (i) expect(defined.has(i) || produced.has(i), `${n.opType} reads ${i} before it is defined`).toBe(true);
    for (const o of n.outputs) {
      expect(produced.has(o) || defined.has(o), `value ${o} defined twice`).toBe(false);
      produced.add(o);
    }
  }
  for (const o of g.outputs) expect(produced.has(o.name) || defined.has(o.name)).toBe(true);
}

function smallGraph(): Graph {
  const g = new Graph('small');
  const x = g.input('x', 'float32', ['n', 4]);
  const w = g.input('w', 'float32', [3, 4]);
  const b = g.input('b', 'float32', [3]);
  const y = g.op('Gemm', [x, w, b], { transB: attr.int(1) });
  g.op('ReduceSum', [g.op('Mul', [y, y])], { keepdims: attr.int(0) }, 'loss');
  g.output('loss', 'float32', []);
  // An output the loss does not depend on.
  g.op('Exp', [x], {}, 'side');
  g.output('side', 'float32', ['n', 4]);
  return g;
}

describe('buildGradientGraph structure', () => {
  it('does not modify the input graph and keeps its outputs first', () => {
    const g = smallGraph();
    const before = snapshot(g);
    const gg = buildGradientGraph(g, { loss: 'loss', wrt: ['x', 'w', 'b'] });
    expect(snapshot(g)).toBe(before);
    expect(gg).not.toBe(g);
    expect(gg.outputs.map((o) => o.name)).toEqual(['loss', 'side', 'grad.x', 'grad.w', 'grad.b']);
    expect(gg.outputs.slice(2).map((o) => o.shape)).toEqual([['n', 4], [3, 4], [3]]);
    expect(gg.nodes.slice(0, g.nodes.length).map((n) => n.opType)).toEqual(g.nodes.map((n) => n.opType));
    wellFormed(gg);
  });

  it('prunes: no backward for frozen operands or for values the loss does not use', () => {
    const g = smallGraph();
    const onlyB = buildGradientGraph(g, { loss: 'loss', wrt: ['b'] });
    const back = onlyB.nodes.slice(g.nodes.length);
    // d(loss)/db needs no matrix product and nothing from the unrelated Exp branch.
    expect(back.some((n) => n.opType === 'Gemm' || n.opType === 'MatMul')).toBe(false);
    expect(back.some((n) => n.inputs.includes('side'))).toBe(false);
    const onlyX = buildGradientGraph(g, { loss: 'loss', wrt: ['x'] });
    expect(onlyX.nodes.slice(g.nodes.length).filter((n) => n.opType === 'Gemm')).toHaveLength(1);
    const all = buildGradientGraph(g, { loss: 'loss', wrt: ['x', 'w', 'b'] });
    expect(all.nodes.slice(g.nodes.length).filter((n) => n.opType === 'Gemm')).toHaveLength(2);
  });

  it('prunes the decoder: a later layer needs fewer backward nodes than an earlier one', () => {
    const cfg = tinyConfig('llama');
    const c = decoderCase(cfg, 'weighted');
    const nodes = (w: string) => buildGradientGraphWithStats(c.graph, { loss: 'loss', wrt: [w] }).stats;
    const late = nodes(`${projectionPath(1, 'down_proj')}.lora_B`);
    const early = nodes(`${projectionPath(0, 'q_proj')}.lora_A`);
    expect(late.backwardNodes).toBeLessThan(early.backwardNodes / 2);
    expect(late.activeNodes).toBeLessThan(early.activeNodes);
  });

  it('gives zeros for inputs the loss does not depend on (or only through integer paths)', async () => {
    const g = new Graph();
    const x = g.input('x', 'float32', [2, 3]);
    const u = g.input('u', 'float32', [4]);
    const z = g.input('z', 'float32', [5, 2]);
    // z only reaches the loss through its shape
    const n = g.op('Cast', [g.op('Size', [z])], { to: attr.int(1) });
    g.op('ReduceSum', [g.op('Mul', [x, n])], { keepdims: attr.int(0) }, 'loss');
    g.output('loss', 'float32', []);
    void u;
    const gg = buildGradientGraph(g, { loss: 'loss', wrt: ['x', 'u', 'z'] });
    wellFormed(gg);
    const res = await runOnce(gg, {
      x: new ort.Tensor('float32', randn(6, 1), [2, 3]),
      u: new ort.Tensor('float32', randn(4, 2), [4]),
      z: new ort.Tensor('float32', randn(10, 3), [5, 2]),
    });
    expect(Array.from(res['grad.x'].data as Float32Array)).toEqual(new Array(6).fill(10));
    expect(Array.from(res['grad.u'].data as Float32Array)).toEqual([0, 0, 0, 0]);
    expect(res['grad.z'].dims).toEqual([5, 2]);
    expect(Array.from(res['grad.z'].data as Float32Array).every((v) => v === 0)).toBe(true);
  });

  it('accepts custom gradient names and leaves fresh names safe for later appends', async () => {
    const g = smallGraph();
    const gg = buildGradientGraph(g, { loss: 'loss', wrt: ['w'], gradName: (w) => `d_${w}` });
    expect(gg.outputs.map((o) => o.name)).toContain('d_w');
    // Someone appends an optimizer step with the ordinary builder API.
    const upd = gg.op('Sub', ['w', gg.op('Mul', ['d_w', gg.scalar(0.1)])]);
    gg.op('Identity', [upd], {}, 'w_next');
    gg.output('w_next', 'float32', [3, 4]);
    wellFormed(gg);
    const x = randn(8, 4);
    const w = randn(12, 5);
    const res = await runOnce(gg, { x: new ort.Tensor('float32', x, [2, 4]), w: new ort.Tensor('float32', w, [3, 4]), b: new ort.Tensor('float32', randn(3, 6), [3]) });
    const dw = res.d_w.data as Float32Array;
    const next = res.w_next.data as Float32Array;
    for (let i = 0; i < 12; i++) expect(next[i]).toBeCloseTo(w[i] - 0.1 * dw[i], 5);
  });

  it('reports clear errors', () => {
    const g = smallGraph();
    expect(() => buildGradientGraph(g, { loss: 'nope', wrt: ['x'] })).toThrow(/loss nope is not a value/);
    expect(() => buildGradientGraph(g, { loss: 'loss', wrt: ['nope'] })).toThrow(/nope is not an input/);
    expect(() => buildGradientGraph(g, { loss: 'loss', wrt: ['x', 'x'] })).toThrow(/twice/);
    expect(() => buildGradientGraph(g, { loss: 'loss', wrt: ['x'], gradName: () => 'side' })).toThrow(/already used/);
    const h = new Graph();
    const x = h.input('x', 'float32', [3]);
    const ids = h.input('ids', 'int64', [3]);
    h.op('ReduceSum', [h.op('Erf', [x])], { keepdims: attr.int(0) }, 'loss');
    h.op('ReduceSum', [ids], { keepdims: attr.int(0) }, 'iloss');
    h.output('loss', 'float32', []);
    h.output('iloss', 'int64', []);
    expect(() => buildGradientGraph(h, { loss: 'loss', wrt: ['x'] })).toThrow(/no gradient rule for Erf/);
    expect(() => buildGradientGraph(h, { loss: 'iloss', wrt: ['x'] })).toThrow(/not a float value/);
    expect(() => buildGradientGraph(h, { loss: 'loss', wrt: ['ids'] })).toThrow(/dtype int64/);
  });

  it('decoder: well formed for every family, static reductions only when seq == total is declared', () => {
    for (const family of ['qwen2', 'qwen3', 'llama', 'olmo2'] as const) {
      const cfg = tinyConfig(family);
      const spec = buildDecoderGraph(cfg, { mode: 'prefill', logits: 'all', loraTargets: LORA_TARGETS, emitKv: false });
      const g = spec.graph;
      g.op('ReduceSum', ['logits'], { keepdims: attr.int(0) }, 'loss');
      g.output('loss', 'float32', []);
      const wrt = spec.loraInputs.flatMap((l) => [l.a, l.b]);
      const eq = buildGradientGraphWithStats(g, { loss: 'loss', wrt, equalDims: [['seq', 'total']] });
      wellFormed(eq.graph);
      expect(eq.stats.runtimeReductions).toBe(0);
      const plain = buildGradientGraphWithStats(g, { loss: 'loss', wrt });
      // Only the attention score/probability operands (3 per layer) stay runtime.
      expect(plain.stats.runtimeReductions).toBe(3 * cfg.numLayers);
    }
  });

  it('decoder with float16 weights: LoRA gradients through fp16 Gemm and Cast match float32', async () => {
    const cfg = tinyConfig('qwen3');
    const c32 = decoderCase(cfg, 'weighted');
    const spec16 = buildDecoderGraph(cfg, { mode: 'prefill', logits: 'all', loraTargets: LORA_TARGETS, emitKv: false, weightDtype: 'float16' });
    const g16 = spec16.graph;
    g16.input('loss_r', 'float32', ['batch', 'seq', cfg.vocabSize]);
    g16.op('ReduceSum', [g16.op('Mul', ['logits', 'loss_r'])], { keepdims: attr.int(0) }, 'loss');
    g16.output('loss', 'float32', []);
    const feeds16: Record<string, ort.Tensor> = {};
    // Round the weights to fp16 for both runs so only the arithmetic precision differs.
    const feeds32: Record<string, ort.Tensor> = { ...c32.feeds };
    for (const name of spec16.weightNames) {
      const t = c32.feeds[name];
      const h = f32ArrayToF16(t.data as Float32Array);
      feeds16[name] = new ort.Tensor('float16', h, t.dims as number[]);
      const back = Float32Array.from(h, (v) => {
        const s = v & 0x8000 ? -1 : 1;
        const e = (v >> 10) & 0x1f;
        const m = v & 0x3ff;
        return s * (e === 0 ? m * 2 ** -24 : (1 + m / 1024) * 2 ** (e - 15));
      });
      feeds32[name] = new ort.Tensor('float32', back, t.dims as number[]);
    }
    for (const [k, t] of Object.entries(c32.feeds)) if (!(k in feeds16)) feeds16[k] = t;
    const wrt = [`${projectionPath(0, 'q_proj')}.lora_A`, `${projectionPath(1, 'down_proj')}.lora_B`, 'lora_scale'];
    const g16grads = await gradients(g16, feeds16, wrt, { equalDims: [['seq', 'total']] });
    const g32grads = await gradients(c32.graph, feeds32, wrt, { equalDims: [['seq', 'total']] });
    for (const w of wrt) {
      let num = 0;
      let den = 0;
      for (let i = 0; i < g32grads[w].length; i++) {
        num += (g16grads[w][i] - g32grads[w][i]) ** 2;
        den += g32grads[w][i] ** 2;
      }
      expect(Math.sqrt(num / den), w).toBeLessThan(2e-2);
    }
  });
});
