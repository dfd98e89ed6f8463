/**
 * Host-side preparation of batched inputs: left padding, position ids and the additive
 * attention mask. Sequences of different lengths share one batch by padding on the left, so
 * every sequence's newest token sits in the last column and decoding appends in lockstep.
 */
import { MASK_NEG } from '../models/decoder-graph';

export interface PaddedBatch {
  batch: number;
  seq: number;
  /** Left padding per row. */
  pad: number[];
  ids: BigInt64Array;
  positions: BigInt64Array;
  /** [B, S, S] additive causal mask that also hides the padding. */
  mask: Float32Array;
}

export function leftPadBatch(seqs: readonly (readonly number[])[], padId: number): PaddedBatch {
  if (seqs.length === 0) throw new Error('empty batch');
  const S = Math.max(...seqs.map((s) => s.length));
  if (S === 0) throw new Error('every sequence in the batch is empty');
  const B = seqs.length;
  const ids = new BigInt64Array(B * S);
  const positions = new BigInt64Array(B * S);
  const pad: number[] = [];
  for (let b = 0; b < B; b++) {
    const s = seqs[b];
    if (s.length === 0) throw new Error(`sequence ${b} is empty`);
    const p = S - s.length;
    pad.push(p);
    for (let j = 0; j < S; j++) {
      ids[b * S + j] = BigInt(j < p ? padId : s[j - p]);
      positions[b * S + j] = BigInt(Math.max(0, j - p));
    }
  }
  return { batch: B, seq: S, pad, ids, positions, mask: stepMask(pad, 0, S) };
}

/**
 * Mask for `newTokens` query positions following `past` cached positions: row b may see key
 * column j when j is not padding and j <= its own absolute column.
 */
export function stepMask(pad: readonly number[], past: number, newTokens: number): Float32Array {
  const B = pad.length;
  const T = past + newTokens;
  const m = new Float32Array(B * newTokens * T);
  for (let b = 0; b < B; b++) {
    for (let i = 0; i < newTokens; i++) {
      const self = past + i;
      const row = (b * newTokens + i) * T;
      for (let j = 0; j < T; j++) m[row + j] = j >= pad[b] && j <= self ? 0 : MASK_NEG;
    }
  }
  return m;
}
