/**
 * Serialize a Graph into ONNX ModelProto bytes (field numbers from onnx/onnx.proto).
 */
import { ProtoWriter } from './protobuf';
import { UNKNOWN_DIM, type Attr, type ConstTensor, type ExternalInitializer, type Graph, type GraphNode, type ValueInfo } from './graph';
import { ONNX_DTYPE } from './dtypes';


export const OPSET = 17;
const IR_VERSION = 8;

function tensorProto(name: string, t: ConstTensor): ProtoWriter {
  const w = new ProtoWriter();
  w.packedInts(1, t.dims);
  w.int(2, ONNX_DTYPE[t.dtype]);
  w.string(8, name);
  const d = t.data;
  w.bytes(9, new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
  return w;
}

/** TensorProto.DataLocation EXTERNAL: the bytes are named by `external_data` entries. */
const DATA_LOCATION_EXTERNAL = 1;

function externalTensorProto(t: ExternalInitializer): ProtoWriter {
  const w = new ProtoWriter();
  w.packedInts(1, t.dims);
  w.int(2, ONNX_DTYPE[t.dtype]);
  w.string(8, t.name);
  for (const [key, value] of [['location', t.location], ['offset', '0'], ['length', String(t.byteLength)]]) {
    const entry = new ProtoWriter();
    entry.string(1, key);
    entry.string(2, value);
    w.message(13, entry);
  }
  w.int(14, DATA_LOCATION_EXTERNAL);
  return w;
}

function attrProto(name: string, a: Attr): ProtoWriter {
  const w = new ProtoWriter();
  w.string(1, name);
  switch (a.kind) {
    case 'float':
      w.float(2, a.value);
      w.int(20, 1);
      break;
    case 'int':
      w.int(3, a.value);
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
  for (const [k, a] of Object.entries(n.attrs)) w.message(5, attrProto(k, a));
  if (n.domain) w.string(7, n.domain);
  return w;
}

function valueInfoProto(v: ValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.shape) {
    const dim = new ProtoWriter();
    if (typeof d === 'number') dim.int(1, d);
    else if (d !== UNKNOWN_DIM) dim.string(2, d);
    shape.message(1, dim);
  }
  const tensorType = new ProtoWriter();
  tensorType.int(1, ONNX_DTYPE[v.dtype]);
  tensorType.message(2, shape);
  const type = new ProtoWriter();
  type.message(1, tensorType);
  const w = new ProtoWriter();
  w.string(1, v.name);
  w.message(2, type);
  return w;
}

export interface SerializeOptions {
  producer?: string;
  extraOpsets?: Record<string, number>;
  /**
   * Shapes of intermediate values (ONNX value_info); default the graph's own `valueInfo`.
   * onnxruntime plans buffer reuse from them: a training graph of thousands of nodes whose
   * intermediate shapes it cannot name takes seconds to plan.
   */
  valueInfo?: readonly ValueInfo[];
}

export function serializeGraph(g: Graph, opts: SerializeOptions = {}): Uint8Array {
  const graph = new ProtoWriter();
  for (const n of g.nodes) graph.message(1, nodeProto(n));
  graph.string(2, g.name);
  for (const init of g.initializers) graph.message(5, tensorProto(init.name, init.tensor));
  for (const ext of g.externalInitializers) graph.message(5, externalTensorProto(ext));
  for (const i of g.inputs) graph.message(11, valueInfoProto(i));
  for (const o of g.outputs) graph.message(12, valueInfoProto(o));
  for (const v of opts.valueInfo ?? g.valueInfo) graph.message(13, valueInfoProto(v));

  const model = new ProtoWriter();
  model.int(1, IR_VERSION);
  model.string(2, opts.producer ?? 'pmd-lab');
  model.string(3, '0.1');
  model.message(7, graph);
  const opsets: Record<string, number> = { '': OPSET, ...(opts.extraOpsets ?? {}) };
  for (const [domain, version] of Object.entries(opsets)) {
    const os = new ProtoWriter();
    if (domain) os.string(1, domain);
    os.int(2, version);
    model.message(8, os);
  }
  return model.finish();
}
