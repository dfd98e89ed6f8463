/** Model shapes used by the benchmarks; weights are seeded random, nothing is downloaded. */
import type { ModelConfig } from '../src/engine/models/types';
import { expectedWeights } from '../src/engine/models/weight-layout';
import type { WeightMap } from '../src/engine/models/types';

/** The published Qwen3-0.6B config.json, as a ModelConfig (tied embeddings, head_dim 128). */
export function qwen3_06bConfig(layers = 28): ModelConfig {
  return {
    family: 'qwen3',
    vocabSize: 151936,
    hiddenSize: 1024,
    intermediateSize: 3072,
    numLayers: layers,
    numHeads: 16,
    numKvHeads: 8,
    headDim: 128,
    rmsNormEps: 1e-6,
    ropeTheta: 1_000_000,
    ropeScaling: null,
    maxPositionEmbeddings: 40960,
    tieWordEmbeddings: true,
    attentionBias: false,
    outputBias: false,
    mlpBias: false,
    dtype: 'bfloat16',
    bosTokenId: null,
    eosTokenIds: [151645],
    padTokenId: 151643,
  };
}

/** Fast seeded fill (xorshift32, uniform in [-a, a]); statistics do not matter for speed. */
export function randomBenchWeights(cfg: ModelConfig, seed = 1): WeightMap {
  const w: WeightMap = new Map();
  let s = seed >>> 0 || 1;
  for (const [name, dims] of expectedWeights(cfg)) {
    const n = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const isNorm = name.endsWith('norm.weight');
    const a = isNorm ? 0 : 0.04;
    for (let i = 0; i < n; i++) {
      s ^= s << 13;
      s ^= s >>> 17;
      s ^= s << 5;
      data[i] = (isNorm ? 1 : 0) + a * ((s >>> 0) / 4294967296 - 0.5) * 2;
    }
    w.set(name, { dims, data });
  }
  return w;
}

export function paramCount(w: WeightMap): number {
  let n = 0;
  for (const t of w.values()) n += t.data.length;
  return n;
}
