/**
 * Owns a model on one backend: the uploaded weights, the current LoRA adapter, and a cache of
 * sessions (one per graph variant). Every session reads the same weight tensors.
 */
import { buildDecoderGraph, ropeInvFreq, ropeTables, loraInputNames, pastKeyName, pastValueName, presentKeyName, presentValueName, type GraphMode } from '../models/decoder-graph';
import { serializeGraph } from '../onnx/serialize';
import { LORA_TARGETS, loraScale, projectionPath, type LoraAdapter, type LoraTarget, type ModelConfig, type WeightMap } from '../models/types';
import type { EngineBackend, OrtSession, OrtTensor } from './ort-types';
import { uploadModelWeights } from './upload';

export interface KvCache {
  /** Cached positions (including left padding). */
  length: number;
  keys: OrtTensor[];
  values: OrtTensor[];
}

export interface ForwardInput {
  ids: BigInt64Array;
  positions: BigInt64Array;
  mask: Float32Array;
  batch: number;
  seq: number;
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
  private sessions = new Map<string, Promise<OrtSession>>();
  private adapter: { targets: LoraTarget[]; feeds: Record<string, OrtTensor> } | null = null;

  private readonly invFreq: Float64Array;

  constructor(readonly cfg: ModelConfig, readonly backend: EngineBackend) {
    this.invFreq = ropeInvFreq(cfg);
  }

  /** Upload weights once; the host copies can be dropped afterwards by the caller. */
  async loadWeights(w: WeightMap, onProgress?: (done: number, total: number) => void): Promise<void> {
    for (const [name, t] of await uploadModelWeights(this.backend, this.cfg, w, onProgress)) this.weights.set(name, t);
  }

  /** Set (or clear) the LoRA adapter applied by every following forward pass. */
  setAdapter(adapter: LoraAdapter | null): void {
    if (!adapter) {
      this.adapter = null;
      return;
    }
    const T = this.backend.ort.Tensor;
    const targets = LORA_TARGETS.filter((t) => adapter.config.targetModules.includes(t));
    const feeds: Record<string, OrtTensor> = { lora_scale: new T('float32', Float32Array.of(loraScale(adapter.config)), []) };
    for (let l = 0; l < this.cfg.numLayers; l++) {
      for (const t of targets) {
        const module = projectionPath(l, t);
        const m = adapter.modules.get(module);
        if (!m) throw new Error(`adapter lacks ${module} although it targets ${t}`);
        const names = loraInputNames(module);
        feeds[names.a] = new T('float32', m.A.data, m.A.dims);
        feeds[names.b] = new T('float32', m.B.data, m.B.dims);
      }
    }
    this.adapter = { targets, feeds };
  }

  /** The uploaded weight tensors by name, for other graphs (training, teacher scoring) to share. */
  weightFeeds(): Record<string, OrtTensor> {
    if (this.weights.size === 0) throw new Error('the model has no uploaded weights yet');
    return Object.fromEntries(this.weights);
  }

  get hasAdapter(): boolean {
    return this.adapter !== null;
  }

  private session(mode: GraphMode, logits: 'all' | 'last', targets: readonly LoraTarget[], emitKv: boolean): Promise<OrtSession> {
    const key = `${mode}|${logits}|${targets.join(',')}|${emitKv}`;
    let s = this.sessions.get(key);
    if (!s) {
      const spec = buildDecoderGraph(this.cfg, { mode, logits, loraTargets: targets, emitKv, weightDtype: this.backend.weightDtype ?? 'float32' });
      const bytes = serializeGraph(spec.graph);
      const opts = { ...this.backend.sessionOptions };
      if (this.backend.keepKvOnDevice && emitKv) {
        const loc: Record<string, 'gpu-buffer' | 'cpu'> = { logits: 'cpu' };
        for (let l = 0; l < this.cfg.numLayers; l++) {
          loc[presentKeyName(l)] = 'gpu-buffer';
          loc[presentValueName(l)] = 'gpu-buffer';
        }
        opts.preferredOutputLocation = loc;
      }
      s = this.backend.ort.InferenceSession.create(bytes, opts);
      this.sessions.set(key, s);
    }
    return s;
  }

  async forward(input: ForwardInput): Promise<ForwardOutput> {
    const T = this.backend.ort.Tensor;
    const { batch: B, seq: S } = input;
    const past = input.past ?? null;
    const total = (past?.length ?? 0) + S;
    if (input.ids.length !== B * S || input.positions.length !== B * S) throw new Error('ids/positions do not match batch x seq');
    if (input.mask.length !== B * S * total) throw new Error(`mask has ${input.mask.length} values, expected ${B * S * total}`);
    const useAdapter = (input.useAdapter ?? true) && this.adapter !== null;
    const targets = useAdapter ? this.adapter!.targets : [];
    const session = await this.session(past ? 'decode' : 'prefill', input.logits, targets, input.wantKv);

    const rope = ropeTables(this.invFreq, input.positions);
    const feeds: Record<string, OrtTensor> = {
      input_ids: new T('int64', input.ids, [B, S]),
      rope_cos: new T('float32', rope.cos, [B, S, this.invFreq.length]),
      rope_sin: new T('float32', rope.sin, [B, S, this.invFreq.length]),
      attention_bias: new T('float32', input.mask, [B, S, total]),
    };
    for (const [n, t] of this.weights) feeds[n] = t;
    if (useAdapter) Object.assign(feeds, this.adapter!.feeds);
    if (past) {
      for (let l = 0; l < this.cfg.numLayers; l++) {
        feeds[pastKeyName(l)] = past.keys[l];
        feeds[pastValueName(l)] = past.values[l];
      }
    }
    const out = await session.run(feeds);
    const logitsT = out.logits;
    const logits = (await logitsT.getData()) as Float32Array;
    let kv: KvCache | null = null;
    if (input.wantKv) {
      kv = { length: total, keys: [], values: [] };
      for (let l = 0; l < this.cfg.numLayers; l++) {
        kv.keys.push(out[presentKeyName(l)]);
        kv.values.push(out[presentValueName(l)]);
      }
    }
    return { logits, kv };
  }

  /** Free device memory held by a KV cache. */
  static disposeKv(kv: KvCache | null | undefined): void {
    if (!kv) return;
    for (const t of [...kv.keys, ...kv.values]) t.dispose?.();
  }

  async release(): Promise<void> {
    for (const s of this.sessions.values()) await (await s).release();
    this.sessions.clear();
    for (const t of this.weights.values()) t.dispose?.();
    this.weights.clear();
  }
}
