import { describe, expect, it } from 'vitest';
import { makeTinyCheckpoint } from '../../../scripts/tiny-model';
import { MemorySource } from '../../../src/engine/models/sources';
import { openModel } from '../../../src/engine/models/open-model';
import { ModelRunner } from '../../../src/engine/runtime/model-runner';
import { nodeCpuBackend } from '../../../src/engine/runtime/node-backend';
import { leftPadBatch } from '../../../src/engine/runtime/batch';
import type { WeightMap, ModelConfig } from '../../../src/engine/models/types';
import { writeOptimumStyle } from './onnx-import/helpers';

async function logitsOf(cfg: ModelConfig, w: WeightMap, ids: number[]) {
  const r = new ModelRunner(cfg, nodeCpuBackend());
  await r.loadWeights(w);
  const out = await r.forward({ ...leftPadBatch([ids], 0), logits: 'all', wantKv: false });
  await r.release();
  return out.logits;
}

describe('openModel', () => {
  it('opens an onnx-community style folder (config.json + onnx/model.onnx) to the same model as its safetensors', async () => {
    const files = makeTinyCheckpoint({ family: 'qwen2', seed: 12 });
    const fromSafetensors = await openModel(new MemorySource(files, 'st'));
    const onnx = writeOptimumStyle(fromSafetensors.config, fromSafetensors.weights, { dtype: 'float32', linear: 'matmul' }).finish();
    const folder = new Map<string, Uint8Array>([
      ['config.json', files.get('config.json')!],
      ['tokenizer.json', files.get('tokenizer.json')!],
      ['onnx/model.onnx', onnx],
    ]);
    const fromOnnx = await openModel(new MemorySource(folder, 'onnx-export'));
    expect(fromOnnx.tokenizerJson).not.toBeNull();
    const ids = [3, 14, 15, 92, 65];
    const a = await logitsOf(fromSafetensors.config, fromSafetensors.weights, ids);
    const b = await logitsOf(fromOnnx.config, fromOnnx.weights, ids);
    expect(Array.from(b)).toEqual(Array.from(a));
  });

  it('refuses NaN weights in an ONNX export, naming the file and tensor', async () => {
    const files = makeTinyCheckpoint({ family: 'qwen2', seed: 12 });
    const ck = await openModel(new MemorySource(files, 'st'));
    ck.weights.get('model.layers.1.mlp.up_proj.weight')!.data[3] = NaN;
    const onnx = writeOptimumStyle(ck.config, ck.weights, { dtype: 'float32', linear: 'matmul' }).finish();
    const folder = new Map<string, Uint8Array>([['config.json', files.get('config.json')!], ['onnx/model.onnx', onnx]]);
    await expect(openModel(new MemorySource(folder, 'onnx-export'))).rejects.toThrow(
      /^onnx\/model\.onnx: tensor "model\.layers\.1\.mlp\.up_proj\.weight": element \d+ is NaN; weights must be finite/,
    );
  });

  it('checks the config against the limits before importing an ONNX export', async () => {
    const files = makeTinyCheckpoint({ family: 'qwen2', seed: 12 });
    const config = { ...JSON.parse(new TextDecoder().decode(files.get('config.json')!)), num_hidden_layers: 1e7 };
    const folder = new Map<string, Uint8Array>([['config.json', new TextEncoder().encode(JSON.stringify(config))], ['onnx/model.onnx', new Uint8Array(4)]]);
    await expect(openModel(new MemorySource(folder, 'onnx-export'))).rejects.toThrow(/^config\.json: this config implies .*num_hidden_layers 10000000 x/);
  });

  it('names the folder and what it looked for when there are no weights', async () => {
    const files = makeTinyCheckpoint({ family: 'llama', seed: 1 });
    const folder = new Map([['config.json', files.get('config.json')!]]);
    await expect(openModel(new MemorySource(folder, 'empty-folder'))).rejects.toThrow(/empty-folder.*model\.safetensors/);
    await expect(openModel(new MemorySource(new Map(), 'nothing'))).rejects.toThrow(/config\.json/);
  });
});
