/**
 * Smoke-test worker: initializes onnxruntime-web and reports which backend it got ('probe'),
 * or builds one small graph per group of ops used by the decoder graphs, runs each on the
 * chosen backend and posts inputs and outputs back ('ops') so a test can check them against
 * a plain-JS computation. Every case is its own session, so one unsupported op does not hide
 * the others.
 */
import { attr, Graph, type DType } from '../../src/engine/onnx/graph';
import { f16ToF32Bits, f32BitsToF16, f32Bits, f32FromBits } from '../../src/engine/onnx/half';
import { serializeGraph } from '../../src/engine/onnx/serialize';
import { createSession, getOrtDevice, initOrtWeb, type OrtWebRuntime } from '../../src/engine/runtime/ort-web';
import { createGpuTensor } from './gpu-tensor';

export interface SmokeBackendInfo {
  backend: 'webgpu' | 'wasm';
  adapterInfo: string;
  shaderF16: boolean;
  maxBufferBytes: number;
  maxStorageBindingBytes: number;
  fallbackReason?: string;
  ortVersion: string;
  initMs: number;
}

/** A tensor as plain JSON: int64 values are converted to numbers. */
export interface JsonTensor {
  dtype: DType;
  dims: number[];
  data: number[];
}

export interface OpCaseResult {
  name: string;
  /** ONNX op types the case exercises. */
  ops: string[];
  /** false: informational only (e.g. float16 on an adapter without shader-f16). */
  required: boolean;
  ok: boolean;
  error?: string;
  inputs: Record<string, JsonTensor>;
  outputs: Record<string, JsonTensor>;
  /** Session creation + first run, in ms. */
  ms: number;
  /** Nodes ORT placed on the CPU EP instead of the requested one, as "OpType (node name)". */
  cpuNodes: string[];
  /** WebGPU programs that ran (e.g. "MatMulNaive", "Softmax"); empty on wasm. */
  gpuPrograms: string[];
}

export type SmokeRequest = { type: 'probe'; preferWebGpu?: boolean } | { type: 'ops'; preferWebGpu?: boolean };
export type SmokeResponse =
  | { type: 'probe'; info: SmokeBackendInfo }
  | { type: 'ops'; info: SmokeBackendInfo; cases: OpCaseResult[]; totalMs: number }
  | { type: 'error'; message: string };

interface CaseInput {
  dtype: DType;
  dims: number[];
  data: Float32Array | BigInt64Array | Uint16Array;
}

interface OpCase {
  name: string;
  ops: string[];
  required?: boolean;
  /** Declare the inputs (names must match `inputs`) and outputs of the graph. */
  build(g: Graph): void;
  inputs: Record<string, CaseInput>;
  /** Feed inputs from GPU buffers and keep outputs on the GPU (WebGPU only). */
  gpuIo?: boolean;
}

/** Deterministic test values in [-scale, scale]. */
function values(n: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = scale * Math.sin(seed * 12.9898 + i * 78.233 + 0.5 * i * i);
  return out;
}

const count = (dims: number[]): number => dims.reduce((a, b) => a * b, 1);
const f32 = (dims: number[], seed: number, scale = 1): CaseInput => ({ dtype: 'float32', dims, data: values(count(dims), seed, scale) });
const i64 = (dims: number[], vals: number[]): CaseInput => ({ dtype: 'int64', dims, data: BigInt64Array.from(vals.map((v) => BigInt(v))) });

const toHalf = (v: number): number => f32BitsToF16(f32Bits(v));

const BIG_END = 2 ** 53 - 1;

