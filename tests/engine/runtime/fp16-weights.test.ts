import { afterAll, describe, expect, it } from 'vitest';
import { ModelRunner } from '../../../src/engine/runtime/model-runner';
import { nodeCpuBackend } from '../../../src/engine/runtime/node-backend';
import { leftPadBatch } from '../../../src/engine/runtime/batch';
import { f16ArrayToF32, f32ArrayToF16 } from '../../../src/engine/onnx/half';
import type { Family, WeightMap } from '../../../src/engine/models/types';
import { referenceLogits } from '../../reference/forward';
import { randomAdapter, randomIds, randomWeights, tinyConfig } from '../../support/random-model';

const runners: ModelRunner[] = [];
afterAll(async () => {
  for (const r of runners) await r.release();
});

/** The weights as fp16 storage would hold them. */
function roundToF16(w: WeightMap): WeightMap {
  const out: WeightMap = new Map();
  for (const [k, t] of w) out.set(k, { dims: t.dims, data: f16ArrayToF32(f32ArrayToF16(t.data)) });
  return out;
}

describe('fp16 weight storage (the shader-f16 path)', () => {
  it.each(['qwen2', 'qwen3', 'llama', 'olmo2'] as Family[])('%s: logits track the fp32 reference on fp16-rounded weights', async (f) => {
    const cfg = tinyConfig(f, { tieWordEmbeddings: f === 'llama' });
    const weights = randomWeights(cfg, 13);
    const adapter = randomAdapter(cfg, 2, ['q_proj', 'down_proj']);
    const runner = new ModelRunner(cfg, nodeCpuBackend({ weightDtype: 'float16' }));
    runners.push(runner);
    await runner.loadWeights(weights);
    runner.setAdapter(adapter);
    const ids = randomIds(8, cfg.vocabSize, 4);
    const out = await runner.forward({ ...leftPadBatch([ids], 0), logits: 'all', wantKv: false });
    const ref = referenceLogits(cfg, roundToF16(weights), ids, adapter);
    let maxErr = 0;
    let maxMag = 0;
    for (let p = 0; p < ids.length; p++) {
      for (let v = 0; v < cfg.vocabSize; v++) {
        maxErr = Math.max(maxErr, Math.abs(out.logits[p * cfg.vocabSize + v] - ref[p][v]));
        maxMag = Math.max(maxMag, Math.abs(ref[p][v]));
      }
    }
    // fp16 activations in the matrix products: error relative to the logit scale stays small.
    expect(maxErr / maxMag).toBeLessThan(1e-2);
  });
});
