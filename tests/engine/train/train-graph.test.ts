/**
 * End to end: buildTrainStepGraph on the tiny decoder of every family (and a tied-embedding
 * qwen3) with LoRA on all seven projections, for the three losses, plus full fine-tuning for one
 * family. The distillation case runs the whole flow: student top-k graph -> ids moved to the
 * teacher's (longer, reprompted) sequences -> teacher scoring graph with the teacher's own
 * adapter -> values moved back -> train step.
 *
 * References, all float64 and independent of the engine: tests/reference/forward.ts for the
 * logits and ./reference-losses.ts for the losses. Gradients are checked two ways against
 * finite differences: of the float64 serialization of the train-step graph itself (as
 * tests/autodiff does: isolates the backward rules), and of the reference forward + reference
 * loss (isolates everything). Errors are ||g - fd|| / ||fd|| per tensor over the sampled
 * coordinates.
 */
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { LORA_TARGETS, projectionPath, type LoraAdapter, type ModelConfig, type WeightMap } from '../../../src/engine/models/types';
import type { PaddedBatch } from '../../../src/engine/runtime/batch';
import { buildStudentTopkGraph, buildTeacherScoringGraph, buildTrainStepGraph, type LossSpec, type TrainStepGraph } from '../../../src/engine/train/train-graph';
import { DEFAULT_TAIL_EPS } from '../../../src/engine/train/losses';
import { f16ArrayToF32, f32ArrayToF16 } from '../../../src/engine/onnx/half';
import { Prng } from '../../../src/util/prng';
import { session, toFloat64Feeds } from '../autodiff/helpers';
import { referenceLogits } from '../../reference/forward';
import { randomAdapter, randomWeights, tinyConfig } from '../../support/random-model';
import { refCe, refDistill, refFd, refGrpo, refTeacherScoring, type RefBatch } from '../../reference/losses';
import { decoderFeeds, f32, fmt, i64t, maxRelErr, normErr, num, relErr, runGraph, scalar, side, type Feeds, type Seqs } from './graph-setup';

const K = 4;
const rows: string[] = [];
afterAll(() => console.log(`\ntrain step graphs (loss rel err vs reference; gradient ||g - fd|| / ||fd||, worst tensor):\n${rows.join('\n')}`));

/** Reference logits [B, S, V] of a left-padded batch (zeros on padding). */
function refLogits(cfg: ModelConfig, s: Seqs, b: PaddedBatch, w: WeightMap, adapter: LoraAdapter | null): Float64Array {
  const V = cfg.vocabSize;
  const out = new Float64Array(b.batch * b.seq * V);
  s.seqs.forEach((seq, r) => {
    referenceLogits(cfg, w, seq, adapter).forEach((row, j) => out.set(row, (r * b.seq + b.pad[r] + j) * V));
  });
  return out;
}

/** Right-aligned copy of per-position data [B, S1, k] into [B, S2, k] (both rows end with the response). */
function shiftCols<T extends Float32Array | BigInt64Array>(src: T, B: number, S1: number, S2: number, k: number): T {
  const out = (src instanceof BigInt64Array ? new BigInt64Array(B * S2 * k) : new Float32Array(B * S2 * k)) as T;
  for (let b = 0; b < B; b++)
    for (let p = 0; p < S1; p++) {
      const q = p + S2 - S1;
      if (q >= 0 && q < S2) for (let i = 0; i < k; i++) out[(b * S2 + q) * k + i] = src[(b * S1 + p) * k + i];
    }
  return out;
}

interface Case {
  label: string;
  cfg: ModelConfig;
  loss: LossSpec;
  trainable: 'lora' | 'full';
}

const configs: { label: string; cfg: ModelConfig; alpha: number }[] = [
  { label: 'qwen2', cfg: tinyConfig('qwen2'), alpha: 0.5 },
  { label: 'qwen3', cfg: tinyConfig('qwen3'), alpha: 0 },
  { label: 'llama', cfg: tinyConfig('llama'), alpha: 1 },
  { label: 'olmo2', cfg: tinyConfig('olmo2'), alpha: 0.5 },
  { label: 'qwen3 tied', cfg: tinyConfig('qwen3', { tieWordEmbeddings: true }), alpha: 0.3 },
];