function cases(): OpCase[] {
  return [
    {
      name: 'matmul_softmax',
      ops: ['MatMul', 'Softmax'],
      inputs: { x: f32([3, 4], 1), w: f32([4, 5], 2) },
      build(g) {
        g.input('x', 'float32', ['n', 4]);
        g.input('w', 'float32', [4, 5]);
        g.op('Softmax', [g.op('MatMul', ['x', 'w'])], { axis: attr.int(-1) }, 'y');
        g.output('y', 'float32', ['n', 5]);
      },
    },
    {
      name: 'gemm_transB',
      ops: ['Gemm'],
      inputs: { a: f32([3, 4], 3), b: f32([5, 4], 4), c: f32([5], 5) },
      build(g) {
        g.input('a', 'float32', ['n', 4]);
        g.input('b', 'float32', [5, 4]);
        g.input('c', 'float32', [5]);
        g.op('Gemm', ['a', 'b', 'c'], { transB: attr.int(1) }, 'y_bias');
        g.op('Gemm', ['a', 'b'], { transB: attr.int(1) }, 'y');
        g.output('y_bias', 'float32', ['n', 5]);
        g.output('y', 'float32', ['n', 5]);
      },
    },
    {
      name: 'matmul_5d_broadcast',
      ops: ['MatMul'],
      inputs: { a: f32([2, 1, 3, 4, 5], 6), b: f32([2, 1, 1, 5, 4], 7) },
      build(g) {
        g.input('a', 'float32', [2, 1, 3, 4, 5]);
        g.input('b', 'float32', [2, 1, 1, 5, 4]);
        g.op('MatMul', ['a', 'b'], {}, 'y');
        g.output('y', 'float32', [2, 1, 3, 4, 4]);
      },
    },
    {
      // Larger shapes take ORT's tiled / vectorized MatMul and Gemm programs instead of the naive ones.
      name: 'matmul_gemm_tiled',
      ops: ['Gemm', 'MatMul'],
      inputs: { a: f32([33, 128], 30), b: f32([96, 128], 31), c: f32([96], 32), q: f32([1, 2, 2, 17, 64], 33), k: f32([1, 2, 1, 64, 40], 34) },
      build(g) {
        g.input('a', 'float32', ['n', 128]);
        g.input('b', 'float32', [96, 128]);
        g.input('c', 'float32', [96]);
        g.input('q', 'float32', [1, 2, 2, 'seq', 64]);
        g.input('k', 'float32', [1, 2, 1, 64, 'total']);
        g.op('Gemm', ['a', 'b', 'c'], { transB: attr.int(1) }, 'y');
        g.op('MatMul', ['q', 'k'], {}, 'scores');
        g.output('y', 'float32', ['n', 96]);
        g.output('scores', 'float32', [1, 2, 2, 'seq', 'total']);
      },
    },
    {
      name: 'concat_slice',
      ops: ['Slice', 'Concat'],
      inputs: { x: f32([2, 3, 8], 8) },
      build(g) {
        g.input('x', 'float32', [2, 3, 8]);
        const lo = g.op('Slice', ['x', g.i64([0]), g.i64([4]), g.i64([2])]);
        const hi = g.op('Slice', ['x', g.i64([4]), g.i64([8]), g.i64([2])]);
        g.op('Concat', [hi, lo], { axis: attr.int(2) }, 'swapped');
        g.op('Slice', ['x', g.i64([-1]), g.i64([BIG_END]), g.i64([1])], {}, 'last');
        g.output('swapped', 'float32', [2, 3, 8]);
        g.output('last', 'float32', [2, 1, 8]);
      },
    },
    {
      name: 'sigmoid_silu',
      ops: ['Sigmoid', 'Mul'],
      inputs: { gate: f32([4, 6], 9, 3), up: f32([4, 6], 10) },
      build(g) {
        g.input('gate', 'float32', ['n', 6]);
        g.input('up', 'float32', ['n', 6]);
        const s = g.op('Sigmoid', ['gate'], {}, 'sig');
        g.op('Mul', [g.op('Mul', ['gate', s]), 'up'], {}, 'act');
        g.output('sig', 'float32', ['n', 6]);
        g.output('act', 'float32', ['n', 6]);
      },
    },
    {
      // Intermediates are graph outputs, so ORT cannot fuse them away: each op runs on its own.
      name: 'reduce_sqrt_div',
      ops: ['ReduceMean', 'Sqrt', 'Div', 'Add', 'Mul'],
      inputs: { x: f32([3, 8], 11, 2), w: f32([8], 12) },
      build(g) {
        g.input('x', 'float32', ['n', 8]);
        g.input('w', 'float32', [8]);
        const ms = g.op('ReduceMean', [g.op('Mul', ['x', 'x'])], { axes: attr.ints([-1]), keepdims: attr.int(1) }, 'ms');
        const denom = g.op('Sqrt', [g.op('Add', [ms, g.scalar(1e-6)])], {}, 'denom');
        g.op('Mul', [g.op('Div', ['x', denom], {}, 'div'), 'w'], {}, 'y');
        g.output('ms', 'float32', ['n', 1]);
        g.output('denom', 'float32', ['n', 1]);
        g.output('div', 'float32', ['n', 8]);
        g.output('y', 'float32', ['n', 8]);
      },
    },
    {
      // The decoder's RMSNorm exactly as built there; ORT may fuse it for the EP.
      name: 'rmsnorm_3d',
      ops: ['ReduceMean', 'Sqrt', 'Div', 'Add', 'Mul'],
      inputs: { x: f32([3, 2, 8], 13, 2), w: f32([8], 14) },
      build(g) {
        g.input('x', 'float32', ['n', 2, 8]);
        g.input('w', 'float32', [8]);
        const ms = g.op('ReduceMean', [g.op('Mul', ['x', 'x'])], { axes: attr.ints([-1]), keepdims: attr.int(1) });
        const denom = g.op('Sqrt', [g.op('Add', [ms, g.scalar(1e-6)])]);
        g.op('Mul', [g.op('Div', ['x', denom]), 'w'], {}, 'y');
        g.output('y', 'float32', ['n', 2, 8]);
      },
    },
    {
      name: 'rope_tables',
      ops: ['Reshape', 'Cast', 'Mul', 'Concat', 'Cos', 'Sin', 'Unsqueeze'],
      inputs: { pos: i64([1, 7], [0, 1, 2, 7, 31, 500, 2047]), inv_freq: { dtype: 'float32', dims: [1, 4], data: Float32Array.from([1, 0.1, 0.01, 0.001]) } },
      build(g) {
        g.input('pos', 'int64', ['batch', 'seq']);
        g.input('inv_freq', 'float32', [1, 4]);
        const posF = g.op('Cast', [g.op('Reshape', ['pos', g.i64([-1, 1])])], { to: attr.int(1) });
        const ang = g.op('Mul', [posF, 'inv_freq']);
        const full = g.op('Concat', [ang, ang], { axis: attr.int(1) });
        g.op('Unsqueeze', [g.op('Cos', [full]), g.i64([1])], {}, 'cos');
        g.op('Unsqueeze', [g.op('Sin', [full]), g.i64([1])], {}, 'sin');
        g.output('cos', 'float32', ['n', 1, 8]);
        g.output('sin', 'float32', ['n', 1, 8]);
      },
    },
    {
      name: 'rope_rotate',
      ops: ['Slice', 'Neg', 'Concat', 'Mul', 'Add'],
      inputs: { v: f32([3, 2, 4], 15), cos: f32([3, 1, 4], 16), sin: f32([3, 1, 4], 17) },
      build(g) {
        g.input('v', 'float32', ['n', 2, 4]);
        g.input('cos', 'float32', ['n', 1, 4]);
        g.input('sin', 'float32', ['n', 1, 4]);
        const lo = g.op('Slice', ['v', g.i64([0]), g.i64([2]), g.i64([2])]);
        const hi = g.op('Slice', ['v', g.i64([2]), g.i64([4]), g.i64([2])]);
        const rot = g.op('Concat', [g.op('Neg', [hi]), lo], { axis: attr.int(2) });
        g.op('Add', [g.op('Mul', ['v', 'cos']), g.op('Mul', [rot, 'sin'])], {}, 'y');
        g.output('y', 'float32', ['n', 2, 4]);
      },
    },
    {
      name: 'gather_embedding',
      ops: ['Reshape', 'Gather'],
      inputs: { emb: f32([10, 6], 18), ids: i64([2, 3], [3, 0, 9, 3, 5, 1]) },
      build(g) {
        g.input('emb', 'float32', [10, 6]);
        g.input('ids', 'int64', ['batch', 'seq']);
        g.op('Gather', ['emb', g.op('Reshape', ['ids', g.i64([-1])])], { axis: attr.int(0) }, 'y');
        g.output('y', 'float32', ['n', 6]);
      },
    },
    {
      name: 'transpose_reshape',
      ops: ['Reshape', 'Transpose', 'Shape', 'Slice', 'Concat'],
      inputs: { x: f32([2, 3, 8], 19) },
      build(g) {
        g.input('x', 'float32', ['batch', 'seq', 8]);
        const r4 = g.op('Reshape', ['x', g.i64([0, 0, 2, 4])]); // [2,3,2,4]
        g.op('Transpose', [r4], { perm: attr.ints([0, 2, 1, 3]) }, 't4'); // [2,2,3,4]
        g.op('Reshape', ['x', g.i64([-1, 4])], {}, 'flat'); // [12,4]
        const r5 = g.op('Reshape', ['x', g.i64([2, 3, 2, 1, 4])]);
        g.op('Transpose', [r5], { perm: attr.ints([0, 2, 3, 1, 4]) }, 't5'); // [2,2,1,3,4]
        const bs = g.op('Slice', [g.op('Shape', ['x']), g.i64([0]), g.i64([2]), g.i64([0])]);
        const shape = g.op('Concat', [bs, g.i64([4, 2])], { axis: attr.int(0) });
        g.op('Reshape', ['x', shape], {}, 'dyn'); // [2,3,4,2]
        g.output('t4', 'float32', ['batch', 2, 'seq', 4]);
        g.output('flat', 'float32', ['n', 4]);
        g.output('t5', 'float32', ['batch', 2, 1, 'seq', 4]);
        g.output('dyn', 'float32', ['batch', 'seq', 4, 2]);
      },
    },
    {
      // Grouped-query attention as the decoder builds it: q [B,KV,G,S,hd] against K/V
      // [B,KV,1,T,hd] (broadcast over the group axis), additive mask, KV concat with the past.
      name: 'attention_gqa',
      ops: ['Concat', 'Unsqueeze', 'Transpose', 'MatMul', 'Add', 'Softmax', 'Reshape', 'Identity'],
      inputs: {
        q: f32([1, 2, 2, 3, 4], 20),
        k: f32([1, 2, 3, 4], 21),
        v: f32([1, 2, 3, 4], 22),
        past_k: f32([1, 2, 2, 4], 23),
        past_v: f32([1, 2, 2, 4], 24),
        mask: {
          dtype: 'float32',
          dims: [1, 3, 5],
          // causal over 2 past + 3 new positions
          data: Float32Array.from([0, 0, 0, -1e9, -1e9, 0, 0, 0, 0, -1e9, 0, 0, 0, 0, 0]),
        },
      },
      build(g) {
        g.input('q', 'float32', ['batch', 2, 2, 'seq', 4]);
        g.input('k', 'float32', ['batch', 2, 'seq', 4]);
        g.input('v', 'float32', ['batch', 2, 'seq', 4]);
        g.input('past_k', 'float32', ['batch', 2, 'past', 4]);
        g.input('past_v', 'float32', ['batch', 2, 'past', 4]);
        g.input('mask', 'float32', ['batch', 'seq', 'total']);
        const k4 = g.op('Concat', ['past_k', 'k'], { axis: attr.int(2) });
        const v4 = g.op('Concat', ['past_v', 'v'], { axis: attr.int(2) });
        g.op('Identity', [k4], {}, 'present_k');
        const kT = g.op('Transpose', [g.op('Unsqueeze', [k4, g.i64([2])])], { perm: attr.ints([0, 1, 2, 4, 3]) });
        const scores = g.op('Add', [g.op('MatMul', ['q', kT]), g.op('Unsqueeze', ['mask', g.i64([1, 2])])]);
        const probs = g.op('Softmax', [scores], { axis: attr.int(-1) }, 'probs');
        const ctx = g.op('MatMul', [probs, g.op('Unsqueeze', [v4, g.i64([2])])]);
        g.op('Reshape', [g.op('Transpose', [ctx], { perm: attr.ints([0, 3, 1, 2, 4]) }), g.i64([-1, 16])], {}, 'out');
        g.output('present_k', 'float32', ['batch', 2, 'total', 4]);
        g.output('probs', 'float32', ['batch', 2, 2, 'seq', 'total']);
        g.output('out', 'float32', ['n', 16]);
      },
    },
    {
      name: 'gpu_buffer_io',
      ops: ['Gemm', 'Tensor.fromGpuBuffer', "preferredOutputLocation 'gpu-buffer'"],
      gpuIo: true,
      inputs: { a: f32([4, 8], 25), b: f32([6, 8], 26) },
      build(g) {
        g.input('a', 'float32', ['n', 8]);
        g.input('b', 'float32', [6, 8]);
        g.op('Gemm', ['a', 'b'], { transB: attr.int(1) }, 'y');
        g.output('y', 'float32', ['n', 6]);
      },
    },
    {
      name: 'cast_f16',
      ops: ['Cast(float16->float32)'],
      required: false,
      inputs: { w: { dtype: 'float16', dims: [2, 3], data: Uint16Array.from([0.5, -1.25, 3, 0.1, -0.0625, 100].map(toHalf)) } },
      build(g) {
        g.input('w', 'float16', [2, 3]);
        g.op('Cast', ['w'], { to: attr.int(1) }, 'y');
        g.output('y', 'float32', [2, 3]);
      },
    },
  ];
}

