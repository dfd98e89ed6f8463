/**
 * Owns a model on one backend for inference: the uploaded weights, the current LoRA adapter,
 * and the decoder sessions (one per graph variant). Every session reads the same weight tensors.
 */
import { attr, Graph } from '../onnx/graph';
import { buildDecoderGraph, newKeyName, newValueName, type GraphMode } from '../models/decoder-graph';
import type { LoraAdapter, LoraTarget, ModelConfig, WeightMap } from '../models/types';
import { DecoderFeeds, type DecoderRows, type KvCache } from './decoder-session';
import { GraphSessions, type TensorMap } from './graph-session';
import type { EngineBackend, OrtTensor } from './ort-types';
import { uploadModelWeights } from './upload';
import { bakeWeights } from './constant-weights';
import { StaticKv } from './static-kv';

export type { KvCache };

/** The cache a generation carries from step to step: tensors, or host buffers filled in place. */
export type GenerationKv = KvCache | StaticKv;

/** A forward pass produced NaN or an infinity. */
export class NonFiniteError extends Error {
  override name = 'NonFiniteError';
}

/** Index of the first NaN or infinity, or -1. */
export function firstNonFinite(a: Float32Array): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i])) return i;
  return -1;
}

export interface ForwardInput extends DecoderRows {
  /** With a StaticKv, `mask` is laid out as static-kv.ts's staticStepMask. */
  past?: GenerationKv | null;
  /**
   * Positions the cache must hold by the end of the generation (prompt + new tokens). Lets a
   * backend with `staticKv` return, from a prefill, a StaticKv of this capacity.
   */
  kvCapacity?: number;
  logits: 'all' | 'last';
  /** Return the new KV cache (past + these tokens). */
  wantKv: boolean;
  /** Use the runner's current adapter (default true when one is set). */
  useAdapter?: boolean;
}