const cases: Case[] = [
  ...configs.flatMap(({ label, cfg, alpha }) => [
    { label: `${label} ce`, cfg, loss: { kind: 'ce' } as LossSpec, trainable: 'lora' as const },
    { label: `${label} distill a=${alpha}`, cfg, loss: { kind: 'distill', alpha, topk: K } as LossSpec, trainable: 'lora' as const },
    { label: `${label} grpo`, cfg, loss: { kind: 'grpo', clipEps: 0.2 } as LossSpec, trainable: 'lora' as const },
  ]),
  { label: 'llama full ce', cfg: tinyConfig('llama', { mlpBias: true }), loss: { kind: 'ce' }, trainable: 'full' },
  { label: 'qwen2 full distill a=0.5', cfg: tinyConfig('qwen2'), loss: { kind: 'distill', alpha: 0.5, topk: K }, trainable: 'full' },
];

/** Everything one case needs: the graph, its feeds, and the reference loss as a function of the current host weights. */
async function prepare(c: Case) {
  const { cfg } = c;
  const V = cfg.vocabSize;
  const rng = new Prng(21);
  const tok = () => 2 + Math.floor(rng.next() * (V - 2));
  const student: Seqs = { seqs: [Array.from({ length: 7 }, tok), Array.from({ length: 5 }, tok)], resp: [3, 2] };
  // The teacher reads a longer prompt (the "reprompt") followed by the same response.
  const teacher: Seqs = { seqs: [[tok(), tok(), tok(), ...student.seqs[0]], [tok(), tok(), tok(), tok(), ...student.seqs[1]]], resp: student.resp };
  const st = side(student);
  const te = side(teacher);
  const { batch: B, seq: S } = st.batch;
  const weights = randomWeights(cfg, 11);
  const adapter = randomAdapter(cfg, 7);
  const teacherAdapter = randomAdapter(cfg, 9);
  const lora = c.trainable === 'lora' ? LORA_TARGETS : [];
  const useAdapter = c.trainable === 'lora' ? adapter : null;

  const train = buildTrainStepGraph(cfg, { loss: c.loss, trainable: c.trainable, loraTargets: lora });
  const feeds: Feeds = {
    ...decoderFeeds(cfg, st.batch, weights, useAdapter),
    targets: i64t(st.targets, [B, S]),
    loss_mask: f32(st.mask, [B, S]),
    token_count: scalar(st.tokens),
  };
  const refB = (logits: Float64Array): RefBatch => ({ B, S, V, logits, targets: st.targets, mask: st.mask, tokenCount: st.tokens });
  let refLoss: (logits: Float64Array) => number;
  const notes: string[] = [];

  if (c.loss.kind === 'ce') {
    refLoss = (l) => refCe(refB(l)).loss;
  } else if (c.loss.kind === 'distill') {
    // 1. Student top-k ids (no gradient).
    const topkGraph = buildStudentTopkGraph(cfg, { topk: K, loraTargets: lora });
    const ids = (await runGraph(topkGraph.graph, decoderFeeds(cfg, st.batch, weights, useAdapter))).topk_ids.data as BigInt64Array;
    // ... equal to the reference's top-k wherever the reference's k-th / (k+1)-th gap is clear.
    const refL = refLogits(cfg, student, st.batch, weights, useAdapter);
    let compared = 0;
    for (let p = 0; p < B * S; p++) {
      if (!st.mask[p]) continue;
      const row = Array.from(refL.subarray(p * V, (p + 1) * V));
      const order = row.map((_, i) => i).sort((a, b) => row[b] - row[a]);
      if (row[order[K - 1]] - row[order[K]] < 1e-3) continue;
      expect(Array.from(ids.subarray(p * K, (p + 1) * K), Number)).toEqual(order.slice(0, K));
      compared++;
    }
    expect(compared).toBeGreaterThan(0);
    // 2. Teacher scoring on the teacher's rows, with the teacher's adapter.
    const St = te.batch.seq;
    const scoring = buildTeacherScoringGraph(cfg, { topk: K, loraTargets: lora });
    const tIds = shiftCols(ids, B, S, St, K);
    const tOut = await runGraph(scoring.graph, { ...decoderFeeds(cfg, te.batch, weights, c.trainable === 'lora' ? teacherAdapter : null), topk_ids: i64t(tIds, [B, St, K]), targets: i64t(te.targets, [B, St]) });
    const refT = refTeacherScoring({ B, S: St, V, logits: refLogits(cfg, teacher, te.batch, weights, c.trainable === 'lora' ? teacherAdapter : null), targets: te.targets }, tIds, K, DEFAULT_TAIL_EPS);
    const at = (data: ArrayLike<number>, k: number) => Array.from({ length: B * St * k }, (_, i) => (te.mask[Math.floor(i / k)] ? data[i] : 0));
    const eT = Math.max(
      maxRelErr(at(num(tOut.teacher_topk_logp), K), at(refT.top, K)),
      maxRelErr(at(num(tOut.teacher_tail_logp), 1), at(refT.tail, 1)),
      maxRelErr(at(num(tOut.teacher_logp_token), 1), at(refT.token, 1)),
    );
    expect(eT, 'teacher scoring vs reference').toBeLessThan(1e-4);
    notes.push(`teacher scoring ${fmt(eT)}`);
    // 3. Back to the student's layout; the train step reads them as inputs.
    const top = shiftCols(tOut.teacher_topk_logp.data as Float32Array, B, St, S, K);
    const tail = shiftCols(tOut.teacher_tail_logp.data as Float32Array, B, St, S, 1);
    const token = shiftCols(tOut.teacher_logp_token.data as Float32Array, B, St, S, 1);
    // The teacher's target log-probs are those of the same response tokens.
    for (let p = 0; p < B * S; p++) if (st.mask[p]) expect(Math.abs(token[p] - refT.token[p + (Math.floor(p / S) * (St - S)) + St - S])).toBeLessThan(1e-4);
    Object.assign(feeds, { topk_ids: i64t(ids, [B, S, K]), teacher_topk_logp: f32(top, [B, S, K]), teacher_tail_logp: f32(tail, [B, S]) });
    const alpha = c.loss.alpha;
    refLoss = (l) => refDistill(refB(l), ids, K, top, tail, alpha, DEFAULT_TAIL_EPS).loss;
  } else {
    const adv = Float32Array.of(1.1, -0.8);
    feeds.advantages = f32(adv, [B]);
    feeds.old_logp = f32(new Float32Array(B * S), [B, S]);
    // Old log-probs from the current policy, shifted so the ratios are 0.6 .. 1.4 (clipping active
    // on some tokens, and every ratio at least 0.08 from the clip edges 0.8 / 1.2).
    const lp = num((await runGraph(train.graph, feeds, 'float32', ['student_logp'])).student_logp);
    const ratios = [1.4, 0.6, 0.9, 1.1, 1.0, 1.28, 0.72];
    const old = Float32Array.from(lp, (v, i) => v - Math.log(ratios[i % ratios.length]));
    feeds.old_logp = f32(old, [B, S]);
    const clipped = refGrpo(refB(refLogits(cfg, student, st.batch, weights, useAdapter)), adv, old, 0.2, 0.2).clipped.filter((x, i) => x && st.mask[i]).length;
    expect(clipped).toBeGreaterThan(0);
    notes.push(`${clipped} of ${st.tokens} tokens clipped`);
    refLoss = (l) => refGrpo(refB(l), adv, old, 0.2, 0.2).loss;
  }
  const refTotal = () => refLoss(refLogits(cfg, student, st.batch, weights, useAdapter));
  return { train, feeds, refTotal, weights, adapter, notes, st };
}