function toHost(dtype: DType, dims: readonly number[], data: unknown): JsonTensor {
  const arr = data as ArrayLike<number | bigint>;
  const out: number[] = new Array(arr.length);
  for (let i = 0; i < arr.length; i++) out[i] = Number(arr[i]);
  return { dtype, dims: [...dims], data: out };
}

const halfToFloat = (h: number): number => f32FromBits(f16ToF32Bits(h));

/**
 * ORT's wasm glue binds console.log/console.error when it is first imported, so the console is
 * wrapped once, before ORT loads: while a capture is active, ORT's own log lines (verbose
 * session logs requested per case) are collected instead of flooding the page console.
 */
let captured: string[] | null = null;
const ORT_LOG_RE = /\[[VIWEF]:onnxruntime/;
for (const m of ['log', 'info', 'warn', 'error', 'debug'] as const) {
  const original = console[m].bind(console);
  console[m] = (...args: unknown[]) => {
    const line = args.map(String).join(' ');
    if (captured && ORT_LOG_RE.test(line)) {
      captured.push(line);
      return;
    }
    original(...args);
  };
}

/** Nodes ORT placed on the CPU EP, from its "Node placements" verbose log ("Op (name)"). */
function cpuPlacedNodes(lines: string[]): string[] {
  const out: string[] = [];
  let onCpu = false;
  for (const line of lines) {
    const text = line.replace(/^.*VerifyEachNodeIsAssignedToAnEp\]/, '');
    if (text === line) continue;
    const header = /(?:All nodes|Node\(s\)) placed on \[(\w+)\]/.exec(text);
    if (header) {
      onCpu = header[1] === 'CPUExecutionProvider';
      continue;
    }
    const node = /^\s+(\w+) \(([^)]*)\)\s*$/.exec(text);
    if (node && onCpu) out.push(`${node[1]} (${node[2]})`);
  }
  return out;
}

