/**
 * The train step's loss head over the vocabulary, in chunks (the default), against the unchunked
 * head (`vocabChunk: 0`: the [B, S, V] logits materialized and differentiated by autodiff, the
 * head every other test checks against the float64 reference and finite differences).
 *
 * Same tiny models, LoRA on all seven projections, the three losses; chunks of 16 over a
 * vocabulary of 53 (four chunks, the last one short) and a single chunk. With every float value
 * serialized as float64, loss, diagnostics and every gradient agree to 1e-12 (measured: 2e-15):
 * the two heads are the same mathematics, summed in another order. In float32 the loss and the
 * per-token diagnostics at the loss positions agree to 1e-6 relative (max |a - b| over a tensor
 * divided by max |b|; measured at most 1.9e-7), the gradients to 2e-6 in norm (||a - b|| / ||b||
 * per tensor; measured 4e-7 .. 1.2e-6). That is below float32's own rounding of these gradients:
 * each head's float32 gradients differ from its float64 run by 2e-6 .. 1.2e-5, the same for both
 * heads (checked).
 *
 * Also: the chunked forward-only graphs (student top-k, teacher scoring, target log-probs) give
 * the unchunked ones' results, and recomputing each layer's activations in the backward pass
 * (`recompute: 'layers'`) gives the same gradients as keeping them.
 */
import type * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { LORA_TARGETS, type ModelConfig } from '../../../src/engine/models/types';
import { buildStudentTopkGraph, buildTargetLogpGraph, buildTeacherScoringGraph, buildTrainStepGraph, type LossSpec, type TrainStepOptions } from '../../../src/engine/train/train-graph';
import { Prng } from '../../../src/util/prng';
import { randomAdapter, randomWeights, tinyConfig } from '../../support/random-model';
import { decoderFeeds, f32, fmt, i64t, runGraph, scalar, side, type Feeds } from './graph-setup';

const K = 4;

/** max |a - b| / max |b| over one tensor. */
function tensorRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return m === 0 ? d : d / m;
}

/** ||a - b|| / ||b|| over one tensor. */
function normRelErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i] - b[i]) ** 2;
    m += b[i] ** 2;
  }
  return m === 0 ? Math.sqrt(d) : Math.sqrt(d / m);
}

/** Two left-padded rows with their last tokens as the response; every loss's inputs. */
function feedsFor(cfg: ModelConfig, loss: LossSpec, seed: number): { feeds: Feeds; mask: Float32Array } {
  const rng = new Prng(seed);
  const V = cfg.vocabSize;
  const tok = () => 2 + Math.floor(rng.next() * (V - 2));
  const st = side({ seqs: [Array.from({ length: 9 }, tok), Array.from({ length: 6 }, tok)], resp: [4, 3] });
  const { batch: B, seq: S } = st.batch;
  const feeds: Feeds = {
    ...decoderFeeds(cfg, st.batch, randomWeights(cfg, 11), randomAdapter(cfg, 7)),
    targets: i64t(st.targets, [B, S]),
    loss_mask: f32(st.mask, [B, S]),
    token_count: scalar(st.tokens),
  };
  const mask = st.mask;
  if (loss.kind === 'distill') {
    // Distinct ids per position (any ids will do for comparing two heads) and a teacher
    // distribution over the k + 1 buckets.
    const ids = new BigInt64Array(B * S * K);
    const top = new Float32Array(B * S * K);
    const tail = new Float32Array(B * S);
    for (let p = 0; p < B * S; p++) {
      const start = Math.floor(rng.next() * V);
      const w = Array.from({ length: K + 1 }, () => 0.2 + rng.next());
      const total = w.reduce((x, y) => x + y, 0);
      for (let i = 0; i < K; i++) {
        ids[p * K + i] = BigInt((start + i * 7) % V);
        top[p * K + i] = Math.log(w[i] / total);
      }
      tail[p] = Math.log(w[K] / total);
    }
    Object.assign(feeds, { topk_ids: i64t(ids, [B, S, K]), teacher_topk_logp: f32(top, [B, S, K]), teacher_tail_logp: f32(tail, [B, S]) });
  } else if (loss.kind === 'grpo') {
    feeds.advantages = f32([1.1, -0.8], [B]);
    // Old log-probs a little off the (roughly uniform) current ones, so some ratios clip.
    feeds.old_logp = f32(Array.from({ length: B * S }, () => -Math.log(V) + 0.6 * (rng.next() - 0.5)), [B, S]);
  }
  return { feeds, mask };
}

