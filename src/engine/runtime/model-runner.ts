/**
 * Owns a model on one backend for inference: the uploaded weights, the current LoRA adapter,
 * and the decoder sessions (one per graph variant). Every session reads the same weight tensors.
 */
import { buildDecoderGraph, type GraphMode } from '../models/decoder-graph';
import type { LoraAdapter, LoraTarget, ModelConfig, WeightMap } from '../models/types';
import { DecoderFeeds, type DecoderRows, type KvCache } from './decoder-session';
import { GraphSessions, type TensorMap } from './graph-session';
import type { EngineBackend, OrtTensor } from './ort-types';
import { uploadModelWeights } from './upload';

export type { KvCache };

export interface ForwardInput extends DecoderRows {
  past?: KvCache | null;
  logits: 'all' | 'last';
  /** Return the new KV cache (past + these tokens). */
  wantKv: boolean;
  /** Use the runner's current adapter (default true when one is set). */
  useAdapter?: boolean;
}

export interface ForwardOutput {
  /** [B, S or 1, V] row-major. */
  logits: Float32Array;
  kv: KvCache | null;
}

export class ModelRunner {
  private weights = new Map<string, OrtTensor>();
  private readonly sessions: GraphSessions;
  private readonly feeds: DecoderFeeds;
  private adapter: { targets: LoraTarget[]; feeds: TensorMap } | null = null;

  constructor(readonly cfg: ModelConfig, readonly backend: EngineBackend) {
    this.sessions = new GraphSessions(backend);
    this.feeds = new DecoderFeeds(cfg, backend.ort.Tensor);
  }

  /** Upload weights once; the host copies can be dropped afterwards by the caller. */
  async loadWeights(w: WeightMap, onProgress?: (done: number, total: number) => void): Promise<void> {
    for (const [name, t] of await uploadModelWeights(this.backend, this.cfg, w, onProgress)) this.weights.set(name, t);
  }

  /** Set (or clear) the LoRA adapter applied by every following forward pass. */
  setAdapter(adapter: LoraAdapter | null): void {
    this.adapter = adapter ? this.feeds.adapter(adapter) : null;
  }

  /** The uploaded weight tensors by name, for other graphs (training, teacher scoring) to share. */
  weightFeeds(): TensorMap {
    if (this.weights.size === 0) throw new Error('the model has no uploaded weights yet');
    return Object.fromEntries(this.weights);
  }

  get hasAdapter(): boolean {
    return this.adapter !== null;
  }

  private session(mode: GraphMode, logits: 'all' | 'last', targets: readonly LoraTarget[], emitKv: boolean) {
    const keepKv = this.backend.keepKvOnDevice && emitKv;
    return this.sessions.get(
      `${mode}|${logits}|${targets.join(',')}|${emitKv}`,
      () => buildDecoderGraph(this.cfg, { mode, logits, loraTargets: targets, emitKv, weightDtype: this.backend.weightDtype ?? 'float32' }).graph,
      (o) => keepKv && this.feeds.isKvOutput(o),
    );
  }

  async forward(input: ForwardInput): Promise<ForwardOutput> {
    const past = input.past ?? null;
    const total = (past?.length ?? 0) + input.seq;
    const useAdapter = (input.useAdapter ?? true) && this.adapter !== null;
    const { session } = await this.session(past ? 'decode' : 'prefill', input.logits, useAdapter ? this.adapter!.targets : [], input.wantKv);
    const feeds: TensorMap = { ...this.feeds.rows(input, total), ...Object.fromEntries(this.weights) };
    if (useAdapter) Object.assign(feeds, this.adapter!.feeds);
    if (past) Object.assign(feeds, this.feeds.past(past));
    const out = await session.run(feeds);
    const logits = (await out.logits.getData()) as Float32Array;
    return { logits, kv: input.wantKv ? this.feeds.present(out, total) : null };
  }

  /** Free device memory held by a KV cache. */
  static disposeKv(kv: KvCache | null | undefined): void {
    if (!kv) return;
    for (const t of [...kv.keys, ...kv.values]) t.dispose?.();
  }

  async release(): Promise<void> {
    await this.sessions.release();
    for (const t of this.weights.values()) t.dispose?.();
    this.weights.clear();
  }
}