/** WebGPU programs (shaders) ORT ran, from its "Starting program" info log, deduplicated. */
function gpuPrograms(lines: string[]): string[] {
  const out = new Set<string>();
  for (const line of lines) {
    const m = /Starting program "([A-Za-z0-9_]+)/.exec(line);
    if (m) out.add(m[1]);
  }
  return [...out];
}

async function runCase(rt: OrtWebRuntime, c: OpCase): Promise<OpCaseResult> {
  const { ort, backend } = rt;
  const result: OpCaseResult = { name: c.name, ops: c.ops, required: c.required ?? true, ok: false, inputs: {}, outputs: {}, ms: 0, cpuNodes: [], gpuPrograms: [] };
  for (const [name, t] of Object.entries(c.inputs)) {
    result.inputs[name] = t.dtype === 'float16' ? { dtype: 'float16', dims: t.dims, data: Array.from(t.data as Uint16Array, halfToFloat) } : toHost(t.dtype, t.dims, t.data);
  }
  const t0 = performance.now();
  const owned: { dispose(): void }[] = [];
  const logLines: string[] = [];
  try {
    const g = new Graph(c.name);
    c.build(g);
    const bytes = serializeGraph(g);
    const gpuIo = !!c.gpuIo && backend === 'webgpu';
    // Verbose session logs: node placements at creation, one line per GPU program at run time.
    captured = logLines;
    const session = await createSession(bytes, backend, {
      logSeverityLevel: 0,
      ...(gpuIo ? { preferredOutputLocation: 'gpu-buffer' as const } : {}),
    });
    try {
      const device = gpuIo ? await getOrtDevice(ort) : null;
      const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
      for (const [name, t] of Object.entries(c.inputs)) {
        const tensor = device
          ? createGpuTensor(ort, device, t.dtype as 'float32', t.data, t.dims)
          : new ort.Tensor(t.dtype as 'float32', t.data as Float32Array, t.dims);
        if (device) owned.push(tensor);
        feeds[name] = tensor;
      }
      // Run twice: the second run checks that the (GPU) inputs stay valid across runs.
      const runs = gpuIo ? 2 : 1;
      for (let r = 0; r < runs; r++) {
        const out = await session.run(feeds);
        for (const o of g.outputs) {
          const t = out[o.name];
          if (gpuIo && t.location !== 'gpu-buffer') throw new Error(`output ${o.name} is on '${t.location}', expected 'gpu-buffer'`);
          const data = await t.getData(true);
          const host = toHost(o.dtype, t.dims, data);
          if (r > 0 && JSON.stringify(host) !== JSON.stringify(result.outputs[o.name])) throw new Error(`run ${r + 1} gave different ${o.name}`);
          result.outputs[o.name] = host;
          t.dispose();
        }
      }
      result.ok = true;
    } finally {
      await session.release();
    }
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
  } finally {
    captured = null;
    for (const t of owned) t.dispose();
  }
  if (backend === 'webgpu') {
    result.cpuNodes = cpuPlacedNodes(logLines);
    result.gpuPrograms = gpuPrograms(logLines);
  }
  result.ms = Math.round(performance.now() - t0);
  return result;
}

