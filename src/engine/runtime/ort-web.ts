/**
 * onnxruntime-web setup for the browser (meant to run inside a Web Worker).
 *
 * We import `onnxruntime-web/webgpu`, the 1.30 build with the native WebGPU execution provider.
 * Its JS loads `ort-wasm-simd-threaded.asyncify.mjs` and `.asyncify.wasm` at run time from
 * `env.wasm.wasmPaths`; scripts/prepare-assets.ts copies both into public/ort/. The same binary
 * also serves the plain "wasm" (CPU) execution provider, used as the fallback.
 *
 * Threads: the wasm backend runs on several threads only in a cross-origin isolated page (the
 * dev server, the preview and the build send COOP/COEP, see vite.config.ts). ORT's own default
 * is then min(4, cores / 2), a single thread on a 2-core machine; `defaultWasmThreads` asks for
 * every core instead (up to 8). Without isolation it is one thread, whatever is asked.
 *
 * GPU device: the WebGPU EP creates its own GPUDevice when the first WebGPU session is created
 * and then publishes it as `ort.env.webgpu.device` (before that it is undefined in this
 * build). initOrtWeb creates a tiny warm-up session so the device exists as soon as it
 * returns; use getOrtDevice() to get it.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-web';
import { attr, Graph } from '../onnx/graph';
import { serializeGraph } from '../onnx/serialize';
import type { EngineBackend, OrtModule } from './ort-types';

export type OrtWeb = typeof import('onnxruntime-web');
export type WebBackend = 'webgpu' | 'wasm';

export interface OrtWebOptions {
  /** Try WebGPU first (default true); false forces the wasm CPU backend. */
  preferWebGpu?: boolean;
  /** Folder (URL prefix) holding the ORT .mjs/.wasm runtime files; default `<base>/ort/`. */
  wasmPaths?: string;
  /** wasm threads (the CPU backend, and ORT's CPU side on WebGPU); default defaultWasmThreads(). Only the first call's value counts. */
  threads?: number;
}

