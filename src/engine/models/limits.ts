/**
 * How much a config.json may make the engine allocate. The config alone fixes every weight's
 * shape, so the fp32 footprint and the tensor count are known before a byte of weights is read
 * (or a per-tensor table is built): a config with 10^7 layers is refused here at once instead of
 * failing minutes and gigabytes later.
 */

import type { ModelConfig } from './types';
import { ModelFormatError } from './types';
import { expectedWeights } from './weight-layout';

export interface ModelLimits {
  /** Largest fp32 weight footprint accepted, in bytes (the host holds every weight in fp32). */
  maxWeightBytes: number;
  /** Most weight tensors a model may have (a JS Map holds at most 2^24 entries). */
  maxTensors: number;
}

export const DEFAULT_MODEL_LIMITS: ModelLimits = {
  maxWeightBytes: 64 * 2 ** 30,
  maxTensors: 100_000,
};

/** What a config implies for its weights, computed without listing every tensor. */
export interface WeightEstimate {
  /** fp32 bytes of all weights. */
  bytes: number;
  tensors: number;
  /** fp32 bytes of one decoder layer. */
  layerBytes: number;
  /** fp32 bytes of everything outside the layers (embeddings, final norm, lm_head). */
  outerBytes: number;
}

const numel = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** The footprint of `cfg`, taken from the layout of a one-layer copy so it cannot drift from expectedWeights. */
export function estimateWeights(cfg: ModelConfig): WeightEstimate {
  let layerBytes = 0;
  let layerTensors = 0;
  let outerBytes = 0;
  let outerTensors = 0;
  for (const [name, shape] of expectedWeights({ ...cfg, numLayers: 1 })) {
    const bytes = numel(shape) * 4;
    if (name.startsWith('model.layers.0.')) {
      layerBytes += bytes;
      layerTensors += 1;
    } else {
      outerBytes += bytes;
      outerTensors += 1;
    }
  }
  return {
    bytes: outerBytes + cfg.numLayers * layerBytes,
    tensors: outerTensors + cfg.numLayers * layerTensors,
    layerBytes,
    outerBytes,
  };
}

/** `n` bytes for people: "12884901888 bytes (12 GiB)". */
export function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u += 1;
  }
  const short = u === 0 ? `${n} bytes` : `${v.toFixed(1)} ${units[u]}`;
  const exact = Number.isSafeInteger(n) ? `${n}` : n.toExponential(3);
  return u === 0 ? short : `${exact} bytes (${short})`;
}

/**
 * Refuse a config whose weights cannot fit the limits, naming the fields responsible and the
 * estimate. Returns the estimate for callers that want to show it.
 */
export function checkModelLimits(cfg: ModelConfig, limits: Partial<ModelLimits> = {}, file = 'config.json'): WeightEstimate {
  const { maxWeightBytes, maxTensors } = { ...DEFAULT_MODEL_LIMITS, ...limits };
  const est = estimateWeights(cfg);
  const parts =
    `num_hidden_layers ${cfg.numLayers} x ${formatBytes(est.layerBytes)} per layer, ` +
    `plus ${formatBytes(est.outerBytes)} for embeddings and head (vocab_size ${cfg.vocabSize} x hidden_size ${cfg.hiddenSize})`;
  if (!(est.bytes <= maxWeightBytes)) {
    throw new ModelFormatError(
      file,
      `this config implies ${formatBytes(est.bytes)} of fp32 weights (${parts}), ` +
        `more than the limit of ${formatBytes(maxWeightBytes)} (maxWeightBytes); nothing was read or allocated`,
    );
  }
  if (est.tensors > maxTensors) {
    throw new ModelFormatError(
      file,
      `num_hidden_layers ${cfg.numLayers} implies ${est.tensors} weight tensors, more than the limit of ${maxTensors} (maxTensors)`,
    );
  }
  return est;
}
