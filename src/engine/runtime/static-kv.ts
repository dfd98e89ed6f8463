/**
 * A KV cache kept on the host in buffers sized once for the whole generation, for the CPU
 * backends: each decode step reads them in place (the decode-static graph) and the host writes
 * the step's new keys and values into the next free columns. The dynamic cache instead makes
 * every step concatenate the whole past, transpose the keys and hand the result back: several
 * passes over the cache per step, which dominate long generations (docs/benchmarks.md).
 *
 * Per layer: keys transposed, [batch, kvHeads, headDim, capacity]; values [batch, kvHeads,
 * capacity, headDim]. Columns at or past `length` are zeros and masked.
 */
import { MASK_NEG, staticKeyName, staticValueName } from '../models/decoder-graph';
import type { ModelConfig } from '../models/types';
import type { TensorMap } from './graph-session';
import type { OrtModule } from './ort-types';

export class StaticKv {
  readonly keysT: Float32Array[];
  readonly values: Float32Array[];
  /** Positions filled so far. */
  length = 0;

  constructor(readonly cfg: Pick<ModelConfig, 'numLayers' | 'numKvHeads' | 'headDim'>, public batch: number, readonly capacity: number) {
    if (!(Number.isInteger(capacity) && capacity > 0)) throw new Error(`KV capacity must be a positive whole number, got ${capacity}`);
    const size = batch * cfg.numKvHeads * cfg.headDim * capacity;
    this.keysT = Array.from({ length: cfg.numLayers }, () => new Float32Array(size));
    this.values = Array.from({ length: cfg.numLayers }, () => new Float32Array(size));
  }

  /** Room left for new positions. */
  get free(): number {
    return this.capacity - this.length;
  }

  /**
   * Write the keys and values of `seq` new positions of layer `l` ([batch, kvHeads, seq,
   * headDim] each) into the next columns. Call for every layer, then `advance(seq)`.
   */
  write(l: number, keys: Float32Array, values: Float32Array, seq: number): void {
    const { numKvHeads: KV, headDim: hd } = this.cfg;
    const cap = this.capacity;
    if (seq > this.free) throw new Error(`KV cache full: ${seq} new positions, ${this.free} free of ${cap}`);
    if (keys.length !== this.batch * KV * seq * hd || values.length !== keys.length) throw new Error(`new keys/values of layer ${l} do not match [${this.batch}, ${KV}, ${seq}, ${hd}]`);
    const kT = this.keysT[l];
    const v = this.values[l];
    const at = this.length;
    for (let bh = 0; bh < this.batch * KV; bh++) {
      const src = bh * seq * hd;
      const kBase = bh * hd * cap + at;
      v.set(values.subarray(src, src + seq * hd), bh * cap * hd + at * hd);
      for (let s = 0; s < seq; s++) {
        const row = src + s * hd;
        for (let d = 0; d < hd; d++) kT[kBase + d * cap + s] = keys[row + d];
      }
    }
  }

  advance(seq: number): void {
    this.length += seq;
  }

  /** Keep only the given batch rows, in that order (rows leaving the batch); compacts in place. */
  keepRows(rows: readonly number[]): void {
    const per = this.cfg.numKvHeads * this.cfg.headDim * this.capacity;
    rows.forEach((r, i) => {
      if (!(Number.isInteger(r) && r >= 0 && r < this.batch)) throw new Error(`row ${r} is not in a batch of ${this.batch}`);
      if (i > 0 && r <= rows[i - 1]) throw new Error('rows to keep must be in increasing order');
    });
    for (const list of [this.keysT, this.values]) {
      for (const buf of list) rows.forEach((r, i) => r !== i && buf.copyWithin(i * per, r * per, (r + 1) * per));
    }
    this.batch = rows.length;
  }

  /**
   * The decode-static graph's past inputs, views of the buffers for the current batch; with
   * `columns` 0 (a prefill into the empty cache), empty tensors with no stored columns.
   */
  feeds(T: OrtModule['Tensor'], columns: number = this.capacity): TensorMap {
    if (columns !== 0 && columns !== this.capacity) throw new Error(`the stored columns are all ${this.capacity} or none, not ${columns}`);
    const { numKvHeads: KV, headDim: hd } = this.cfg;
    const n = this.batch * KV * hd * columns;
    const feeds: TensorMap = {};
    for (let l = 0; l < this.cfg.numLayers; l++) {
      feeds[staticKeyName(l)] = new T('float32', this.keysT[l].subarray(0, n), [this.batch, KV, hd, columns]);
      feeds[staticValueName(l)] = new T('float32', this.values[l].subarray(0, n), [this.batch, KV, columns, hd]);
    }
    return feeds;
  }
}

/**
 * The decode-static mask for `newTokens` query positions after `past` stored ones, [B, S,
 * capacity + S]: row b sees stored column j when pad[b] <= j < past, and new position i' when
 * pad[b] <= past + i' and i' <= its own. The same pattern as batch.ts's stepMask, laid out for
 * the graph's columns.
 */
export function staticStepMask(pad: readonly number[], past: number, capacity: number, newTokens: number): Float32Array {
  const B = pad.length;
  const T = capacity + newTokens;
  const m = new Float32Array(B * newTokens * T).fill(MASK_NEG);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < newTokens; i++) {
      const row = (b * newTokens + i) * T;
      m.fill(0, row + pad[b], row + Math.max(pad[b], past));
      m.fill(0, row + capacity + Math.max(0, pad[b] - past), row + capacity + i + 1);
    }
  }
  return m;
}