const crossOriginIsolated = (): boolean => typeof self !== 'undefined' && (self as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;

function wasmThreadsOf(ort: OrtWeb): number {
  return crossOriginIsolated() ? (ort.env.wasm.numThreads ?? 1) : 1;
}

/** Every core (up to 8) in a cross-origin isolated page, else 1 (threads need SharedArrayBuffer). */
export function defaultWasmThreads(): number {
  const cores = typeof navigator !== 'undefined' ? navigator.hardwareConcurrency || 1 : 1;
  return crossOriginIsolated() ? Math.max(1, Math.min(8, cores)) : 1;
}

export interface OrtWebRuntime {
  ort: OrtWeb;
  backend: WebBackend;
  /** Human-readable adapter description, e.g. "google / swiftshader". */
  adapterInfo: string;
  /** ORT's device has 'shader-f16', so float16 kernels can run (SwiftShader: no). */
  shaderF16: boolean;
  /** Limits of ORT's device (which asks for the adapter's maxima); 0 on the wasm backend. */
  maxBufferBytes: number;
  maxStorageBindingBytes: number;
  /** Why WebGPU was not used, when the backend is 'wasm'. */
  fallbackReason?: string;
  /** Threads the wasm runtime runs on (1 unless the page is cross-origin isolated). */
  wasmThreads: number;
}

let loaded: OrtWeb | null = null;

async function loadOrt(wasmPaths?: string, threads?: number): Promise<OrtWeb> {
  if (!loaded) {
    // The webgpu entry has the same API (and type definitions) as the package root.
    loaded = (await import('onnxruntime-web/webgpu')) as unknown as OrtWeb;
    loaded.env.logLevel = 'error';
    // Read when the wasm runtime starts (the first session), so set before any.
    loaded.env.wasm.numThreads = threads ?? defaultWasmThreads();
  }
  loaded.env.wasm.wasmPaths = resolveWasmPaths(wasmPaths);
  return loaded;
}

/** Absolute URL prefix of the runtime files (ORT wants an absolute URL or a path prefix). */
function resolveWasmPaths(wasmPaths?: string): string {
  const base = (import.meta.env?.BASE_URL as string | undefined) ?? '/';
  const prefix = wasmPaths ?? `${base.endsWith('/') ? base : `${base}/`}ort/`;
  const here = typeof self !== 'undefined' && self.location ? self.location.href : undefined;
  const abs = here ? new URL(prefix, here).href : prefix;
  return abs.endsWith('/') ? abs : `${abs}/`;
}

/** ORT refuses to create two WebGPU sessions at once, so creations are queued. */
let sessionQueue: Promise<unknown> = Promise.resolve();

/**
 * ORT's WebGPU EP creates its GPUDevice with the first session and drops it when its last
 * session is released, which would orphan every weight buffer allocated on it ("buffer
 * associated with another device"). The warm-up session is therefore kept for the life of the
 * page: while it exists, ORT's device does too. (Passing a device of our own in the session
 * options did not work: buffers made on it were rejected; see DEVELOPERS.md.)
 */
let deviceAnchor: InferenceSession | null = null;

export function sessionOptionsFor(backend: WebBackend): InferenceSession.SessionOptions {
  return {
    executionProviders: backend === 'webgpu' ? [{ name: 'webgpu' }] : ['wasm'],
    graphOptimizationLevel: 'all',
    // Errors only: ORT's warnings (e.g. shape ops placed on the CPU by design) are not problems
    // and would fill the browser console of every session.
    logSeverityLevel: 3,
  };
}

/**
 * Create an InferenceSession on the given backend. Nodes the WebGPU EP cannot run are placed on
 * the CPU EP by ORT itself. Creations are serialized.
 */
export async function createSession(
  bytes: Uint8Array,
  backend: WebBackend,
  extra: InferenceSession.SessionOptions = {},
): Promise<InferenceSession> {
  const ort = loaded ?? (await loadOrt());
  const options = { ...sessionOptionsFor(backend), ...extra };
  const run = sessionQueue.then(() => ort.InferenceSession.create(bytes, options));
  sessionQueue = run.catch(() => undefined);
  return run;
}

/**
 * The GPUDevice ORT's WebGPU EP uses. In the 1.30 webgpu build `env.webgpu.device` is a plain
 * GPUDevice (typed as a Promise), set when the first WebGPU session is created and undefined
 * before; awaiting covers both.
 */
export async function getOrtDevice(ort: OrtWeb): Promise<GPUDevice> {
  const device = (await ort.env.webgpu.device) as GPUDevice | undefined;
  if (!device) throw new Error('ORT has no WebGPU device yet: create a WebGPU session first (initOrtWeb does)');
  return device;
}

function describeAdapter(info: GPUAdapterInfo | undefined): string {
  if (!info) return 'unknown adapter';
  const parts = [info.vendor, info.architecture].filter(Boolean).join(' / ');
  const extra = [info.device, info.description].filter(Boolean).join(' ');
  return [parts || 'unknown vendor', extra ? `(${extra})` : ''].filter(Boolean).join(' ');
}

/**
 * A lost device (driver reset, GPU removed, the browser reclaiming it) makes every later run fail
 * with a message about buffers or sessions. Raise it as an uncaught error instead: inside the
 * engine worker that reaches the page as the Worker's error event, which the playground reports
 * in plain words before it restarts the engine. Destroying the device on purpose is not a loss.
 */
function watchDeviceLoss(device: GPUDevice): void {
  void device.lost.then((info) => {
    if (info.reason === 'destroyed') return;
    setTimeout(() => {
      throw new Error(`the GPU device was lost (${info.message || info.reason || 'no reason given'})`);
    });
  });
}

/** A tiny graph run once on a new backend: proves the runtime loads and really computes. */
async function warmUp(backend: WebBackend): Promise<void> {
  const g = new Graph('warmup');
  const a = g.input('a', 'float32', [2, 2]);
  const b = g.input('b', 'float32', [2, 2]);
  g.op('Gemm', [a, b], { transB: attr.int(1) }, 'y');
  g.output('y', 'float32', [2, 2]);
  const session = await createSession(serializeGraph(g), backend);
  try {
    const ort = loaded!;
    const out = await session.run({
      a: new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4]), [2, 2]),
      b: new ort.Tensor('float32', Float32Array.from([1, 0, 0, 1]), [2, 2]),
    });
    const y = (await out.y.getData()) as Float32Array;
    if (Array.from(y).join(',') !== '1,2,3,4') throw new Error(`warm-up computed [${Array.from(y)}], expected [1,2,3,4]`);
  } catch (e) {
    await session.release();
    throw e;
  }
  // On WebGPU the session stays: it keeps ORT's device alive (see deviceAnchor).
  if (backend === 'webgpu' && !deviceAnchor) deviceAnchor = session;
  else await session.release();
}