export interface ForwardOutput {
  /** [B, S or 1, V] row-major. */
  logits: Float32Array;
  kv: GenerationKv | null;
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
    const bake = this.bakesGeneration(mode, logits, emitKv);
    return this.sessions.get(
      `${mode}|${logits}|${targets.join(',')}|${emitKv}${bake ? '|baked' : ''}`,
      () => {
        const graph = buildDecoderGraph(this.cfg, { mode, logits, loraTargets: targets, emitKv, weightDtype: this.backend.weightDtype ?? 'float32' }).graph;
        return bake ? { graph, sessionOptions: bakeWeights(graph, Object.fromEntries(this.weights)) } : graph;
      },
      (o) => keepKv && this.feeds.isKvOutput(o),
    );
  }

  /**
   * With `constantWeights`, generation (last logits and the KV cache) runs in one session per
   * adapter variant whose weights are constants (constant-weights.ts): the decode graph, which a
   * prefill also uses, with an empty past, so the weights are packed once, not twice.
   */
  private bakesGeneration(mode: GraphMode, logits: 'all' | 'last', emitKv: boolean): boolean {
    return this.backend.constantWeights === true && mode !== 'prefill' && logits === 'last' && emitKv;
  }

  /** Whether generation keeps its KV cache in host buffers (static-kv.ts). */
  get staticKv(): boolean {
    return this.backend.staticKv === true && !this.backend.keepKvOnDevice;
  }

  /** An empty KV cache for `batch` rows (the past of a prefill run through the decode graph). */
  private emptyKv(batch: number): KvCache {
    const dims = [batch, this.cfg.numKvHeads, 0, this.cfg.headDim];
    const empty = () => new this.backend.ort.Tensor('float32', new Float32Array(0), dims);
    return { length: 0, keys: Array.from({ length: this.cfg.numLayers }, empty), values: Array.from({ length: this.cfg.numLayers }, empty) };
  }

  async forward(input: ForwardInput): Promise<ForwardOutput> {
    const limit = this.cfg.maxPositionEmbeddings;
    for (const p of input.positions) {
      if (p >= limit) throw new Error(`position ${p} is beyond the model's max_position_embeddings (${limit})`);
    }
    if (input.past instanceof StaticKv) return this.forwardStatic(input, input.past);
    const capacity = input.wantKv && !input.past && this.staticKv ? input.kvCapacity : undefined;
    if (capacity !== undefined) {
      // The prefill of a generation runs through decode-static too, against zero stored columns
      // (so it computes what the prefill graph computes, on the prefill mask as it is): one
      // session for the whole generation, one set of packed weights when they are baked.
      return this.forwardStatic(input, new StaticKv(this.cfg, input.batch, capacity), 'none');
    }
    return this.forwardTensors({ ...input, past: input.past as KvCache | null | undefined });
  }

  /**
   * A step of the decode-static graph: reads `kv` in place (with `past` 'none', a prefill into an
   * empty cache, zero stored columns instead), then writes the new positions into it.
   */
  private async forwardStatic(input: ForwardInput, kv: StaticKv, past: 'stored' | 'none' = 'stored'): Promise<ForwardOutput> {
    if (input.batch !== kv.batch) throw new Error(`a batch of ${input.batch} rows against a KV cache of ${kv.batch}`);
    if (input.seq > kv.free) throw new Error(`KV cache full: ${kv.length + input.seq} positions, capacity ${kv.capacity}`);
    if (past === 'none' && kv.length > 0) throw new Error('a prefill without stored columns needs an empty KV cache');
    const useAdapter = (input.useAdapter ?? true) && this.adapter !== null;
    const { session } = await this.session('decode-static', input.logits, useAdapter ? this.adapter!.targets : [], true);
    const stored = past === 'none' ? 0 : kv.capacity;
    const feeds: TensorMap = { ...this.feeds.rows(input, stored + input.seq), ...Object.fromEntries(this.weights), ...kv.feeds(this.backend.ort.Tensor, stored) };
    if (useAdapter) Object.assign(feeds, this.adapter!.feeds);
    const out = await session.run(feeds);
    const logits = (await out.logits.getData()) as Float32Array;
    this.checkFinite(logits, input.batch, useAdapter);
    for (let l = 0; l < this.cfg.numLayers; l++) {
      kv.write(l, (await out[newKeyName(l)].getData()) as Float32Array, (await out[newValueName(l)].getData()) as Float32Array, input.seq);
    }
    kv.advance(input.seq);
    return { logits, kv };
  }

  private checkFinite(logits: Float32Array, batch: number, useAdapter: boolean): void {
    const bad = firstNonFinite(logits);
    if (bad < 0) return;
    const V = this.cfg.vocabSize;
    const perRow = logits.length / batch / V;
    const row = Math.floor(bad / V / perRow);
    throw new NonFiniteError(
      `the model computed a non-finite logit (${logits[bad]}) for batch row ${row}${perRow > 1 ? `, position ${Math.floor(bad / V) % perRow}` : ''}${useAdapter ? ' with the adapter applied' : ''}; the weights${useAdapter ? ' and adapter' : ''} overflow in the computation`,
    );
  }

  /** A pass of the prefill or concatenating decode graph (positions already checked by forward). */
  private async forwardTensors(input: ForwardInput & { past?: KvCache | null }): Promise<ForwardOutput & { kv: KvCache | null }> {
    const past = input.past ?? (this.bakesGeneration('decode', input.logits, input.wantKv) ? this.emptyKv(input.batch) : null);
    const total = (past?.length ?? 0) + input.seq;
    const useAdapter = (input.useAdapter ?? true) && this.adapter !== null;
    const { session } = await this.session(past ? 'decode' : 'prefill', input.logits, useAdapter ? this.adapter!.targets : [], input.wantKv);
    const feeds: TensorMap = { ...this.feeds.rows(input, total), ...Object.fromEntries(this.weights) };
    if (useAdapter) Object.assign(feeds, this.adapter!.feeds);
    if (past) Object.assign(feeds, this.feeds.past(past));
    const out = await session.run(feeds);
    const logits = (await out.logits.getData()) as Float32Array;
    const kv = input.wantKv ? this.feeds.present(out, total) : null;
    try {
      this.checkFinite(logits, input.batch, useAdapter);
    } catch (e) {
      ModelRunner.disposeKv(kv);
      throw e;
    }
    return { logits, kv };
  }

  /**
   * The final normalised hidden states [B, S, D] of some rows (no logits, no KV cache), with the
   * current adapter when `useAdapter` (default: without; embeddings describe the base model).
   */
  async hidden(rows: DecoderRows, useAdapter = false): Promise<Float32Array> {
    const withAdapter = useAdapter && this.adapter !== null;
    const targets = withAdapter ? this.adapter!.targets : [];
    const { session } = await this.sessions.get(`prefill|hidden|${targets.join(',')}`, () =>
      buildDecoderGraph(this.cfg, { mode: 'prefill', logits: 'none', loraTargets: targets, emitKv: false, emitHidden: true, weightDtype: this.backend.weightDtype ?? 'float32' }).graph,
    );
    const feeds: TensorMap = { ...this.feeds.rows(rows), ...Object.fromEntries(this.weights) };
    if (withAdapter) Object.assign(feeds, this.adapter!.feeds);
    const out = await session.run(feeds);
    return (await out.hidden.getData()) as Float32Array;
  }

  /**
   * A KV cache holding only the given batch rows (in that order), e.g. to stop decoding rows
   * that finished; the input cache is left as it is (the caller disposes it).
   */
  async keepRows<K extends GenerationKv>(kv: K, rows: readonly number[]): Promise<K> {
    if (kv instanceof StaticKv) {
      kv.keepRows(rows);
      return kv;
    }
    return (await this.keepTensorRows(kv as KvCache, rows)) as K;
  }

  private async keepTensorRows(kv: KvCache, rows: readonly number[]): Promise<KvCache> {
    const L = kv.keys.length;
    const { session } = await this.sessions.get(
      `kv-rows|${L}`,
      () => {
        const g = new Graph('kv_rows');
        const idx = g.input('rows', 'int64', ['rows']);
        for (const [prefix, list] of [['k', kv.keys], ['v', kv.values]] as const) {
          list.forEach((_, l) => {
            g.input(`${prefix}${l}`, 'float32', ['batch', 'heads', 'total', 'dim']);
            g.op('Gather', [`${prefix}${l}`, idx], { axis: attr.int(0) }, `${prefix}${l}.out`);
            g.output(`${prefix}${l}.out`, 'float32', ['rows', 'heads', 'total', 'dim']);
          });
        }
        return g;
      },
      () => this.backend.keepKvOnDevice,
    );
    const feeds: TensorMap = { rows: new this.backend.ort.Tensor('int64', BigInt64Array.from(rows, BigInt), [rows.length]) };
    kv.keys.forEach((t, l) => (feeds[`k${l}`] = t));
    kv.values.forEach((t, l) => (feeds[`v${l}`] = t));
    const out = await session.run(feeds);
    return { length: kv.length, keys: kv.keys.map((_, l) => out[`k${l}.out`]), values: kv.values.map((_, l) => out[`v${l}.out`]) };
  }

  /** Free device memory held by a KV cache. */
  static disposeKv(kv: GenerationKv | null | undefined): void {
    if (!kv || kv instanceof StaticKv) return;
    for (const t of [...kv.keys, ...kv.values]) t.dispose?.();
  }

  async release(): Promise<void> {
    await this.sessions.release();
    for (const t of this.weights.values()) t.dispose?.();
    this.weights.clear();
  }
}
