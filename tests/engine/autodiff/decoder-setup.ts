/**
 * The decoder graph with training losses appended, and its feeds, for the autodiff tests.
 *
 * Two losses over the prefill logits of a left-padded batch of two sequences:
 *  - 'weighted': sum(logits * R), R random and zero on padding rows;
 *  - 'training': token cross-entropy (LogSoftmax + GatherElements), a top-k distillation term
 *    (TopK indices of the model's own logits, non-differentiable, then GatherElements of the
 *    log-probs) and a PPO clipped objective (Exp, Clip, Min), all masked to real tokens.
 * Padding rows are excluded from both: a fully masked attention row is constant in float32
 * (scores are all -1e9), so its analytic and numeric gradients legitimately differ.
 */
import * as ort from 'onnxruntime-node';
import { attr } from '../../../src/engine/onnx/graph';
import { serializeGraph } from '../../../src/engine/onnx/serialize';
import { buildDecoderGraph, ropeInvFreq, ropeTables } from '../../../src/engine/models/decoder-graph';
import { leftPadBatch } from '../../../src/engine/runtime/batch';
import { LORA_TARGETS, loraScale, projectionPath, type ModelConfig } from '../../../src/engine/models/types';
import { Prng } from '../../../src/util/prng';
import { randomAdapter, randomWeights } from '../../support/random-model';
import type { Graph } from '../../../src/engine/onnx/graph';

export type LossKind = 'weighted' | 'training';

export interface DecoderCase {
  graph: Graph;
  feeds: Record<string, ort.Tensor>;
  /** Token ids of real (non-padding) positions. */
  usedIds: number[];
  /** Smallest gap between the k-th and (k+1)-th logit over real positions (top-k stability). */
  topkGap: number;
}

export const TOPK = 3;

