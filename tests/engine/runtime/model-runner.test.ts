import { afterAll, describe, expect, it } from 'vitest';
import { ModelRunner } from '../../../src/engine/runtime/model-runner';
import { nodeCpuBackend } from '../../../src/engine/runtime/node-backend';
import { leftPadBatch } from '../../../src/engine/runtime/batch';
import type { Family, LoraAdapter, ModelConfig } from '../../../src/engine/models/types';
import { referenceLogits } from '../../reference/forward';
import { randomAdapter, randomIds, randomWeights, tinyConfig } from '../../support/random-model';

const runners: ModelRunner[] = [];
afterAll(async () => {
  for (const r of runners) await r.release();
});

async function makeRunner(cfg: ModelConfig, seed: number, adapter: LoraAdapter | null) {
  const r = new ModelRunner(cfg, nodeCpuBackend());
  runners.push(r);
  const w = randomWeights(cfg, seed);
  await r.loadWeights(w);
  r.setAdapter(adapter);
  return { runner: r, weights: w };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const families: Family[] = ['qwen2', 'qwen3', 'llama', 'olmo2'];
const cases = families.flatMap((f) => [false, true].flatMap((tied) => [false, true].map((lora) => ({ f, tied, lora }))));

describe('decoder graph vs the plain TypeScript reference', () => {
  it.each(cases)('$f tied=$tied lora=$lora: logits within 1e-4 at every position', async ({ f, tied, lora }) => {
    const cfg = tinyConfig(f, { tieWordEmbeddings: tied });
    const adapter = lora ? randomAdapter(cfg, 7) : null;
    const { runner, weights } = await makeRunner(cfg, 11, adapter);
    const ids = randomIds(9, cfg.vocabSize, 3);
    const b = leftPadBatch([ids], 0);
    const out = await runner.forward({ ...b, logits: 'all', wantKv: false });
    const ref = referenceLogits(cfg, weights, ids, adapter);
    for (let p = 0; p < ids.length; p++) {
      const row = out.logits.subarray(p * cfg.vocabSize, (p + 1) * cfg.vocabSize);
      expect(maxAbsDiff(row, ref[p])).toBeLessThan(1e-4);
    }
  });
});

describe('config-driven variants through the graph', () => {
  const variants: { name: string; f: Family; over: Partial<ModelConfig> }[] = [
    {
      name: 'llama with llama3 rope scaling',
      f: 'llama',
      over: {
        ropeTheta: 500000,
        ropeScaling: { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 64 },
      },
    },
    { name: 'qwen3 with head_dim wider than hidden/heads', f: 'qwen3', over: { headDim: 16 } },
    { name: 'llama with attention and mlp biases', f: 'llama', over: { attentionBias: true, outputBias: true, mlpBias: true } },
    { name: 'olmo2 without GQA (kv heads = heads)', f: 'olmo2', over: { numKvHeads: 4 } },
    { name: 'qwen2 with one kv head (MQA)', f: 'qwen2', over: { numKvHeads: 1 } },
  ];
  it.each(variants)('$name: logits within 1e-4 at every position', async ({ f, over }) => {
    const cfg = tinyConfig(f, over);
    const adapter = randomAdapter(cfg, 5, ['q_proj', 'k_proj', 'o_proj', 'gate_proj']);
    const { runner, weights } = await makeRunner(cfg, 17, adapter);
    const ids = randomIds(40, cfg.vocabSize, 8); // long enough for the scaled rope bands to matter
    const out = await runner.forward({ ...leftPadBatch([ids], 0), logits: 'all', wantKv: false });
    const ref = referenceLogits(cfg, weights, ids, adapter);
    let worst = 0;
    for (let p = 0; p < ids.length; p++) worst = Math.max(worst, maxAbsDiff(out.logits.subarray(p * cfg.vocabSize, (p + 1) * cfg.vocabSize), ref[p]));
    expect(worst).toBeLessThan(1e-4);
  });
});
