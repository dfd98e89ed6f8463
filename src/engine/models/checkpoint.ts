/**
 * Load a Hugging Face model folder: config, safetensors weights (single file or sharded),
 * and the tokenizer / generation side files. Every expected tensor must be present with the
 * shape the config implies; anything else is an error unless known to be harmless.
 */

import { parseModelConfig } from './config';
import { numel, openSafetensors, type SafetensorsHeader } from './safetensors';
import { type FileSource, type ModelConfig, ModelFormatError, type WeightMap } from './types';
import { expectedWeights, isHarmlessExtra } from './weight-layout';
import { checkModelLimits, formatBytes, type ModelLimits } from './limits';
import { isRecord } from '../../util/records';

export interface LoadCheckpointOptions {
  /** Called with (files loaded, weight files in total, current file) as weight files finish. */
  onProgress?(done: number, total: number, file: string): void;
  /** Largest fp32 tensor the device can bind, in bytes. */
  maxTensorBytes?: number;
  /** Caps on the whole model, checked from config.json before anything else is read. */
  limits?: Partial<ModelLimits>;
}

export interface LoadedCheckpoint {
  config: ModelConfig;
  weights: WeightMap;
  tokenizerJson: unknown | null;
  tokenizerConfig: unknown | null;
  generationConfig: unknown | null;
}

export const SINGLE_FILE = 'model.safetensors';
export const INDEX_FILE = 'model.safetensors.index.json';


export async function readJson(src: FileSource, file: string): Promise<unknown> {
  const text = await src.text(file);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ModelFormatError(file, `not valid JSON (${(e as Error).message})`);
  }
}

async function readOptionalJson(src: FileSource, file: string): Promise<unknown | null> {
  return (await src.has(file)) ? readJson(src, file) : null;
}

/** The config decides every tensor's size, so oversized tensors are caught before any download. */
function checkTensorSizes(expected: Map<string, number[]>, maxBytes: number | undefined): void {
  if (maxBytes === undefined) return;
  for (const [name, shape] of expected) {
    const bytes = numel(shape) * 4;
    if (bytes > maxBytes) {
      throw new ModelFormatError(
        'config.json',
        `tensor ${name} [${shape.join(', ')}] takes ${formatBytes(bytes)} in fp32, ` +
          `more than the device's per-buffer limit of ${formatBytes(maxBytes)}`,
      );
    }
  }
}

/** Tensor name -> shard file, from the index of a sharded checkpoint. */
async function readIndex(src: FileSource): Promise<Map<string, string>> {
  const index = await readJson(src, INDEX_FILE);
  if (!isRecord(index) || !isRecord(index.weight_map)) {
    throw new ModelFormatError(INDEX_FILE, 'missing the "weight_map" object');
  }
  const map = new Map<string, string>();
  for (const [name, file] of Object.entries(index.weight_map)) {
    if (typeof file !== 'string' || !/^[\w.\-]+\.safetensors$/.test(file) || file.includes('..')) {
      throw new ModelFormatError(INDEX_FILE, `tensor ${name}: shard name ${JSON.stringify(file)} is not a plain .safetensors file name`);
    }
    map.set(name, file);
  }
  return map;
}

function checkGenerationEos(gen: unknown, cfg: ModelConfig): number[] {
  if (!isRecord(gen) || gen.eos_token_id === undefined || gen.eos_token_id === null) return [];
  const v = gen.eos_token_id;
  const ids = Array.isArray(v) ? v : [v];
  for (const id of ids) {
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0 || id >= cfg.vocabSize) {
      throw new ModelFormatError('generation_config.json', `eos_token_id must be token id(s) in [0, ${cfg.vocabSize}), got ${JSON.stringify(v)}`);
    }
  }
  return ids as number[];
}

