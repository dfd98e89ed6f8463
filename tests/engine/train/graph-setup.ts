/** Shared helpers of the train-graph tests: running graphs with onnxruntime-node in float32 or float64. */
import * as ort from 'onnxruntime-node';
import type { Graph } from '../../../src/engine/onnx/graph';
import { ropeInvFreq, ropeTables } from '../../../src/engine/models/decoder-graph';
import { loraScale, type LoraAdapter, type ModelConfig, type WeightMap } from '../../../src/engine/models/types';
import { leftPadBatch, type PaddedBatch } from '../../../src/engine/runtime/batch';
import { session, toFloat64Feeds, type Feeds, type Precision } from '../autodiff/helpers';

export type { Feeds } from '../autodiff/helpers';

export async function runGraph(g: Graph, feeds: Feeds, precision: Precision = 'float32', fetch?: string[]): Promise<Record<string, ort.Tensor>> {
  const s = await session(g, precision);
  try {
    const f = precision === 'float64' ? toFloat64Feeds(feeds) : feeds;
    return (await (fetch ? s.run(f, fetch) : s.run(f))) as Record<string, ort.Tensor>;
  } finally {
    await s.release();
  }
}

export const f32 = (data: ArrayLike<number>, dims: number[]) => new ort.Tensor('float32', Float32Array.from(data), dims);
export const i64t = (data: BigInt64Array, dims: number[]) => new ort.Tensor('int64', data, dims);
export const scalar = (v: number) => new ort.Tensor('float32', Float32Array.of(v), []);
export const num = (t: ort.Tensor): number[] => Array.from(t.data as Float32Array | Float64Array);

/** max |a - b| / max(1, |b|) elementwise. */
export function maxRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let e = 0;
  for (let i = 0; i < a.length; i++) e = Math.max(e, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return e;
}

/** |a - b| / |b| (absolute when b is 0). */
export function relErr(a: number, b: number): number {
  return b === 0 ? Math.abs(a) : Math.abs(a - b) / Math.abs(b);
}

/** ||g - r|| / ||r|| over the listed coordinates. */
export function normErr(g: ArrayLike<number>, idx: number[], ref: number[]): number {
  let num2 = 0;
  let den2 = 0;
  idx.forEach((i, k) => {
    num2 += (g[i] - ref[k]) ** 2;
    den2 += ref[k] ** 2;
  });
  return den2 === 0 ? Math.sqrt(num2) : Math.sqrt(num2 / den2);
}

export const fmt = (e: number) => e.toExponential(1);

export interface Seqs {
  seqs: number[][];
  /** Response tokens at the end of each sequence. */
  resp: number[];
}

export interface Side {
  batch: PaddedBatch;
  targets: BigInt64Array;
  mask: Float32Array;
  tokens: number;
}

/** Targets, loss mask and token count of left-padded rows whose last `resp` tokens are the response. */
export function side(s: Seqs): Side {
  const batch = leftPadBatch(s.seqs, 0);
  const { batch: B, seq: S } = batch;
  const targets = new BigInt64Array(B * S);
  const mask = new Float32Array(B * S);
  let tokens = 0;
  for (let b = 0; b < B; b++) {
    for (let p = batch.pad[b]; p < S - 1; p++) targets[b * S + p] = batch.ids[b * S + p + 1];
    for (let p = S - 1 - s.resp[b]; p < S - 1; p++) {
      mask[b * S + p] = 1;
      tokens++;
    }
  }
  return { batch, targets, mask, tokens };
}

export function decoderFeeds(cfg: ModelConfig, b: PaddedBatch, w: WeightMap, adapter: LoraAdapter | null): Feeds {
  const { batch: B, seq: S } = b;
  const rope = ropeTables(ropeInvFreq(cfg), b.positions);
  const feeds: Feeds = {
    input_ids: i64t(b.ids, [B, S]),
    rope_cos: f32(rope.cos, [B, S, cfg.headDim / 2]),
    rope_sin: f32(rope.sin, [B, S, cfg.headDim / 2]),
    attention_bias: f32(b.mask, [B, S, S]),
  };
  // Tensors share the host arrays, so perturbing them in place perturbs the feeds.
  for (const [name, t] of w) feeds[name] = new ort.Tensor('float32', t.data, t.dims);
  if (adapter) {
    feeds.lora_scale = scalar(loraScale(adapter.config));
    for (const [module, m] of adapter.modules) {
      feeds[`${module}.lora_A`] = new ort.Tensor('float32', m.A.data, m.A.dims);
      feeds[`${module}.lora_B`] = new ort.Tensor('float32', m.B.data, m.B.dims);
    }
  }
  return feeds;
}

