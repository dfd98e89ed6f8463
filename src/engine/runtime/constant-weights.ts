/**
 * Weights as constants of one session instead of inputs shared by all of them. onnxruntime's CPU
 * kernels pre-pack a constant Gemm/MatMul operand once, at session creation, into the layout
 * their inner loops read; an operand fed as an input is packed again on every call. In a decode
 * step of a few rows that packing took a fifth to a third of the time (docs/benchmarks.md), so generation's decode sessions on onnxruntime-node take the weights as
 * external-data initializers: the bytes are handed over from memory, never written into the
 * serialized model (which could not hold 2.4 GB anyway) nor to disk.
 */
import type { DType, Graph } from '../onnx/graph';
import type { SessionOptions } from './ort-types';
import type { TensorMap } from './graph-session';

const DTYPES: Partial<Record<string, DType>> = { float32: 'float32', float16: 'float16' };

/**
 * Turn every graph input that names one of `weights` into an external initializer (in place) and
 * return the session options that hand the runtime its bytes. Weights must be host tensors.
 */
export function bakeWeights(graph: Graph, weights: TensorMap): SessionOptions {
  // one external-data "file" per tensor, as onnxruntime-node's `externalData` option takes them
  const files: { path: string; data: Uint8Array }[] = [];
  const keep = [];
  for (const input of graph.inputs) {
    const t = weights[input.name];
    if (!t) {
      keep.push(input);
      continue;
    }
    const dtype = DTYPES[t.type];
    if (!dtype || t.location !== 'cpu') throw new Error(`cannot bake weight ${input.name}: a ${t.type} tensor on ${t.location}`);
    const d = t.data as Float32Array | Uint16Array;
    const path = `w${files.length}.bin`;
    graph.externalInitializers.push({ name: input.name, dtype, dims: [...t.dims], location: path, byteLength: d.byteLength });
    files.push({ path, data: new Uint8Array(d.buffer, d.byteOffset, d.byteLength) });
  }
  graph.inputs.splice(0, graph.inputs.length, ...keep);
  return { externalData: files };
}