/**
 * Load onnxruntime-web and pick a backend: WebGPU when an adapter is available and a warm-up
 * session works on it, otherwise wasm (CPU, single-threaded).
 */
export async function initOrtWeb(opts: OrtWebOptions = {}): Promise<OrtWebRuntime> {
  const ort = await loadOrt(opts.wasmPaths, opts.threads);
  let fallbackReason: string | undefined;

  if (opts.preferWebGpu === false) {
    fallbackReason = 'WebGPU not requested';
  } else if (typeof navigator === 'undefined' || !('gpu' in navigator) || !navigator.gpu) {
    fallbackReason = 'navigator.gpu is not available';
  } else {
    try {
      const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
      if (!adapter) throw new Error('navigator.gpu.requestAdapter() returned null');
      await warmUp('webgpu');
      // ORT requests its own adapter and device; describe the device it actually uses.
      const device = await getOrtDevice(ort);
      watchDeviceLoss(device);
      const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo ?? (adapter as GPUAdapter & { info?: GPUAdapterInfo }).info;
      return {
        ort,
        wasmThreads: wasmThreadsOf(ort),
        backend: 'webgpu',
        adapterInfo: describeAdapter(info),
        shaderF16: device.features.has('shader-f16'),
        maxBufferBytes: Number(device.limits.maxBufferSize ?? adapter.limits.maxBufferSize),
        maxStorageBindingBytes: Number(device.limits.maxStorageBufferBindingSize ?? adapter.limits.maxStorageBufferBindingSize),
      };
    } catch (err) {
      fallbackReason = `WebGPU failed: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  await warmUp('wasm');
  return { ort, backend: 'wasm', adapterInfo: 'wasm (CPU)', shaderF16: false, maxBufferBytes: 0, maxStorageBindingBytes: 0, fallbackReason, wasmThreads: wasmThreadsOf(ort) };
}

/**
 * An EngineBackend (see ort-types) over an initialized runtime: on WebGPU, weights live in GPU
 * buffers shared by every session and KV stays on the device.
 */
export async function webEngineBackend(rt: OrtWebRuntime): Promise<EngineBackend> {
  const { ort, backend } = rt;
  const module: OrtModule = {
    InferenceSession: { create: (model, options) => createSession(model, backend, options ?? {}) },
    Tensor: ort.Tensor as unknown as OrtModule['Tensor'],
  };
  const weightDtype = backend === 'webgpu' && rt.shaderF16 ? 'float16' : 'float32';
  const cpuTensor = (dims: number[], data: Float32Array | Uint16Array) =>
    (data instanceof Uint16Array ? new ort.Tensor('float16', data, dims) : new ort.Tensor('float32', data, dims)) as never;
  return {
    ort: module,
    name: backend,
    sessionOptions: sessionOptionsFor(backend),
    uploadWeight: (_name, dims, data) => cpuTensor(dims, data),
    // On WebGPU, weights go through an Identity session whose outputs stay on the GPU, so the
    // buffers come from ORT's own allocator on the device every session uses (buffers made with
    // device.createBuffer were rejected as belonging to another device).
    uploadWeights: backend === 'webgpu' ? (entries) => uploadThroughOrt(ort, entries) : undefined,
    weightDtype,
    keepKvOnDevice: backend === 'webgpu',
  };
}

async function uploadThroughOrt(ort: OrtWeb, entries: { name: string; dims: number[]; data: Float32Array | Uint16Array }[]): Promise<never[]> {
  const g = new Graph('upload');
  const feeds: Record<string, Tensor> = {};
  const location: Record<string, 'gpu-buffer'> = {};
  entries.forEach((e, i) => {
    const dtype = e.data instanceof Uint16Array ? 'float16' : 'float32';
    g.input(`in${i}`, dtype, e.dims);
    g.op('Identity', [`in${i}`], {}, `out${i}`);
    g.output(`out${i}`, dtype, e.dims);
    feeds[`in${i}`] = e.data instanceof Uint16Array ? new ort.Tensor('float16', e.data, e.dims) : new ort.Tensor('float32', e.data, e.dims);
    location[`out${i}`] = 'gpu-buffer';
  });
  const session = await createSession(serializeGraph(g), 'webgpu', { graphOptimizationLevel: 'disabled', preferredOutputLocation: location });
  const out = await session.run(feeds);
  // The session is kept alive on purpose: its outputs are the weights from now on.
  return entries.map((_, i) => out[`out${i}`] as never);
}
