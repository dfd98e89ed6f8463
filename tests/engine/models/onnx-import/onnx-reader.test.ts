import { describe, expect, it } from 'vitest';
import { Graph, attr } from '../../../../src/engine/onnx/graph';
import { ProtoWriter } from '../../../../src/engine/onnx/protobuf';
import { serializeGraph, OPSET } from '../../../../src/engine/onnx/serialize';
import {
  AttrType,
  decodeModel,
  OnnxDecodeError,
  ProtoReader,
  tensorValues,
  unpackNibbles,
  type OnnxTensor,
  type TensorValues,
} from '../../../../src/engine/models/onnx-import/onnx-reader';
import { OnnxDataType } from '../../../../src/engine/onnx/dtypes';

const list = (v: TensorValues) => Array.from(v as ArrayLike<number | bigint>);
import { concatBytes, externalTensorProto, fromF16Bits, toF16Bits } from './helpers';

function sampleGraph(): Graph {
  const g = new Graph('sample');
  const x = g.input('x', 'float32', ['batch', 3]);
  g.initializer('w_f32', { dtype: 'float32', dims: [3, 2], data: Float32Array.from([1.5, -2, 0.25, 3, -1e-3, 1e30]) });
  // 1, -0.5, 65504, the smallest subnormal (2^-24), -infinity
  g.initializer('w_f16', { dtype: 'float16', dims: [5], data: Uint16Array.from([toF16Bits(1), toF16Bits(-0.5), toF16Bits(65504), 0x0001, 0xfc00]) });
  g.initializer('i64', { dtype: 'int64', dims: [4], data: BigInt64Array.from([0n, -1n, 9_007_199_254_740_993n, -9_223_372_036_854_775_808n]) });
  g.initializer('i32', { dtype: 'int32', dims: [3], data: Int32Array.from([-2147483648, 7, 2147483647]) });
  g.initializer('u8', { dtype: 'uint8', dims: [2, 3], data: Uint8Array.from([0, 1, 2, 253, 254, 255]) });
  g.initializer('flags', { dtype: 'bool', dims: [2], data: Uint8Array.from([1, 0]) });
  g.initializer('scalar', { dtype: 'float32', dims: [], data: Float32Array.of(0.5) });
  const y = g.op('MatMul', [x, 'w_f32']);
  g.customNode('com.example', 'Custom', [y], {
    alpha: attr.float(0.125),
    axis: attr.int(-3),
    big: attr.int(2 ** 40 + 1),
    perm: attr.ints([1, 0, -1, 123456789]),
    coeffs: attr.floats([0.5, -1.25]),
    mode: attr.string('nearest-ünïcode'),
    value: attr.tensor({ dtype: 'int64', dims: [2], data: BigInt64Array.from([3n, -4n]) }),
  }, ['out']);
  g.output('out', 'float32', ['batch', 2]);
  return g;
}

/** Minimal ModelProto around hand-written GraphProto bytes. */
function modelAround(graph: ProtoWriter): Uint8Array {
  const m = new ProtoWriter();
  m.int(1, 8);
  m.message(7, graph);
  const os = new ProtoWriter();
  os.int(2, 17);
  m.message(8, os);
  return m.finish();
}

