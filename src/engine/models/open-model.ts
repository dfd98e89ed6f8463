/**
 * Open a model folder of either kind users have: a Hugging Face safetensors checkpoint, or an
 * onnx-community export (config.json + onnx/model*.onnx) whose weights are read back out.
 */
import { loadCheckpoint, readJson, INDEX_FILE, SINGLE_FILE, type LoadCheckpointOptions, type LoadedCheckpoint } from './checkpoint';
import { parseModelConfig } from './config';
import { checkModelLimits } from './limits';
import { checkFinite } from './finite-weights';
import { ModelFormatError, type FileSource } from './types';

/** ONNX files we look for, best precision first. */
export const ONNX_CANDIDATES = ['onnx/model.onnx', 'model.onnx', 'onnx/model_fp16.onnx', 'onnx/model_q4.onnx', 'onnx/model_q4f16.onnx'];

async function optionalJson(src: FileSource, file: string): Promise<unknown | null> {
  return (await src.has(file)) ? readJson(src, file) : null;
}

export async function openModel(src: FileSource, opts: LoadCheckpointOptions = {}): Promise<LoadedCheckpoint> {
  if (!(await src.has('config.json'))) throw new ModelFormatError(`${src.label}/config.json`, 'missing: a model folder needs its config.json');
  if ((await src.has(SINGLE_FILE)) || (await src.has(INDEX_FILE))) return loadCheckpoint(src, opts);
  for (const file of ONNX_CANDIDATES) {
    if (!(await src.has(file))) continue;
    const config = parseModelConfig(await readJson(src, 'config.json'));
    checkModelLimits(config, opts.limits);
    const { importOnnxWeights } = await import('./onnx-import/import');
    const bytes = await src.bytes(file);
    const dir = file.includes('/') ? file.slice(0, file.lastIndexOf('/') + 1) : '';
    const weights = await importOnnxWeights(bytes, config, {
      fileName: file,
      externalDataSize: src.size ? (location) => src.size!(dir + location) : undefined,
      externalData: async (location, offset, length) => {
        const name = dir + location;
        if (src.range) return src.range(name, offset, offset + length);
        return (await src.bytes(name)).subarray(offset, offset + length);
      },
    });
    for (const [name, t] of weights) checkFinite(t.data, file, name);
    opts.onProgress?.(1, 1, file);
    return {
      config,
      weights,
      tokenizerJson: await optionalJson(src, 'tokenizer.json'),
      tokenizerConfig: await optionalJson(src, 'tokenizer_config.json'),
      generationConfig: await optionalJson(src, 'generation_config.json'),
    };
  }
  throw new ModelFormatError(src.label, `no weights found: expected ${SINGLE_FILE}, ${INDEX_FILE} or one of ${ONNX_CANDIDATES.join(', ')}`);
}
