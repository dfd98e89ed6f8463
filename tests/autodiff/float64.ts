/**
 * Test-only serializer that writes a Graph with every float32 tensor, value and Cast target
 * turned into float64 (ONNX DOUBLE), so gradient graphs can be checked against finite
 * differences without float32 rounding noise. The IR has no float64 dtype; this mirrors
 * src/engine/onnx/serialize.ts field by field and only changes the element type.
 */
import { ProtoWriter } from '../../src/engine/onnx/protobuf';
import { ONNX_DTYPE, OPSET } from '../../src/engine/onnx/serialize';
import type { Attr, ConstTensor, DType, Graph, GraphNode, ValueInfo } from '../../src/engine/onnx/graph';

const DOUBLE = 11;
const code = (d: DType): number => (d === 'float32' ? DOUBLE : ONNX_DTYPE[d]);

function tensorProto(name: string, t: ConstTensor): ProtoWriter {
  const w = new ProtoWriter();
  w.packedInts(1, t.dims);
  w.int(2, code(t.dtype));
  w.string(8, name);
  const d = t.dtype === 'float32' ? Float64Array.from(t.data as Float32Array) : t.data;
  w.bytes(9, new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  return w;
}

function attrProto(node: GraphNode, name: string, a: Attr): ProtoWriter {
  const w = new ProtoWriter();
  w.string(1, name);
  switch (a.kind) {
    case 'float':
      w.float(2, a.value);
      w.int(20, 1);
      break;
    case 'int':
      w.int(3, node.opType === 'Cast' && name === 'to' && a.value === 1 ? DOUBLE : a.value);
      w.int(20, 2);
      break;
    case 'string':
      w.string(4, a.value);
      w.int(20, 3);
      break;
    case 'tensor':
      w.message(5, tensorProto('', a.value));
      w.int(20, 4);
      break;
    case 'floats':
      w.packedFloats(7, a.value);
      w.int(20, 6);
      break;
    case 'ints':
      w.packedInts(8, a.value);
      w.int(20, 7);
      break;
  }
  return w;
}

function nodeProto(n: GraphNode): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name);
  w.string(4, n.opType);
  for (const [k, a] of Object.entries(n.attrs)) w.message(5, attrProto(n, k, a));
  if (n.domain) w.string(7, n.domain);
  return w;
}

function valueInfoProto(v: ValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.shape) {
    const dim = new ProtoWriter();
    if (typeof d === 'number') dim.int(1, d);
    else dim.string(2, d);
    shape.message(1, dim);
  }
  const tensorType = new ProtoWriter();
  tensorType.int(1, code(v.dtype));
  tensorType.message(2, shape);
  const type = new ProtoWriter();
  type.message(1, tensorType);
  const w = new ProtoWriter();
  w.string(1, v.name);
  w.message(2, type);
  return w;
}

export function serializeAsFloat64(g: Graph): Uint8Array {
  if (g.nodes.some((n) => n.opType === 'Cast' && n.attrs.to?.kind === 'int' && n.attrs.to.value === 10)) throw new Error('float64 serialization of fp16 graphs is not supported');
  const graph = new ProtoWriter();
  for (const n of g.nodes) graph.message(1, nodeProto(n));
  graph.string(2, g.name);
  for (const init of g.initializers) graph.message(5, tensorProto(init.name, init.tensor));
  for (const i of g.inputs) graph.message(11, valueInfoProto(i));
  for (const o of g.outputs) graph.message(12, valueInfoProto(o));
  const model = new ProtoWriter();
  model.int(1, 8);
  model.string(2, 'pmd-lab-tests');
  model.string(3, '0.1');
  model.message(7, graph);
  const os = new ProtoWriter();
  os.int(2, OPSET);
  model.message(8, os);
  return model.finish();
}