describe('ONNX decoder', () => {
  it('round-trips a graph written by serializeGraph: nodes, attributes, initializers of each dtype, inputs, outputs', () => {
    const g = sampleGraph();
    const m = decodeModel(serializeGraph(g, { producer: 'unit', extraOpsets: { 'com.example': 3 } }));
    expect(m.irVersion).toBe(8);
    expect(m.producerName).toBe('unit');
    expect(m.opsetImports).toEqual([
      { domain: '', version: OPSET },
      { domain: 'com.example', version: 3 },
    ]);
    expect(m.graph.name).toBe('sample');
    expect(m.graph.inputs).toEqual([{ name: 'x', elemType: OnnxDataType.FLOAT, shape: ['batch', 3] }]);
    expect(m.graph.outputs).toEqual([{ name: 'out', elemType: OnnxDataType.FLOAT, shape: ['batch', 2] }]);

    expect(m.graph.nodes.map((n) => [n.opType, n.domain, n.inputs, n.outputs])).toEqual([
      ['MatMul', '', ['x', 'w_f32'], [g.nodes[0].outputs[0]]],
      ['Custom', 'com.example', [g.nodes[0].outputs[0]], ['out']],
    ]);
    expect(m.graph.nodes[0].name).toBe(g.nodes[0].name);
    const a = m.graph.nodes[1].attributes;
    expect(a.get('alpha')).toMatchObject({ type: AttrType.FLOAT, f: 0.125 });
    expect(a.get('axis')).toMatchObject({ type: AttrType.INT, i: -3 });
    expect(a.get('big')?.i).toBe(2 ** 40 + 1);
    expect(a.get('perm')).toMatchObject({ type: AttrType.INTS, ints: [1, 0, -1, 123456789] });
    expect(a.get('coeffs')).toMatchObject({ type: AttrType.FLOATS, floats: [0.5, -1.25] });
    expect(a.get('mode')).toMatchObject({ type: AttrType.STRING, s: 'nearest-ünïcode' });
    const t = a.get('value')!.t!;
    expect(a.get('value')!.type).toBe(AttrType.TENSOR);
    expect(t.dims).toEqual([2]);
    expect(list(tensorValues(t))).toEqual([3n, -4n]);

    const inits = new Map(m.graph.initializers.map((t) => [t.name, t]));
    const vals = (n: string) => tensorValues(inits.get(n)!);
    expect(inits.get('w_f32')!.dims).toEqual([3, 2]);
    expect(list(vals('w_f32'))).toEqual(Array.from(Float32Array.from([1.5, -2, 0.25, 3, -1e-3, 1e30])));
    expect(inits.get('w_f16')!.dataType).toBe(OnnxDataType.FLOAT16);
    expect(list(vals('w_f16'))).toEqual([1, -0.5, 65504, 2 ** -24, -Infinity]);
    expect(list(vals('i64'))).toEqual([0n, -1n, 9_007_199_254_740_993n, -9_223_372_036_854_775_808n]);
    expect(list(vals('i32'))).toEqual([-2147483648, 7, 2147483647]);
    expect(list(vals('u8'))).toEqual([0, 1, 2, 253, 254, 255]);
    expect(vals('u8')).toBeInstanceOf(Uint8Array);
    expect(list(vals('flags'))).toEqual([1, 0]);
    expect(inits.get('scalar')!.dims).toEqual([]);
    expect(list(vals('scalar'))).toEqual([0.5]);
  });

  it('decodes float_data, int32_data (fp16 bits, int8), int64_data (unpacked), double_data, int4 and external data references', () => {
    const graph = new ProtoWriter();
    const tensor = (name: string, dataType: number, dims: number[], fill: (w: ProtoWriter) => void) => {
      const w = new ProtoWriter();
      for (const d of dims) w.int(1, d); // unpacked dims
      w.int(2, dataType);
      w.string(8, name);
      fill(w);
      graph.message(5, w);
    };
    tensor('fd', OnnxDataType.FLOAT, [3], (w) => w.packedFloats(4, [1.25, -3, 7]));
    tensor('fd_unpacked', OnnxDataType.FLOAT, [2], (w) => {
      w.float(4, 0.5);
      w.float(4, -0.75);
    });
    tensor('h', OnnxDataType.FLOAT16, [3], (w) => w.packedInts(5, [toF16Bits(1), toF16Bits(-2.5), toF16Bits(0.099975586)]));
    tensor('i8', OnnxDataType.INT8, [3], (w) => w.packedInts(5, [-128, 0, 127]));
    tensor('l', OnnxDataType.INT64, [2], (w) => {
      w.int(7, -5);
      w.int(7, 1n << 40n);
    });
    tensor('d', OnnxDataType.DOUBLE, [2], (w) => {
      const b = new Uint8Array(16);
      new DataView(b.buffer).setFloat64(0, 0.1, true);
      new DataView(b.buffer).setFloat64(8, -2, true);
      w.bytes(10, b);
    });
    tensor('bf', OnnxDataType.BFLOAT16, [2], (w) => w.bytes(9, Uint8Array.from([0x80, 0x3f, 0x40, 0xc0]))); // 1, -3
    tensor('q4', OnnxDataType.INT4, [3], (w) => w.bytes(9, Uint8Array.from([0x8f, 0x07]))); // -1, -8, 7
    tensor('u4', OnnxDataType.UINT4, [3], (w) => w.bytes(9, Uint8Array.from([0x8f, 0x07]))); // 15, 8, 7
    graph.message(5, externalTensorProto('ext', OnnxDataType.FLOAT, [4, 2], { location: 'model.onnx_data', offset: '4096', length: '32' }));
    const m = decodeModel(modelAround(graph));
    const t = new Map(m.graph.initializers.map((x) => [x.name, x]));
    const v = (n: string) => Array.from(tensorValues(t.get(n)!) as ArrayLike<number | bigint>);
    expect(v('fd')).toEqual([1.25, -3, 7]);
    expect(v('fd_unpacked')).toEqual([0.5, -0.75]);
    expect(v('h')).toEqual([1, -2.5, fromF16Bits(toF16Bits(0.099975586))]);
    expect(v('i8')).toEqual([-128, 0, 127]);
    expect(v('l')).toEqual([-5n, 1n << 40n]);
    expect(v('d')).toEqual([Math.fround(0.1), -2]);
    expect(v('bf')).toEqual([1, -3]);
    expect(v('q4')).toEqual([-1, -8, 7]);
    expect(v('u4')).toEqual([15, 8, 7]);
    const ext = t.get('ext')!;
    expect(ext.externalData).toEqual({ location: 'model.onnx_data', offset: 4096, length: 32, entries: { location: 'model.onnx_data', offset: '4096', length: '32' } });
    expect(() => tensorValues(ext)).toThrow(/external file "model.onnx_data"/);
    const raw = new Uint8Array(32);
    new Float32Array(raw.buffer).set([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(list(tensorValues(ext, raw))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(() => tensorValues(ext, raw.subarray(0, 28))).toThrow(/28 bytes, expected 32/);
  });

  it('decodes Constant nodes, subgraph attributes, metadata and merges repeated graph fields', () => {
    const g = new Graph('outer');
    g.input('c', 'bool', []);
    g.nodes.push({ name: 'k', opType: 'Constant', inputs: [], outputs: ['kv'], domain: '', attrs: { value: attr.tensor({ dtype: 'float32', dims: [2], data: Float32Array.from([4, 5]) }) } });
    const base = serializeGraph(g);
    // An If node with a then_branch subgraph, appended as a second `graph` field (protobuf merge).
    const sub = new ProtoWriter();
    const inner = new ProtoWriter();
    inner.string(1, 'kv');
    inner.string(2, 'inner_out');
    inner.string(3, '/model/layers.0/self_attn/q_proj/MatMul');
    inner.string(4, 'Identity');
    sub.message(1, inner);
    sub.string(2, 'then');
    const ifNode = new ProtoWriter();
    ifNode.string(1, 'c');
    ifNode.string(2, 'y');
    ifNode.string(3, 'if');
    ifNode.string(4, 'If');
    const a = new ProtoWriter();
    a.string(1, 'then_branch');
    a.message(6, sub);
    a.int(20, AttrType.GRAPH);
    ifNode.message(5, a);
    const extraGraph = new ProtoWriter();
    extraGraph.message(1, ifNode);
    const tail = new ProtoWriter();
    tail.message(7, extraGraph);
    const meta = new ProtoWriter();
    meta.string(1, 'author');
    meta.string(2, 'me');
    tail.message(14, meta);
    const m = decodeModel(concatBytes(base, tail.finish()));
    expect(m.graph.name).toBe('outer');
    expect(m.graph.nodes.map((n) => n.opType)).toEqual(['Constant', 'If']);
    expect(list(tensorValues(m.graph.nodes[0].attributes.get('value')!.t!))).toEqual([4, 5]);
    const then = m.graph.nodes[1].attributes.get('then_branch')!;
    expect(then.type).toBe(AttrType.GRAPH);
    expect(then.g!.nodes[0]).toMatchObject({ name: '/model/layers.0/self_attn/q_proj/MatMul', opType: 'Identity', inputs: ['kv'] });
    expect(m.metadata).toEqual({ author: 'me' });
  });

  it('throws OnnxDecodeError (never another error) for every truncation and for corrupted bytes', () => {
    const bytes = serializeGraph(sampleGraph());
    for (let cut = 0; cut < bytes.length; cut++) {
      let err: unknown = null;
      try {
        decodeModel(bytes.subarray(0, cut));
      } catch (e) {
        err = e;
      }
      // A cut exactly between top-level fields can leave a valid (shorter) model; anything else must fail cleanly.
      if (err !== null) expect(err, `cut at ${cut}`).toBeInstanceOf(OnnxDecodeError);
    }
    expect(() => decodeModel(bytes.subarray(0, bytes.length - 3))).toThrow(OnnxDecodeError);
    expect(() => decodeModel(new Uint8Array(0))).toThrow(/empty/);
    expect(() => decodeModel(new TextEncoder().encode('{"not": "onnx"}'))).toThrow(OnnxDecodeError);

    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
    for (let trial = 0; trial < 300; trial++) {
      const c = bytes.slice();
      for (let f = 0; f < 3; f++) c[Math.floor(rand() * c.length)] = Math.floor(rand() * 256);
      try {
        const m = decodeModel(c);
        for (const t of m.graph.initializers) {
          try {
            tensorValues(t);
          } catch (e) {
            expect(e).toBeInstanceOf(OnnxDecodeError);
          }
        }
      } catch (e) {
        expect(e, `trial ${trial}`).toBeInstanceOf(OnnxDecodeError);
      }
    }
  });

  it('bounds-checks the wire reader', () => {
    const r = new ProtoReader(Uint8Array.from([0x80, 0x80]), 0, 2, 'T');
    expect(() => r.varint()).toThrow(/T: truncated varint at byte 0/);
    const big = new ProtoReader(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), 0, 10);
    expect(() => big.varint()).toThrow(/larger than 2\^53/);
    const neg = new ProtoReader(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), 0, 10);
    expect(neg.int64()).toBe(-1);
    const len = new ProtoReader(Uint8Array.from([0x05, 1, 2]), 0, 3, 'T');
    expect(() => len.bytes()).toThrow(/runs past the end/);
    const wire = new ProtoReader(Uint8Array.from([0x0f]), 0, 1, 'T');
    const tag = wire.tag();
    expect(() => wire.skip(tag.wire, tag.field)).toThrow(/unknown wire type 7/);
    expect(() => new ProtoReader(new Uint8Array(4), 2, 8)).toThrow(OnnxDecodeError);
  });

  it('rejects inconsistent tensor payloads with a message naming the tensor', () => {
    const mk = (over: Partial<OnnxTensor>): OnnxTensor => ({
      name: 'w',
      dims: [2, 2],
      dataType: OnnxDataType.FLOAT,
      rawData: null,
      floatData: null,
      int32Data: null,
      int64Data: null,
      doubleData: null,
      uint64Data: null,
      stringData: null,
      externalData: null,
      docString: '',
      ...over,
    });
    expect(() => tensorValues(mk({ rawData: new Uint8Array(12) }))).toThrow(/tensor "w".*12 bytes, expected 16/);
    expect(() => tensorValues(mk({ floatData: [1, 2, 3] }))).toThrow(/float_data has 3 values, expected 4/);
    expect(() => tensorValues(mk({ dataType: OnnxDataType.STRING, stringData: [] }))).toThrow(/unsupported/);
    expect(Array.from(unpackNibbles(Uint8Array.from([0x21, 0x43]), 3, false))).toEqual([1, 2, 3]);
  });
});
