/**
 * The slice of the onnxruntime API the engine uses. onnxruntime-node and onnxruntime-web both
 * implement it (they share onnxruntime-common), so the engine takes the module as a value and
 * never imports a particular runtime.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-common';

export type OrtTensor = Tensor;
export type OrtSession = InferenceSession;
export type SessionOptions = InferenceSession.SessionOptions;

export interface OrtModule {
  InferenceSession: { create(model: Uint8Array, options?: SessionOptions): Promise<InferenceSession> };
  Tensor: typeof Tensor;
}

export type BackendName = 'node-cpu' | 'webgpu' | 'wasm';

export interface EngineBackend {
  ort: OrtModule;
  name: BackendName;
  /** Options for every session, e.g. executionProviders. */
  sessionOptions: SessionOptions;
  /**
   * Turn a host weight into an input tensor that stays valid for the runner's lifetime.
   * `data` is fp32, or fp16 bits (Uint16Array) when `weightDtype` is 'float16'.
   */
  uploadWeight(name: string, dims: number[], data: Float32Array | Uint16Array): OrtTensor | Promise<OrtTensor>;
  /**
   * Bulk upload, preferred over uploadWeight when present (lets a backend batch the copies and
   * keep the buffers in its runtime's own allocator).
   */
  uploadWeights?(entries: { name: string; dims: number[]; data: Float32Array | Uint16Array }[]): Promise<OrtTensor[]>;
  /** Storage type of weights on this backend (default float32). */
  weightDtype?: 'float32' | 'float16';
  /**
   * Generate in sessions that hold the weights as constants (external-data initializers), which
   * the runtime pre-packs once: faster decoding for a second, packed copy of the weights per
   * adapter variant (constant-weights.ts). Host tensors only (onnxruntime-node).
   */
  constantWeights?: boolean;
  /**
   * Generate with the KV cache in host buffers of fixed capacity, read in place by each decode
   * step (static-kv.ts), instead of concatenating and returning the whole cache every step.
   * Backends whose KV stays on the device ignore it.
   */
  staticKv?: boolean;
  /** Keep KV outputs on the device (WebGPU) instead of copying them to the host. */
  keepKvOnDevice: boolean;
}
