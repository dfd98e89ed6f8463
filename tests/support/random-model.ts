/** Small ModelConfigs and seeded random weights for engine tests, built straight in memory. */
import { Prng, hashSeed } from '../../src/util/prng';
import { expectedWeights } from '../../src/engine/models/weight-layout';
import { LORA_TARGETS, projectionPath, projectionShape, type Family, type LoraAdapter, type LoraTarget, type ModelConfig, type WeightMap } from '../../src/engine/models/types';

export function tinyConfig(family: Family, over: Partial<ModelConfig> = {}): ModelConfig {
  return {
    family,
    vocabSize: 53,
    hiddenSize: 32,
    intermediateSize: 48,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 2,
    headDim: 8,
    rmsNormEps: 1e-6,
    ropeTheta: 10000,
    ropeScaling: null,
    maxPositionEmbeddings: 512,
    tieWordEmbeddings: false,
    attentionBias: family === 'qwen2',
    outputBias: false,
    mlpBias: false,
    dtype: 'float32',
    bosTokenId: null,
    eosTokenIds: [1],
    padTokenId: 0,
    ...over,
  };
}

export function randomWeights(cfg: ModelConfig, seed: number): WeightMap {
  const w: WeightMap = new Map();
  for (const [name, dims] of expectedWeights(cfg)) {
    const rng = new Prng(hashSeed(seed, name));
    const n = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    const isNorm = name.endsWith('norm.weight');
    for (let i = 0; i < n; i++) data[i] = isNorm ? 1 + 0.2 * rng.normal() : (name.endsWith('.bias') ? 0.2 : 0.25) * rng.normal();
    w.set(name, { dims, data });
  }
  return w;
}

export function randomAdapter(cfg: ModelConfig, seed: number, targets: readonly LoraTarget[] = LORA_TARGETS, r = 4, alpha = 8, useRslora = false): LoraAdapter {
  const modules: LoraAdapter['modules'] = new Map();
  for (let l = 0; l < cfg.numLayers; l++) {
    for (const t of targets) {
      const { inF, outF } = projectionShape(cfg, t);
      const rng = new Prng(hashSeed(seed, `${l}.${t}`));
      const A = Float32Array.from({ length: r * inF }, () => 0.3 * rng.normal());
      const B = Float32Array.from({ length: outF * r }, () => 0.3 * rng.normal());
      modules.set(projectionPath(l, t), { A: { dims: [r, inF], data: A }, B: { dims: [outF, r], data: B } });
    }
  }
  return { config: { r, alpha, targetModules: [...targets], useRslora }, baseModel: null, modules };
}

export function randomIds(n: number, vocab: number, seed: number): number[] {
  const rng = new Prng(seed);
  return Array.from({ length: n }, () => Math.floor(rng.next() * vocab));
}