const cases: { label: string; cfg: ModelConfig; loss: LossSpec }[] = [
  { label: 'qwen3 tied ce', cfg: tinyConfig('qwen3', { tieWordEmbeddings: true }), loss: { kind: 'ce' } },
  { label: 'llama ce', cfg: tinyConfig('llama'), loss: { kind: 'ce' } },
  { label: 'qwen2 distill a=0.5', cfg: tinyConfig('qwen2'), loss: { kind: 'distill', alpha: 0.5, topk: K } },
  { label: 'olmo2 distill a=0', cfg: tinyConfig('olmo2'), loss: { kind: 'distill', alpha: 0, topk: K } },
  { label: 'qwen3 tied grpo', cfg: tinyConfig('qwen3', { tieWordEmbeddings: true }), loss: { kind: 'grpo', clipEps: 0.2 } },
];

function graphOf(cfg: ModelConfig, loss: LossSpec, extra: Partial<TrainStepOptions>) {
  return buildTrainStepGraph(cfg, { loss, trainable: 'lora', loraTargets: LORA_TARGETS, ...extra });
}

/** Worst relative error over the loss, the diagnostics at the loss positions and every gradient. */
async function compare(cfg: ModelConfig, loss: LossSpec, a: Partial<TrainStepOptions>, b: Partial<TrainStepOptions>, precision: 'float32' | 'float64') {
  const ga = graphOf(cfg, loss, a);
  const gb = graphOf(cfg, loss, b);
  expect(gb.outputs).toEqual(ga.outputs);
  const { feeds, mask } = feedsFor(cfg, loss, 3);
  const ra = await runGraph(ga.graph, feeds, precision);
  const rb = await runGraph(gb.graph, feeds, precision);
  const at = (t: ort.Tensor) => Array.from(t.data as Float32Array).filter((_, i) => mask[i]);
  const errs: Record<string, number> = { loss: tensorRelErr([Number(rb.loss.data[0])], [Number(ra.loss.data[0])]) };
  for (const d of ga.diagnostics) errs[d] = tensorRelErr(at(rb[d]), at(ra[d]));
  let grad = 0;
  let gradMax = 0;
  for (const g of ga.gradients) {
    grad = Math.max(grad, normRelErr(rb[g].data as Float32Array, ra[g].data as Float32Array));
    gradMax = Math.max(gradMax, tensorRelErr(rb[g].data as Float32Array, ra[g].data as Float32Array));
  }
  errs.gradients = grad;
  return { errs, gradMax };
}

/** Worst per-tensor ||g32 - g64|| / ||g64|| of a head's float32 gradients against its own float64 run. */
async function float32Noise(cfg: ModelConfig, loss: LossSpec, o: Partial<TrainStepOptions>): Promise<number> {
  const t = graphOf(cfg, loss, o);
  const { feeds } = feedsFor(cfg, loss, 3);
  const r32 = await runGraph(t.graph, feeds, 'float32');
  const r64 = await runGraph(t.graph, feeds, 'float64');
  let worst = 0;
  for (const g of t.gradients) worst = Math.max(worst, normRelErr(Array.from(r32[g].data as Float32Array), r64[g].data as Float64Array));
  return worst;
}

