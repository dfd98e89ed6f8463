/**
 * Messages between the UI thread and the engine worker. The worker owns the GPU and the model;
 * the UI sends requests and renders the events it gets back. Every request carries an id, and
 * every event that answers one repeats it.
 */

export type ModelSourceSpec =
  | { kind: 'embedded'; url: string; label?: string }
  | { kind: 'hub'; repo: string; revision?: string; endpoint?: string; token?: string }
  | { kind: 'files'; files: File[] };

export interface SamplingSpec {
  maxNewTokens: number;
  temperature: number;
  topP: number;
  topK: number;
  seed: number;
  stopAtEos: boolean;
}

export type EngineRequest =
  | { type: 'init'; id: number; preferWebGpu: boolean }
  | { type: 'load'; id: number; source: ModelSourceSpec }
  | { type: 'logits'; id: number; ids: number[][] }
  | { type: 'generate'; id: number; prompts: number[][]; sampling: SamplingSpec }
  | { type: 'chat'; id: number; text: string; sampling: SamplingSpec }
  | { type: 'stop'; id: number };

export interface BackendInfo {
  backend: 'webgpu' | 'wasm' | 'node-cpu';
  adapterInfo: string;
  shaderF16: boolean;
  maxStorageBindingBytes: number;
  fallbackReason?: string;
}

export interface ModelSummary {
  label: string;
  family: string;
  layers: number;
  hiddenSize: number;
  vocabSize: number;
  params: number;
  tied: boolean;
  hasTokenizer: boolean;
  hasChatTemplate: boolean;
  loadMs: number;
}

export type EngineEvent =
  | { type: 'ready'; id: number; info: BackendInfo }
  | { type: 'progress'; id: number; file: string; loaded: number; total: number | null; fromCache: boolean }
  | { type: 'stage'; id: number; message: string }
  | { type: 'loaded'; id: number; model: ModelSummary }
  | { type: 'logits'; id: number; vocabSize: number; logits: Float32Array[][] }
  | { type: 'token'; id: number; step: number; tokens: (number | null)[]; text?: string }
  | { type: 'generated'; id: number; tokens: number[][]; logprobs: number[][]; finish: string[]; text?: string; ms: number }
  | { type: 'stopped'; id: number }
  | { type: 'error'; id: number; message: string };
