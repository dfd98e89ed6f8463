import { afterAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { attr, Graph } from '../../../src/engine/onnx/graph';
import { serializeGraph } from '../../../src/engine/onnx/serialize';
import { decodeModel } from '../../../src/engine/models/onnx-import/onnx-reader';
import { bakeWeights } from '../../../src/engine/runtime/constant-weights';
import { inferValueInfo } from '../../../src/engine/autodiff/value-info';
import { buildDecoderGraph } from '../../../src/engine/models/decoder-graph';
import { ModelRunner } from '../../../src/engine/runtime/model-runner';
import { nodeCpuBackend } from '../../../src/engine/runtime/node-backend';
import { generate, type GenerateOptions } from '../../../src/engine/runtime/generate';
import type { Family } from '../../../src/engine/models/types';
import { randomAdapter, randomIds, randomWeights, tinyConfig } from '../../support/random-model';

const released: ModelRunner[] = [];
afterAll(async () => {
  for (const r of released) await r.release();
});

/** y = x . w^T with w an input, the graph bakeWeights is given. */
function gemmGraph(): Graph {
  const g = new Graph('gemm');
  const x = g.input('x', 'float32', ['n', 3]);
  const w = g.input('w', 'float32', [2, 3]);
  g.op('Gemm', [x, w], { transB: attr.int(1) }, 'y');
  g.output('y', 'float32', ['n', 2]);
  return g;
}

describe('bakeWeights', () => {
  const w = Float32Array.from([1, -2, 0.5, 3, -1, 0.25]);
  const x = Float32Array.from([0.1, 0.2, 0.3, -1, 2, 0.5]);

  it('turns the weight inputs into external initializers and leaves the other inputs', () => {
    const g = gemmGraph();
    const opts = bakeWeights(g, { w: new ort.Tensor('float32', w, [2, 3]) }) as { externalData: { path: string; data: Uint8Array }[] };
    expect(g.inputs.map((i) => i.name)).toEqual(['x']);
    expect(opts.externalData).toHaveLength(1);
    expect(opts.externalData[0].data.byteLength).toBe(24);
    // Read back with the project's own ONNX decoder: an EXTERNAL tensor naming that file.
    const model = decodeModel(serializeGraph(g));
    const t = model.graph.initializers.find((i) => i.name === 'w')!;
    expect(t.dims).toEqual([2, 3]);
    expect(t.rawData).toBeNull();
    expect(t.externalData).toMatchObject({ location: opts.externalData[0].path, offset: 0, length: 24 });
  });

  it('computes in onnxruntime what the weight as an input computes', async () => {
    const g = gemmGraph();
    const opts = bakeWeights(g, { w: new ort.Tensor('float32', w, [2, 3]) });
    const baked = await ort.InferenceSession.create(serializeGraph(g), opts);
    const plain = await ort.InferenceSession.create(serializeGraph(gemmGraph()));
    try {
      expect(baked.inputNames).toEqual(['x']);
      const xt = new ort.Tensor('float32', x, [2, 3]);
      const a = (await baked.run({ x: xt })).y.data as Float32Array;
      const b = (await plain.run({ x: xt, w: new ort.Tensor('float32', w, [2, 3]) })).y.data as Float32Array;
      expect(Array.from(a)).toEqual(Array.from(b));
      // and both equal the product worked out here
      expect(a[0]).toBeCloseTo(0.1 * 1 + 0.2 * -2 + 0.3 * 0.5, 6);
      expect(a[3]).toBeCloseTo(-1 * 3 + 2 * -1 + 0.5 * 0.25, 6);
    } finally {
      await baked.release();
      await plain.release();
    }
  });

  it("keeps the graph's inferred intermediate shapes (value_info) as they were with weights as inputs", () => {
    const cfg = tinyConfig('qwen3');
    const build = () => buildDecoderGraph(cfg, { mode: 'decode', logits: 'last', loraTargets: ['q_proj'], emitKv: true, weightDtype: 'float32' }).graph;
    const weights = Object.fromEntries([...randomWeights(cfg, 1)].map(([n, t]) => [n, new ort.Tensor('float32', t.data as Float32Array, t.dims)]));
    const baked = build();
    bakeWeights(baked, weights);
    expect(baked.externalInitializers.length).toBe(Object.keys(weights).length);
    const shapes = inferValueInfo(baked);
    expect(shapes.length).toBeGreaterThan(100);
    expect(shapes).toEqual(inferValueInfo(build()));
  });

  it('refuses a weight that is not a host float tensor, naming it', () => {
    const g = gemmGraph();
    expect(() => bakeWeights(g, { w: new ort.Tensor('int64', new BigInt64Array(6), [2, 3]) })).toThrow(/cannot bake weight w: a int64 tensor/);
  });
});

describe('generation with constant weights', () => {
  async function runner(family: Family, constantWeights: boolean, weightDtype: 'float32' | 'float16', lora: boolean) {
    const cfg = tinyConfig(family);
    const r = new ModelRunner(cfg, nodeCpuBackend({ constantWeights, weightDtype }));
    released.push(r);
    await r.loadWeights(randomWeights(cfg, 5));
    if (lora) r.setAdapter(randomAdapter(cfg, 9, ['q_proj', 'v_proj', 'down_proj'], 2, 4, true));
    return { cfg, r };
  }

  it.each([
    ['qwen3', 'float32', false, 0],
    ['llama', 'float32', true, 0.8],
    ['qwen2', 'float16', true, 1],
  ] as const)('%s %s (adapter %s, temperature %s): the same tokens, and log-probabilities to 1e-5, as with weights as inputs', async (family, dtype, lora, temperature) => {
    const base = await runner(family, false, dtype, lora);
    const baked = await runner(family, true, dtype, lora);
    const V = base.cfg.vocabSize;
    // rows of different lengths (left padding) and a stop token, so rows leave the batch
    const prompts = [randomIds(5, V, 1), randomIds(9, V, 2), randomIds(3, V, 3)];
    const opts: GenerateOptions = { maxNewTokens: 12, temperature, topP: 1, topK: 0, seed: 4, stopAtEos: true, eosTokenIds: [7, 11, 19], padTokenId: 0 };
    const a = await generate(base.r, prompts, opts);
    const b = await generate(baked.r, prompts, opts);
    expect(b.tokens).toEqual(a.tokens);
    expect(b.finish).toEqual(a.finish);
    // Not always bit-identical: a packed weight goes through onnxruntime's general GEMM kernel,
    // an unpacked one with a single row through a dot-product kernel that sums in another order.
    expect(b.logprobs.map((r) => r.length)).toEqual(a.logprobs.map((r) => r.length));
    let worst = 0;
    a.logprobs.forEach((row, i) => row.forEach((lp, j) => (worst = Math.max(worst, Math.abs(lp - b.logprobs[i][j])))));
    expect(worst).toBeLessThan(1e-5);
  });

  it('runs prefill and decode in one session whose only inputs are ids, tables, mask, adapter and cache', async () => {
    const { cfg, r } = await runner('qwen3', true, 'float32', true);
    await generate(r, [randomIds(4, cfg.vocabSize, 8)], { maxNewTokens: 3, temperature: 0, topP: 1, topK: 0, seed: 0, stopAtEos: false, eosTokenIds: [], padTokenId: 0 });
    const sessions = (r as unknown as { sessions: { cache: Map<string, Promise<{ session: ort.InferenceSession }>> } }).sessions.cache;
    expect([...sessions.keys()]).toEqual([expect.stringMatching(/^decode-static\|last\|.*\|true\|baked$/)]);
    const { session } = await [...sessions.values()][0];
    const weightNames = Object.keys(r.weightFeeds());
    expect(session.inputNames.filter((n) => weightNames.includes(n))).toEqual([]);
    expect(session.inputNames).toContain('input_ids');
  });
});
