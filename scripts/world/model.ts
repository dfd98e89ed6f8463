/**
 * The world model's checkpoint: a qwen3 config (scripts/tiny-model.ts's `makeTinyConfig`),
 * freshly initialised weights for training from scratch, and the Hugging Face folder
 * (config.json, model.safetensors, tokenizer.json, tokenizer_config.json,
 * generation_config.json).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseModelConfig } from '../../src/engine/models/config';
import { writeSafetensors, type WritableDtype } from '../../src/engine/models/safetensors';
import type { ModelConfig, WeightMap } from '../../src/engine/models/types';
import { expectedWeights } from '../../src/engine/models/weight-layout';
import { hashSeed, Prng } from '../../src/util/prng';
import { makeTinyConfig, type TinyTokenizer } from '../tiny-model';

export interface WorldModelShape {
  hiddenSize: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  intermediate: number;
  /** Embedding rows (at least the tokenizer's size). */
  vocabSize: number;
}

export function worldModelConfig(shape: WorldModelShape, tok: TinyTokenizer): Record<string, unknown> {
  const c = makeTinyConfig({ family: 'qwen3', seed: 0, tied: true, ...shape }, tok);
  c.max_position_embeddings = 1024;
  return c;
}

/**
 * Weights for training from scratch (GPT-2 style): matrices and embeddings N(0, 0.02), the
 * projections that write into the residual stream (o_proj, down_proj) scaled down by
 * 1/sqrt(2 layers), norms 1. Each tensor draws from its own seeded stream.
 */
export function initWorldWeights(cfg: ModelConfig, seed: number): WeightMap {
  const w: WeightMap = new Map();
  const residualScale = 1 / Math.sqrt(2 * cfg.numLayers);
  for (const [name, dims] of expectedWeights(cfg)) {
    const rng = new Prng(hashSeed(seed, name));
    const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
    if (/norm\.weight$/.test(name)) data.fill(1);
    else {
      const std = /(o_proj|down_proj)\.weight$/.test(name) ? 0.02 * residualScale : 0.02;
      for (let i = 0; i < data.length; i++) data[i] = std * rng.normal();
    }
    w.set(name, { dims, data });
  }
  return w;
}

export function countParameters(w: WeightMap): number {
  let n = 0;
  for (const t of w.values()) n += t.data.length;
  return n;
}

const json = (v: unknown) => JSON.stringify(v, null, 2) + '\n';

/** Write the model folder; returns the file names. */
export async function writeWorldModel(dir: string, config: Record<string, unknown>, tok: TinyTokenizer, weights: WeightMap, dtype: WritableDtype): Promise<string[]> {
  parseModelConfig(config); // fail early on a config the engine would reject
  await mkdir(dir, { recursive: true });
  const files: [string, string | Uint8Array][] = [
    ['config.json', json(config)],
    ['model.safetensors', writeSafetensors(weights, dtype, { format: 'pt' })],
    ['tokenizer.json', json(tok.tokenizerJson)],
    ['tokenizer_config.json', json(tok.tokenizerConfig)],
    [
      'generation_config.json',
      json({ bos_token_id: tok.ids.endoftext, eos_token_id: [tok.ids.imEnd, tok.ids.endoftext], pad_token_id: tok.ids.endoftext, do_sample: false, transformers_version: '4.51.3' }),
    ],
  ];
  for (const [name, bytes] of files) await writeFile(join(dir, name), bytes);
  return files.map(([n]) => n);
}