/** Host array behind a trainable input (weights or LoRA factors), for in-place perturbation. */
function hostArray(name: string, weights: WeightMap, adapter: LoraAdapter): Float32Array {
  const w = weights.get(name);
  if (w) return w.data;
  const m = /^(.*)\.lora_([AB])$/.exec(name);
  if (!m) throw new Error(`unknown trainable ${name}`);
  const mod = adapter.modules.get(m[1])!;
  return m[2] === 'A' ? mod.A.data : mod.B.data;
}

function coords(name: string, n: number, count: number, rng: Prng): number[] {
  if (n <= count) return Array.from({ length: n }, (_, i) => i);
  const set = new Set<number>();
  while (set.size < count) set.add(Math.floor(rng.next() * n));
  return [...set];
}

describe('train step graph', () => {
  it.each(cases)('$label', async (c) => {
    const { train, feeds, refTotal, weights, adapter, notes, st } = await prepare(c);
    const g = train.graph;
    // Structure: outputs as listed; no LogSoftmax / Sign; every broadcast reduction static.
    expect(g.outputs.map((o) => o.name)).toEqual(train.outputs);
    expect(train.gradients).toEqual(train.trainable.map((t) => `grad.${t}`));
    expect(train.outputs).not.toContain('logits');
    expect(g.nodes.filter((n) => n.opType === 'LogSoftmax' || n.opType === 'Sign')).toEqual([]);
    expect(train.stats.runtimeReductions).toBe(0);
    if (c.trainable === 'lora') {
      expect(train.trainable.length).toBe(2 * LORA_TARGETS.length * c.cfg.numLayers);
      expect(train.trainable.every((t) => /\.lora_[AB]$/.test(t))).toBe(true);
    } else {
      expect(train.trainable).toEqual(train.inputs.weights);
    }

    // Loss and diagnostics vs the float64 reference.
    const out32 = await runGraph(g, feeds);
    const loss = num(out32.loss)[0];
    const eLoss = relErr(loss, refTotal());
    expect(eLoss, 'loss vs reference').toBeLessThan(1e-4);
    for (const t of train.gradients) expect(out32[t].dims).toEqual(feeds[t.slice(5)].dims);

    // Gradients. Coordinates: 6 per LoRA tensor (28 tensors); 8 per weight tensor for 'full'
    // (embedding rows of tokens in the batch when untied).
    const rng = new Prng(5);
    const usedIds = [...new Set(Array.from(st.batch.ids, Number))];
    const D = c.cfg.hiddenSize;
    const pick = (w: string, n: number) =>
      w === 'model.embed_tokens.weight' && !c.cfg.tieWordEmbeddings
        ? Array.from({ length: 8 }, () => usedIds[Math.floor(rng.next() * usedIds.length)] * D + Math.floor(rng.next() * D))
        : coords(w, n, c.trainable === 'lora' ? 6 : 8, rng);
    const s64 = await session(g, 'float64');
    try {
      const feeds64 = toFloat64Feeds(feeds);
      const out64 = await s64.run(feeds64);
      const lossAt = async (w: string, x: Float64Array) => {
        const r = await s64.run({ ...feeds64, [w]: new ort.Tensor('float64', x, feeds64[w].dims as number[]) }, ['loss']);
        return (r.loss.data as Float64Array)[0];
      };
      let worst64 = 0;
      let worst32 = 0;
      let worstRef = 0;
      let worstName = '';
      for (const w of train.trainable) {
        const host = hostArray(w, weights, adapter);
        const idx = [...new Set(pick(w, host.length))];
        // (a) finite differences of the float64 train-step graph (Richardson, h = 1e-5).
        const x = Float64Array.from(feeds64[w].data as Float64Array);
        const fd64: number[] = [];
        for (const i of idx) {
          const central = async (h: number) => {
            const old = x[i];
            x[i] = old + h;
            const up = await lossAt(w, x);
            x[i] = old - h;
            const dn = await lossAt(w, x);
            x[i] = old;
            return (up - dn) / (2 * h);
          };
          const d1 = await central(1e-5);
          fd64.push((4 * (await central(5e-6)) - d1) / 3);
        }
        // (b) finite differences of the reference forward + reference loss (float64 on the host).
        const fdRef = refFd(refTotal, host, idx, 1e-3);
        const g64 = out64[`grad.${w}`].data as Float64Array;
        const g32 = out32[`grad.${w}`].data as Float32Array;
        const e64 = normErr(g64, idx, fd64);
        const e32 = normErr(g32, idx, fd64);
        const eRef = normErr(g32, idx, fdRef);
        expect(e64, `${w}: float64 graph vs its FD`).toBeLessThan(1e-6);
        expect(e32, `${w}: float32 graph vs float64 FD`).toBeLessThan(1e-3);
        expect(eRef, `${w}: float32 graph vs reference FD`).toBeLessThan(1e-3);
        worst64 = Math.max(worst64, e64);
        if (e32 > worst32) worst32 = e32;
        if (eRef > worstRef) {
          worstRef = eRef;
          worstName = w;
        }
        // A gradient that is identically zero would pass trivially: require signal.
        expect(Math.max(...fdRef.map(Math.abs)), `${w}: finite differences are all zero`).toBeGreaterThan(0);
      }
      rows.push(
        `  ${c.label.padEnd(26)} loss ${loss.toFixed(4)} (${fmt(eLoss)}); ${train.trainable.length} tensors: f64 graph vs f64 FD ${fmt(worst64)}, ` +
          `f32 graph vs f64 FD ${fmt(worst32)}, f32 graph vs reference FD ${fmt(worstRef)} (${worstName.replace('model.layers.', 'L')})` +
          (notes.length ? `; ${notes.join(', ')}` : ''),
      );
    } finally {
      await s64.release();
    }
  });

  it("distill with topkIds 'graph' matches 'input' fed with the student top-k graph's ids", async () => {
    const cfg = tinyConfig('qwen3');
    const c = await prepare({ label: 'x', cfg, loss: { kind: 'distill', alpha: 0.5, topk: K }, trainable: 'lora' });
    const inGraph = buildTrainStepGraph(cfg, { loss: { kind: 'distill', alpha: 0.5, topk: K, topkIds: 'graph' }, trainable: 'lora', loraTargets: LORA_TARGETS });
    expect(inGraph.inputs.loss).not.toContain('topk_ids');
    expect(inGraph.diagnostics).toContain('topk_ids');
    const { topk_ids: ids, ...rest } = c.feeds;
    const a = await runGraph(c.train.graph, c.feeds);
    const b = await runGraph(inGraph.graph, rest);
    expect(Array.from(b.topk_ids.data as BigInt64Array)).toEqual(Array.from(ids.data as BigInt64Array));
    expect(relErr(num(b.loss)[0], num(a.loss)[0])).toBeLessThan(1e-6);
    for (const t of c.train.gradients) expect(maxRelErr(num(b[t]), num(a[t]))).toBeLessThan(1e-5);
  });

  // onnxruntime-node's CPU EP runs the fp16 Gemms through fp32 (ORT inserts and then folds the
  // casts), so this checks that the fp16 train graph is well-formed and agrees, not fp16 rounding.
  it.each([
    { label: 'qwen3 distill, LoRA', cfg: tinyConfig('qwen3'), loss: { kind: 'distill', alpha: 0.5, topk: K } as LossSpec, trainable: 'lora' as const },
    { label: 'llama grpo, LoRA', cfg: tinyConfig('llama'), loss: { kind: 'grpo', clipEps: 0.2 } as LossSpec, trainable: 'lora' as const },
  ])('float16 weights ($label): loss and gradients match float32 on the same fp16-rounded weights', async (c) => {
    const p = await prepare({ ...c });
    const t16 = buildTrainStepGraph(c.cfg, { loss: c.loss, trainable: c.trainable, loraTargets: c.trainable === 'lora' ? LORA_TARGETS : [], weightDtype: 'float16' });
    const feeds16: Feeds = { ...p.feeds };
    const feeds32: Feeds = { ...p.feeds };
    for (const name of t16.inputs.weights) {
      const t = p.feeds[name];
      const h = f32ArrayToF16(t.data as Float32Array);
      feeds16[name] = new ort.Tensor('float16', h, t.dims as number[]);
      feeds32[name] = f32(f16ArrayToF32(h), t.dims as number[]);
    }
    const a = await runGraph(p.train.graph, feeds32);
    const b = await runGraph(t16.graph, feeds16);
    const eLoss = relErr(num(b.loss)[0], num(a.loss)[0]);
    expect(eLoss).toBeLessThan(1e-2);
    let worst = 0;
    for (const gname of t16.gradients) {
      const w = gname.slice(5);
      expect(b[gname].type).toBe('float32');
      const g16 = b[gname].data as Float32Array;
      const g32 = a[gname].data as Float32Array;
      const e = normErr(g16, Array.from({ length: g32.length }, (_, i) => i), Array.from(g32));
      worst = Math.max(worst, e);
      expect(e, w).toBeLessThan(3e-2);
    }
    rows.push(`  ${`fp16 ${c.label}`.padEnd(26)} loss rel err ${fmt(eLoss)}, gradients worst ${fmt(worst)} (vs fp32 on fp16-rounded weights)`);
  });

  it('input and output names', () => {
    const cfg = tinyConfig('llama');
    const t = buildTrainStepGraph(cfg, { loss: { kind: 'grpo', clipEps: 0.2 }, trainable: 'lora', loraTargets: ['q_proj', 'v_proj'] });
    expect(t.inputs.data).toEqual(['input_ids', 'rope_cos', 'rope_sin', 'attention_bias']);
    expect(t.inputs.loss).toEqual(['targets', 'loss_mask', 'token_count', 'advantages', 'old_logp']);
    expect(t.inputs.lora).toEqual(['lora_scale', ...[0, 1].flatMap((l) => ['q_proj', 'v_proj'].flatMap((p) => [`${projectionPath(l, p as 'q_proj')}.lora_A`, `${projectionPath(l, p as 'q_proj')}.lora_B`]))]);
    expect(t.inputs.all.sort()).toEqual([...t.inputs.data, ...t.inputs.weights, ...t.inputs.lora, ...t.inputs.loss].sort());
    expect(t.diagnostics).toEqual(['student_logp', 'token_ratio']);
    expect(t.outputs.slice(0, 3)).toEqual(['loss', 'student_logp', 'token_ratio']);
    expect(t.gradients.length).toBe(8);
    const d = buildTrainStepGraph(cfg, { loss: { kind: 'distill', alpha: 0.5, topk: 5 }, trainable: 'lora', loraTargets: LORA_TARGETS });
    expect(d.inputs.loss).toEqual(['targets', 'loss_mask', 'token_count', 'topk_ids', 'teacher_topk_logp', 'teacher_tail_logp']);
    expect(d.diagnostics).toEqual(['student_logp', 'token_divergence']);
    const s = buildTeacherScoringGraph(cfg, { topk: 5, loraTargets: LORA_TARGETS });
    expect(s.inputs.loss).toEqual(['topk_ids', 'targets']);
    expect(s.outputs).toEqual(['teacher_topk_logp', 'teacher_tail_logp', 'teacher_logp_token']);
    expect(s.graph.outputs.map((o) => o.name)).toEqual(s.outputs);
    expect(buildStudentTopkGraph(cfg, { topk: 5, loraTargets: [] }).graph.outputs.map((o) => o.name)).toEqual(['topk_ids']);
    expect(() => buildTrainStepGraph(cfg, { loss: { kind: 'ce' }, trainable: 'lora', loraTargets: [] })).toThrow(/LoRA target/);
    expect(() => buildTrainStepGraph(cfg, { loss: { kind: 'ce' }, trainable: 'full', loraTargets: [], weightDtype: 'float16' })).toThrow(/float32 weights/);
    expect(() => buildTrainStepGraph(cfg, { loss: { kind: 'distill', alpha: 2, topk: 5 }, trainable: 'lora', loraTargets: LORA_TARGETS })).toThrow(/alpha/);
  });
});
