/**
 * Upload a checkpoint's weights to a backend, checked against the layout the graphs expect.
 * Shared by the ModelRunner (generation) and the Trainer (when it is given host weights).
 */
import { f32ArrayToF16 } from '../onnx/half';
import type { ModelConfig, WeightMap } from '../models/types';
import { expectedWeights } from '../models/weight-layout';
import type { EngineBackend, OrtTensor } from './ort-types';

/** Bytes per upload call: the host never holds a converted copy of more than this at once. */
export const UPLOAD_CHUNK_BYTES = 256 * 2 ** 20;

export async function uploadModelWeights(
  backend: EngineBackend,
  cfg: ModelConfig,
  w: WeightMap,
  onProgress?: (done: number, total: number) => void,
): Promise<Map<string, OrtTensor>> {
  const layout = [...expectedWeights(cfg)];
  for (const [name, dims] of layout) {
    const t = w.get(name);
    if (!t) throw new Error(`weight ${name} is missing`);
    if (t.dims.join(',') !== dims.join(',')) throw new Error(`weight ${name} has shape [${t.dims}], expected [${dims}]`);
  }
  const fp16 = backend.weightDtype === 'float16';
  const out = new Map<string, OrtTensor>();
  let chunk: string[] = [];
  let bytes = 0;
  const flush = async () => {
    if (chunk.length === 0) return;
    const entries = chunk.map((name) => {
      const t = w.get(name)!;
      return { name, dims: t.dims, data: fp16 ? f32ArrayToF16(t.data) : t.data };
    });
    const tensors = backend.uploadWeights
      ? await backend.uploadWeights(entries)
      : await Promise.all(entries.map((e) => backend.uploadWeight(e.name, e.dims, e.data)));
    entries.forEach((e, i) => out.set(e.name, tensors[i]));
    onProgress?.(out.size, layout.length);
    chunk = [];
    bytes = 0;
  };
  for (const [name] of layout) {
    const size = w.get(name)!.data.byteLength / (fp16 ? 2 : 1);
    if (bytes + size > UPLOAD_CHUNK_BYTES) await flush();
    chunk.push(name);
    bytes += size;
  }
  await flush();
  return out;
}