let runtime: Promise<{ rt: OrtWebRuntime; initMs: number }> | null = null;

function getRuntime(preferWebGpu?: boolean): Promise<{ rt: OrtWebRuntime; initMs: number }> {
  if (!runtime) {
    const t0 = performance.now();
    runtime = initOrtWeb({ preferWebGpu }).then((rt) => ({ rt, initMs: Math.round(performance.now() - t0) }));
  }
  return runtime;
}

function infoOf(rt: OrtWebRuntime, initMs: number): SmokeBackendInfo {
  return {
    backend: rt.backend,
    adapterInfo: rt.adapterInfo,
    shaderF16: rt.shaderF16,
    maxBufferBytes: rt.maxBufferBytes,
    maxStorageBindingBytes: rt.maxStorageBindingBytes,
    fallbackReason: rt.fallbackReason,
    ortVersion: rt.ort.env.versions.web ?? rt.ort.env.versions.common,
    initMs,
  };
}

async function handle(req: SmokeRequest): Promise<SmokeResponse> {
  const { rt, initMs } = await getRuntime(req.preferWebGpu);
  const info = infoOf(rt, initMs);
  if (req.type === 'probe') return { type: 'probe', info };
  const t0 = performance.now();
  const results: OpCaseResult[] = [];
  for (const c of cases()) results.push(await runCase(rt, c));
  return { type: 'ops', info, cases: results, totalMs: Math.round(performance.now() - t0) };
}

self.onmessage = (ev: MessageEvent<SmokeRequest>) => {
  handle(ev.data).then(
    (res) => self.postMessage(res),
    (err: unknown) => self.postMessage({ type: 'error', message: err instanceof Error ? err.stack ?? err.message : String(err) } satisfies SmokeResponse),
  );
};
