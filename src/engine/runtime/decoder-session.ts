/**
 * The one place that turns host data into decoder-graph feeds, for generation (ModelRunner) and
 * training (Trainer) alike: token ids, the RoPE tables (computed here in float64, see
 * decoder-graph.ts), the additive attention bias, the LoRA factors with `lora_scale`, and the
 * KV cache. Input names come from decoder-graph.ts's tables.
 */
import { DECODER_INPUT, loraInputNames, pastKeyName, pastValueName, presentKeyName, presentValueName, ropeInvFreq, ropeTables } from '../models/decoder-graph';
import { LORA_TARGETS, loraScale, projectionPath, type LoraAdapter, type LoraConfig, type LoraTarget, type ModelConfig } from '../models/types';
import type { TensorMap } from './graph-session';
import type { OrtModule, OrtTensor } from './ort-types';

/** Left-padded rows of token ids with their positions and attention mask (runtime/batch.ts). */
export interface DecoderRows {
  batch: number;
  seq: number;
  ids: BigInt64Array;
  positions: BigInt64Array;
  /** Additive mask [batch, seq, total]. */
  mask: Float32Array;
}

/** A KV cache: one key and one value tensor per layer, covering `length` positions. */
export interface KvCache {
  length: number;
  keys: OrtTensor[];
  values: OrtTensor[];
}

/** `lora_scale` as the graphs take it (rank-0 float32). */
export function loraScaleFeed(T: OrtModule['Tensor'], lora: LoraConfig): OrtTensor {
  return new T('float32', Float32Array.of(loraScale(lora)), []);
}

export class DecoderFeeds {
  private readonly invFreq: Float64Array;

  constructor(readonly cfg: ModelConfig, private readonly T: OrtModule['Tensor']) {
    this.invFreq = ropeInvFreq(cfg);
  }

  /** Ids, RoPE tables and attention bias of some rows; `total` is the key length (cached + new). */
  rows(r: DecoderRows, total = r.seq): TensorMap {
    if (r.ids.length !== r.batch * r.seq || r.positions.length !== r.batch * r.seq) throw new Error('ids/positions do not match batch x seq');
    if (r.mask.length !== r.batch * r.seq * total) throw new Error(`mask has ${r.mask.length} values, expected ${r.batch * r.seq * total}`);
    const rope = ropeTables(this.invFreq, r.positions);
    const half = this.invFreq.length;
    return {
      [DECODER_INPUT.ids]: new this.T('int64', r.ids, [r.batch, r.seq]),
      [DECODER_INPUT.ropeCos]: new this.T('float32', rope.cos, [r.batch, r.seq, half]),
      [DECODER_INPUT.ropeSin]: new this.T('float32', rope.sin, [r.batch, r.seq, half]),
      [DECODER_INPUT.attentionBias]: new this.T('float32', r.mask, [r.batch, r.seq, total]),
    };
  }

  /** The LoRA factors of an adapter for the targets it covers, and `lora_scale`. */
  adapter(adapter: LoraAdapter): { targets: LoraTarget[]; feeds: TensorMap } {
    const targets = LORA_TARGETS.filter((t) => adapter.config.targetModules.includes(t));
    const feeds: TensorMap = { [DECODER_INPUT.loraScale]: loraScaleFeed(this.T, adapter.config) };
    for (let l = 0; l < this.cfg.numLayers; l++) {
      for (const t of targets) {
        const module = projectionPath(l, t);
        const m = adapter.modules.get(module);
        if (!m) throw new Error(`adapter lacks ${module} although it targets ${t}`);
        const names = loraInputNames(module);
        feeds[names.a] = new this.T('float32', m.A.data, m.A.dims);
        feeds[names.b] = new this.T('float32', m.B.data, m.B.dims);
      }
    }
    return { targets, feeds };
  }

  /** The past.* inputs of a decode step. */
  past(kv: KvCache): TensorMap {
    const feeds: TensorMap = {};
    for (let l = 0; l < this.cfg.numLayers; l++) {
      feeds[pastKeyName(l)] = kv.keys[l];
      feeds[pastValueName(l)] = kv.values[l];
    }
    return feeds;
  }

  /** The present.* outputs of a run as the cache for the next step. */
  present(out: TensorMap, length: number): KvCache {
    const kv: KvCache = { length, keys: [], values: [] };
    for (let l = 0; l < this.cfg.numLayers; l++) {
      kv.keys.push(out[presentKeyName(l)]);
      kv.values.push(out[presentValueName(l)]);
    }
    return kv;
  }

  /** Output names of the KV cache (to keep them on the device). */
  isKvOutput(name: string): boolean {
    return name.startsWith('present.');
  }
}