export function decoderCase(cfg: ModelConfig, loss: LossKind, seed = 5, logits: 'all' | 'last' = 'all'): DecoderCase {
  const spec = buildDecoderGraph(cfg, { mode: 'prefill', logits, loraTargets: LORA_TARGETS, emitKv: false });
  if (logits === 'last' && loss !== 'weighted') throw new Error('last-position logits are only set up for the weighted loss');
  const g = spec.graph;
  const rng = new Prng(seed);
  const seqs = [
    Array.from({ length: 7 }, () => 2 + Math.floor(rng.next() * (cfg.vocabSize - 2))),
    Array.from({ length: 4 }, () => 2 + Math.floor(rng.next() * (cfg.vocabSize - 2))),
  ];
  const b = leftPadBatch(seqs, 0);
  const { batch: B, seq: S } = b;
  const V = cfg.vocabSize;
  const real = (bi: number, s: number) => s >= b.pad[bi];
  const rope = ropeTables(ropeInvFreq(cfg), b.positions);
  const half = cfg.headDim / 2;
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', b.ids, [B, S]),
    rope_cos: new ort.Tensor('float32', rope.cos, [B, S, half]),
    rope_sin: new ort.Tensor('float32', rope.sin, [B, S, half]),
    attention_bias: new ort.Tensor('float32', b.mask, [B, S, S]),
  };
  for (const [name, t] of randomWeights(cfg, 11)) feeds[name] = new ort.Tensor('float32', t.data, t.dims);
  const adapter = randomAdapter(cfg, 7);
  feeds.lora_scale = new ort.Tensor('float32', Float32Array.of(loraScale(adapter.config)), []);
  for (let l = 0; l < cfg.numLayers; l++) {
    for (const t of LORA_TARGETS) {
      const m = adapter.modules.get(projectionPath(l, t))!;
      feeds[`${projectionPath(l, t)}.lora_A`] = new ort.Tensor('float32', m.A.data, m.A.dims);
      feeds[`${projectionPath(l, t)}.lora_B`] = new ort.Tensor('float32', m.B.data, m.B.dims);
    }
  }

  if (loss === 'weighted') {
    const rows = logits === 'last' ? 1 : S;
    const r = new Float32Array(B * rows * V);
    for (let bi = 0; bi < B; bi++) for (let s = 0; s < rows; s++) if (real(bi, s + S - rows)) for (let v = 0; v < V; v++) r[(bi * rows + s) * V + v] = 0.5 + rng.normal();
    g.input('loss_r', 'float32', ['batch', logits === 'last' ? 1 : 'seq', V]);
    feeds.loss_r = new ort.Tensor('float32', r, [B, rows, V]);
    g.op('ReduceSum', [g.op('Mul', ['logits', 'loss_r'])], { keepdims: attr.int(0) }, 'loss');
  } else {
    // Next-token targets on real positions (the last position predicts a random token).
    const tgt = new BigInt64Array(B * S);
    const w = new Float32Array(B * S);
    const oldLp = new Float32Array(B * S);
    const adv = new Float32Array(B * S);
    const q = new Float32Array(B * S * TOPK);
    let count = 0;
    for (let bi = 0; bi < B; bi++)
      for (let s = 0; s < S; s++) {
        const i = bi * S + s;
        tgt[i] = BigInt(s + 1 < S ? Number(b.ids[i + 1]) : 1 + Math.floor(rng.next() * (V - 1)));
        if (real(bi, s)) {
          w[i] = 1;
          count++;
        }
        adv[i] = rng.normal();
        for (let k = 0; k < TOPK; k++) q[i * TOPK + k] = 0.2 + 0.6 * rng.next();
      }
    for (const [name, dims] of [['targets', [B, S, 1]], ['tok_w', [B, S, 1]], ['old_lp', [B, S, 1]], ['adv', [B, S, 1]], ['teacher_q', [B, S, TOPK]]] as const) {
      g.input(name, name === 'targets' ? 'int64' : 'float32', ['batch', 'seq', dims[2]]);
    }
    feeds.targets = new ort.Tensor('int64', tgt, [B, S, 1]);
    feeds.tok_w = new ort.Tensor('float32', w, [B, S, 1]);
    feeds.adv = new ort.Tensor('float32', adv, [B, S, 1]);
    feeds.teacher_q = new ort.Tensor('float32', q, [B, S, TOPK]);
    // old log-probs: the current ones shifted so the PPO ratios are 0.6..1.4, off the clip edges.
    feeds.old_lp = new ort.Tensor('float32', oldLp, [B, S, 1]);

    const logp = g.op('LogSoftmax', ['logits'], { axis: attr.int(-1) });
    const picked = g.op('GatherElements', [logp, 'targets'], { axis: attr.int(-1) }); // [B,S,1]
    g.op('Identity', [picked], {}, 'picked_lp');
    g.output('picked_lp', 'float32', ['batch', 'seq', 1]);
    const ce = g.op('Div', [g.op('Neg', [g.op('ReduceSum', [g.op('Mul', [picked, 'tok_w'])], { keepdims: attr.int(0) })]), g.scalar(count)]);
    const [, topIdx] = g.node('TopK', ['logits', g.i64([TOPK])], { axis: attr.int(-1) }, 2);
    const topLp = g.op('GatherElements', [logp, topIdx], { axis: attr.int(-1) }); // [B,S,k]
    const kd = g.op('Mul', [g.op('Neg', [g.op('ReduceSum', [g.op('Mul', [g.op('Mul', [topLp, 'teacher_q']), 'tok_w'])], { keepdims: attr.int(0) })]), g.scalar(0.5 / count)]);
    const ratio = g.op('Exp', [g.op('Sub', [picked, 'old_lp'])]);
    const clipped = g.op('Clip', [ratio, g.scalar(0.8), g.scalar(1.2)]);
    const obj = g.op('Min', [g.op('Mul', [ratio, 'adv']), g.op('Mul', [clipped, 'adv'])]);
    const ppo = g.op('Neg', [g.op('ReduceMean', [g.op('Mul', [obj, 'tok_w'])], { keepdims: attr.int(0) })]);
    g.op('Sum', [ce, kd, ppo], {}, 'loss');
  }
  g.output('loss', 'float32', []);
  const usedIds = seqs.flat();
  return { graph: g, feeds, usedIds, topkGap: Infinity };
}

/** Fill old_lp so each PPO ratio exp(lp - old_lp) is one of 0.6, 0.9, 1.0, 1.1, 1.4; measure the top-k gap. */
export async function finishTrainingFeeds(c: DecoderCase, cfg: ModelConfig): Promise<void> {
  const s = await ort.InferenceSession.create(serializeGraph(c.graph));
  try {
    const out = await s.run(c.feeds, ['logits', 'picked_lp']);
    const lp = out.picked_lp.data as Float32Array;
    const ratios = [0.6, 0.9, 1.0, 1.1, 1.4];
    const old = c.feeds.old_lp.data as Float32Array;
    for (let i = 0; i < lp.length; i++) old[i] = lp[i] - Math.log(ratios[i % ratios.length]);
    const logits = out.logits.data as Float32Array;
    const w = c.feeds.tok_w.data as Float32Array;
    const V = cfg.vocabSize;
    let gap = Infinity;
    for (let i = 0; i < w.length; i++) {
      if (!w[i]) continue;
      const row = Array.from(logits.subarray(i * V, (i + 1) * V)).sort((a, b) => b - a);
      gap = Math.min(gap, row[TOPK - 1] - row[TOPK]);
    }
    c.topkGap = gap;
  } finally {
    await s.release();
  }
}