describe('chunked loss head', () => {
  it.each(cases)('$label: chunks of 16 and one chunk match the unchunked head', async ({ cfg, loss }) => {
    const lines: string[] = [];
    for (const chunk of [16, cfg.vocabSize]) {
      const r32 = await compare(cfg, loss, { vocabChunk: 0 }, { vocabChunk: chunk }, 'float32');
      const r64 = await compare(cfg, loss, { vocabChunk: 0 }, { vocabChunk: chunk }, 'float64');
      for (const [k, v] of Object.entries(r32.errs)) expect(v, `float32 ${k}, chunk ${chunk}`).toBeLessThan(k === 'gradients' ? 2e-6 : 1e-6);
      for (const [k, v] of Object.entries(r64.errs)) expect(v, `float64 ${k}, chunk ${chunk}`).toBeLessThan(1e-12);
      expect(r64.gradMax, `float64 gradients (elementwise), chunk ${chunk}`).toBeLessThan(1e-12);
      lines.push(
        `chunk ${chunk}: float32 ${Object.entries(r32.errs).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')} (elementwise ${fmt(r32.gradMax)}); float64 worst ${fmt(Math.max(r64.gradMax, ...Object.values(r64.errs)))}`,
      );
    }
    // Each head's own float32 rounding of the gradients (against its float64 run) is larger than
    // the difference between the two heads; the chunked head's is no worse.
    const noise = await float32Noise(cfg, loss, { vocabChunk: 0 });
    const noiseChunked = await float32Noise(cfg, loss, { vocabChunk: 16 });
    expect(noiseChunked).toBeLessThan(1.5 * noise);
    console.log(`${cfg.family}${cfg.tieWordEmbeddings ? ' tied' : ''} ${loss.kind}: ${lines.join(' | ')} | float32 vs float64 gradients: unchunked ${fmt(noise)}, chunked ${fmt(noiseChunked)}`);
  });

  it('the chunked head never forms [B, S, V] values; the unchunked one does', () => {
    const cfg = tinyConfig('llama');
    for (const loss of cases.map((c) => c.loss)) {
      const chunked = graphOf(cfg, loss, { vocabChunk: 16 }).graph;
      const full = graphOf(cfg, loss, { vocabChunk: 0 }).graph;
      const wide = (g: typeof chunked) => g.valueInfo.filter((v) => v.shape.at(-1) === cfg.vocabSize && v.shape.length > 1).length;
      expect(wide(full)).toBeGreaterThan(0);
      expect(wide(chunked)).toBe(0);
    }
  });

  it.each(['qwen3', 'llama'] as const)('%s: chunked student top-k ids, teacher scores and target log-probs match the unchunked graphs', async (family) => {
    const cfg = tinyConfig(family, { tieWordEmbeddings: family === 'qwen3' });
    const { feeds } = feedsFor(cfg, { kind: 'distill', alpha: 0.5, topk: K }, 4);
    for (const k of [K, 20]) {
      const ids = await Promise.all([0, 16].map(async (vocabChunk) => (await runGraph(buildStudentTopkGraph(cfg, { topk: k, loraTargets: LORA_TARGETS, vocabChunk }).graph, feeds)).topk_ids.data as BigInt64Array));
      expect(Array.from(ids[1])).toEqual(Array.from(ids[0]));
    }
    const scored = await Promise.all(
      [0, 16].map(async (vocabChunk) => runGraph(buildTeacherScoringGraph(cfg, { topk: K, loraTargets: LORA_TARGETS, vocabChunk }).graph, { ...feeds })),
    );
    for (const o of ['teacher_topk_logp', 'teacher_tail_logp', 'teacher_logp_token']) expect(tensorRelErr(scored[1][o].data as Float32Array, scored[0][o].data as Float32Array), o).toBeLessThan(1e-6);
    const lp = await Promise.all([0, 16].map(async (vocabChunk) => (await runGraph(buildTargetLogpGraph(cfg, { loraTargets: LORA_TARGETS, vocabChunk }), feeds)).target_logp.data as Float32Array));
    expect(tensorRelErr(lp[1], lp[0])).toBeLessThan(1e-6);
  });

  it.each(cases)('$label: recomputing layer activations in the backward pass gives the same gradients', async ({ cfg, loss }) => {
    const count = (o: Partial<TrainStepOptions>) => graphOf(cfg, loss, o).graph.nodes.filter((n) => n.opType === 'Gemm').length;
    // Another forward pass of the layers (up to 7 base + 14 LoRA products per layer, less the
    // ones no gradient reads) is in the graph.
    const extra = count({ recompute: 'layers' }) - count({});
    expect(extra).toBeGreaterThan(cfg.numLayers * 15);
    expect(extra).toBeLessThanOrEqual(cfg.numLayers * 21);
    const { errs, gradMax } = await compare(cfg, loss, {}, { recompute: 'layers' }, 'float32');
    for (const [k, v] of Object.entries(errs)) expect(v, k).toBeLessThan(1e-6);
    expect(gradMax).toBeLessThan(1e-6);
  });
});
