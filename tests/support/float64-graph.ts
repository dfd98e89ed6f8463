/**
 * Test-only: a copy of a Graph with every float32 tensor, value and Cast target turned into
 * float64, serialized with the ordinary writer, so gradient graphs can be checked against finite
 * differences without float32 rounding noise.
 */
import { attr, Graph, type ConstTensor, type DType, type ValueInfo } from '../../src/engine/onnx/graph';
import { serializeGraph } from '../../src/engine/onnx/serialize';
import { ONNX_DTYPE } from '../../src/engine/onnx/dtypes';

const widen = (d: DType): DType => (d === 'float32' ? 'float64' : d);
const widenInfo = (v: ValueInfo): ValueInfo => ({ ...v, dtype: widen(v.dtype) });
const widenTensor = (t: ConstTensor): ConstTensor =>
  t.dtype === 'float32' ? { dtype: 'float64', dims: t.dims, data: Float64Array.from(t.data as Float32Array) } : t;

export function toFloat64Graph(g: Graph): Graph {
  const out = new Graph(g.name);
  out.inputs.push(...g.inputs.map(widenInfo));
  out.outputs.push(...g.outputs.map(widenInfo));
  out.initializers.push(...g.initializers.map((i) => ({ name: i.name, tensor: widenTensor(i.tensor) })));
  for (const n of g.nodes) {
    const attrs = { ...n.attrs };
    for (const [k, a] of Object.entries(attrs)) {
      if (a.kind === 'tensor') attrs[k] = attr.tensor(widenTensor(a.value));
      if (n.opType === 'Cast' && k === 'to' && a.kind === 'int') {
        if (a.value === ONNX_DTYPE.float16) throw new Error('float64 serialization of fp16 graphs is not supported');
        if (a.value === ONNX_DTYPE.float32) attrs[k] = attr.int(ONNX_DTYPE.float64);
      }
    }
    out.nodes.push({ ...n, attrs });
  }
  return out;
}

export function serializeAsFloat64(g: Graph): Uint8Array {
  return serializeGraph(toFloat64Graph(g), { producer: 'pmd-lab-float64-test' });
}