/** Every tensor of one weight file must be expected (or harmless), in its listed shard, once, with the right shape. */
function checkShardHeader(
  header: SafetensorsHeader,
  file: string,
  ctx: { config: ModelConfig; expected: Map<string, number[]>; assigned: Map<string, string>; seenIn: Map<string, string> },
): void {
  const { config, expected, assigned, seenIn } = ctx;
  for (const [name, entry] of header.tensors) {
    const prev = seenIn.get(name);
    if (prev !== undefined) throw new ModelFormatError(file, `tensor ${name} also appears in ${prev}`);
    seenIn.set(name, file);
    const shape = expected.get(name);
    if (shape === undefined) {
      if (isHarmlessExtra(name, config)) continue;
      throw new ModelFormatError(file, `unexpected tensor ${name} for a ${config.family} model with this config`);
    }
    const want = assigned.get(name);
    if (want !== undefined && want !== file) {
      throw new ModelFormatError(file, `tensor ${name} is listed in ${INDEX_FILE} under ${want}`);
    }
    if (entry.shape.length !== shape.length || entry.shape.some((d, i) => d !== shape[i])) {
      throw new ModelFormatError(file, `tensor ${name} has shape [${entry.shape.join(', ')}], expected [${shape.join(', ')}]`);
    }
  }
  for (const [name, file2] of assigned) {
    if (file2 === file && expected.has(name) && !header.tensors.has(name)) {
      throw new ModelFormatError(file, `missing tensor ${name} (listed in ${INDEX_FILE})`);
    }
  }
}

export async function loadCheckpoint(src: FileSource, opts: LoadCheckpointOptions = {}): Promise<LoadedCheckpoint> {
  if (!(await src.has('config.json'))) throw new ModelFormatError('config.json', `missing from ${src.label}`);
  const config = parseModelConfig(await readJson(src, 'config.json'));
  checkModelLimits(config, opts.limits);
  const expected = expectedWeights(config);
  checkTensorSizes(expected, opts.maxTensorBytes);

  // Where each tensor should be found.
  let assigned: Map<string, string>;
  let listFile: string;
  if (await src.has(SINGLE_FILE)) {
    listFile = SINGLE_FILE;
    assigned = new Map();
  } else if (await src.has(INDEX_FILE)) {
    listFile = INDEX_FILE;
    assigned = await readIndex(src);
    for (const name of expected.keys()) {
      if (!assigned.has(name)) throw new ModelFormatError(INDEX_FILE, `missing tensor ${name} in weight_map`);
    }
    for (const name of assigned.keys()) {
      if (!expected.has(name) && !isHarmlessExtra(name, config)) {
        throw new ModelFormatError(INDEX_FILE, `unexpected tensor ${name} for a ${config.family} model with this config`);
      }
    }
  } else {
    throw new ModelFormatError(SINGLE_FILE, `no ${SINGLE_FILE} or ${INDEX_FILE} in ${src.label}`);
  }
  const files = listFile === SINGLE_FILE ? [SINGLE_FILE] : [...new Set(assigned.values())].sort();

  const weights: WeightMap = new Map();
  const seenIn = new Map<string, string>();
  opts.onProgress?.(0, files.length, files[0]);
  for (let f = 0; f < files.length; f++) {
    const file = files[f];
    if (!(await src.has(file))) throw new ModelFormatError(file, `shard listed in ${INDEX_FILE} is missing from ${src.label}`);
    const reader = await openSafetensors(src, file);
    // Check the whole header before converting anything.
    checkShardHeader(reader.header, file, { config, expected, assigned, seenIn });
    const wanted = [...reader.header.tensors.values()].filter((e) => expected.has(e.name));
    for await (const [entry, t] of reader.readEachF32(wanted)) weights.set(entry.name, t);
    opts.onProgress?.(f + 1, files.length, file);
  }
  for (const name of expected.keys()) {
    if (!weights.has(name)) throw new ModelFormatError(listFile, `missing tensor ${name}`);
  }

  const generationConfig = await readOptionalJson(src, 'generation_config.json');
  const eos = [...new Set([...config.eosTokenIds, ...checkGenerationEos(generationConfig, config)])];
  return {
    config: { ...config, eosTokenIds: eos },
    weights,
    tokenizerJson: await readOptionalJson(src, 'tokenizer.json'),
    tokenizerConfig: await readOptionalJson(src, 'tokenizer_config.json'),
    generationConfig,
  };
}
