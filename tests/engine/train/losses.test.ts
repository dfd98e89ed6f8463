/**
 * The loss heads of src/engine/train/losses.ts on random logits fed as a graph input, against
 * the float64 plain-TS reference (./reference-losses.ts): values, per-token diagnostics, the
 * tail bucket, D_alpha for several alpha, GRPO with and without clipping, masking and
 * token_count normalisation across micro-batches, and gradients w.r.t. the logits by finite
 * differences (float64 graph, as tests/autodiff does, and the float64 reference).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Graph } from '../../../src/engine/onnx/graph';
import { buildGradientGraphWithStats } from '../../../src/engine/autodiff/autodiff';
import { appendLoss, appendTeacherScoring, DEFAULT_TAIL_EPS, groupAdvantages, type LossSpec } from '../../../src/engine/train/losses';
import { Prng } from '../../../src/util/prng';
import { errorsAt, fdCheck, gradients } from '../autodiff/helpers';
import { refCe, refDistill, refFd, refGrpo, refTeacherScoring, refTopkAll, type RefBatch } from '../../reference/losses';
import { f32, fmt, i64t, maxRelErr, normErr, num, relErr, runGraph, scalar, type Feeds } from './graph-setup';

const V = 11;
const K = 3;
const EPS = DEFAULT_TAIL_EPS;
const rows: string[] = [];
afterAll(() => console.log(`\nloss heads vs the float64 reference:\n${rows.join('\n')}`));

interface Data {
  B: number;
  S: number;
  student: Float32Array;
  teacher: Float32Array;
  targets: BigInt64Array;
  mask: Float32Array;
  tokenCount: number;
  advantages: Float32Array;
}

/**
 * Random logits [B, S, V]; position (0, 2) of the student and (1, 1) of the teacher are peaked
 * (one logit 40 above the rest) so their top-k mass rounds to 1 and the tail is clamped.
 */
function makeData(B = 2, S = 5, seed = 3): Data {
  const rng = new Prng(seed);
  const student = Float32Array.from({ length: B * S * V }, () => 1.5 * rng.normal());
  const teacher = Float32Array.from({ length: B * S * V }, () => 1.5 * rng.normal());
  if (B >= 2 && S >= 3) {
    student[(0 * S + 2) * V + 4] = 40;
    teacher[(1 * S + 1) * V + 7] = 40;
  }
  const targets = BigInt64Array.from({ length: B * S }, () => BigInt(Math.floor(rng.next() * V)));
  const mask = new Float32Array(B * S);
  // Row b masks a different prefix; the last column never predicts a response token.
  for (let b = 0; b < B; b++) for (let s = b % 2 === 0 ? 1 : 0; s < S - 1; s++) mask[b * S + s] = 1;
  const tokenCount = mask.reduce((a, c) => a + c, 0);
  const advantages = Float32Array.from({ length: B }, (_, b) => (b % 2 === 0 ? 1.3 : -0.7) + 0.1 * b);
  return { B, S, student, teacher, targets, mask, tokenCount, advantages };
}

const refBatch = (d: Data, logits = d.student): RefBatch => ({ B: d.B, S: d.S, V, logits, targets: d.targets, mask: d.mask, tokenCount: d.tokenCount });

function lossGraph(spec: LossSpec): Graph {
  const g = new Graph('loss_head');
  g.input('logits', 'float32', ['batch', 'seq', V]);
  appendLoss(g, 'logits', spec);
  return g;
}

/** Teacher scoring of d.teacher at the student's top-k ids (float32 graph) -> the distill inputs. */
async function teacherInputs(d: Data, ids: BigInt64Array): Promise<{ top: Float32Array; tail: Float32Array; token: Float32Array }> {
  const g = new Graph('teacher_head');
  g.input('logits', 'float32', ['batch', 'seq', V]);
  appendTeacherScoring(g, 'logits', K);
  const out = await runGraph(g, { logits: f32(d.teacher, [d.B, d.S, V]), topk_ids: i64t(ids, [d.B, d.S, K]), targets: i64t(d.targets, [d.B, d.S]) });
  return { top: out.teacher_topk_logp.data as Float32Array, tail: out.teacher_tail_logp.data as Float32Array, token: out.teacher_logp_token.data as Float32Array };
}

/**
 * Old log-probs making the PPO ratios cycle through 1.5, 0.5, 1.0, 1.25, 0.9, 1.1, 0.7: away
 * from the clip edges 0.8 / 1.2 / 1.28, with 1.25 clipped only by the symmetric eps = 0.2.
 */
function oldLogp(d: Data): Float32Array {
  const lp = refCe(refBatch(d)).logp;
  const ratios = [1.5, 0.5, 1.0, 1.25, 0.9, 1.1, 0.7];
  return Float32Array.from(lp, (v, i) => v - Math.log(ratios[i % ratios.length]));
}

interface Case {
  label: string;
  spec: LossSpec;
}

async function feedsFor(d: Data, spec: LossSpec): Promise<{ feeds: Feeds; ref: { loss: number; tok?: Float64Array; logp: Float64Array; ratio?: Float64Array; clipped?: boolean[] }; refLoss: (logits: ArrayLike<number>) => number }> {
  const feeds: Feeds = {
    logits: f32(d.student, [d.B, d.S, V]),
    targets: i64t(d.targets, [d.B, d.S]),
    loss_mask: f32(d.mask, [d.B, d.S]),
    token_count: scalar(d.tokenCount),
  };
  if (spec.kind === 'ce') {
    return { feeds, ref: refCe(refBatch(d)), refLoss: (l) => refCe(refBatch(d, l as Float32Array)).loss };
  }
  if (spec.kind === 'distill') {
    const ids = refTopkAll(d.student, d.B * d.S, V, K);
    const t = await teacherInputs(d, ids);
    if ((spec.topkIds ?? 'input') === 'input') feeds.topk_ids = i64t(ids, [d.B, d.S, K]);
    feeds.teacher_topk_logp = f32(t.top, [d.B, d.S, K]);
    feeds.teacher_tail_logp = f32(t.tail, [d.B, d.S]);
    const r = refDistill(refBatch(d), ids, K, t.top, t.tail, spec.alpha, EPS);
    return { feeds, ref: { loss: r.loss, tok: r.div, logp: r.logp }, refLoss: (l) => refDistill(refBatch(d, l as Float32Array), ids, K, t.top, t.tail, spec.alpha, EPS).loss };
  }
  const old = oldLogp(d);
  feeds.advantages = f32(d.advantages, [d.B]);
  feeds.old_logp = f32(old, [d.B, d.S]);
  const hi = spec.clipEpsHigh ?? spec.clipEps;
  const r = refGrpo(refBatch(d), d.advantages, old, spec.clipEps, hi);
  return { feeds, ref: r, refLoss: (l) => refGrpo(refBatch(d, l as Float32Array), d.advantages, old, spec.clipEps, hi).loss };
}

const cases: Case[] = [
  { label: 'ce', spec: { kind: 'ce' } },
  { label: 'distill alpha=0', spec: { kind: 'distill', alpha: 0, topk: K } },
  { label: 'distill alpha=0.5', spec: { kind: 'distill', alpha: 0.5, topk: K } },
  { label: 'distill alpha=0.3', spec: { kind: 'distill', alpha: 0.3, topk: K } },
  { label: 'distill alpha=1', spec: { kind: 'distill', alpha: 1, topk: K } },
  { label: 'distill alpha=0.5, graph top-k', spec: { kind: 'distill', alpha: 0.5, topk: K, topkIds: 'graph' } },
  { label: 'grpo eps=0.2 (clipping)', spec: { kind: 'grpo', clipEps: 0.2 } },
  { label: 'grpo eps=0.6 (no clipping)', spec: { kind: 'grpo', clipEps: 0.6 } },
  { label: 'grpo eps 0.2 / 0.28', spec: { kind: 'grpo', clipEps: 0.2, clipEpsHigh: 0.28 } },
];

describe('loss values and diagnostics', () => {
  it.each(cases)('$label', async ({ label, spec }) => {
    const d = makeData();
    const { feeds, ref } = await feedsFor(d, spec);
    const out = await runGraph(lossGraph(spec), feeds);
    const loss = num(out.loss)[0];
    const eLoss = relErr(loss, ref.loss);
    const eLogp = maxRelErr(num(out.student_logp), ref.logp);
    expect(eLoss, 'loss').toBeLessThan(1e-5);
    expect(eLogp, 'student_logp').toBeLessThan(1e-5);
    let extra = '';
    if (spec.kind === 'distill') {
      const eTok = maxRelErr(num(out.token_divergence), ref.tok!);
      expect(eTok, 'token_divergence').toBeLessThan(1e-5);
      extra = `, token_divergence ${fmt(eTok)}`;
      if (spec.topkIds === 'graph') expect(Array.from(out.topk_ids.data as BigInt64Array)).toEqual(Array.from(refTopkAll(d.student, d.B * d.S, V, K)));
    }
    if (spec.kind === 'grpo') {
      const eR = maxRelErr(num(out.token_ratio), ref.ratio!);
      expect(eR, 'token_ratio').toBeLessThan(1e-5);
      const clippedMasked = ref.clipped!.filter((c, i) => c && d.mask[i] !== 0).length;
      // Masked tokens with ratio 1.5 / 1.25 (A > 0) or 0.5 / 0.7 (A < 0) are clipped at eps 0.2.
      expect(clippedMasked).toBe(spec.clipEps === 0.6 ? 0 : spec.clipEpsHigh ? 2 : 3);
      extra = `, ratio ${fmt(eR)}, clipped tokens ${clippedMasked}`;
    }
    rows.push(`  ${label.padEnd(32)} loss ${loss.toFixed(5)} rel err ${fmt(eLoss)}, student_logp ${fmt(eLogp)}${extra}`);
  });

  it('teacher scoring: log-probs at the student ids, tail bucket (clamped when peaked), target log-prob', async () => {
    const d = makeData();
    const ids = refTopkAll(d.student, d.B * d.S, V, K);
    const t = await teacherInputs(d, ids);
    const r = refTeacherScoring({ B: d.B, S: d.S, V, logits: d.teacher, targets: d.targets }, ids, K, EPS);
    const e = [maxRelErr(t.top, r.top), maxRelErr(t.tail, r.tail), maxRelErr(t.token, r.token)];
    rows.push(`  ${'teacher scoring'.padEnd(32)} top-k logp ${fmt(e[0])}, tail ${fmt(e[1])}, token ${fmt(e[2])}`);
    for (const x of e) expect(x).toBeLessThan(1e-5);
    // The peaked student position (0, 2), scored by the student itself: its top-k holds all the
    // mass (1 - sum rounds to 0 in float32), the tail is clamped to log(eps) in both.
    const self = await teacherInputs({ ...d, teacher: d.student }, ids);
    expect(Math.abs(self.tail[2] - Math.log(EPS))).toBeLessThan(1e-6);
    expect(refTeacherScoring({ B: d.B, S: d.S, V, logits: d.student, targets: d.targets }, ids, K, EPS).tail[2]).toBeCloseTo(Math.log(EPS), 9);
    // Not clamped elsewhere (random logits): the tail is a real bucket.
    expect(Math.max(...Array.from(t.tail))).toBeGreaterThan(Math.log(0.05));
  });

  it('D_alpha: alpha=0 and 1 are the two KLs, alpha=0.5 is symmetric in S and T', async () => {
    const d = makeData();
    const ids = refTopkAll(d.student, d.B * d.S, V, K);
    // Teacher = student itself: every divergence is 0.
    const g = new Graph('self');
    g.input('logits', 'float32', ['batch', 'seq', V]);
    appendTeacherScoring(g, 'logits', K);
    const self = await runGraph(g, { logits: f32(d.student, [d.B, d.S, V]), topk_ids: i64t(ids, [d.B, d.S, K]), targets: i64t(d.targets, [d.B, d.S]) });
    for (const alpha of [0, 0.5, 1]) {
      const out = await runGraph(lossGraph({ kind: 'distill', alpha, topk: K }), {
        logits: f32(d.student, [d.B, d.S, V]),
        targets: i64t(d.targets, [d.B, d.S]),
        loss_mask: f32(d.mask, [d.B, d.S]),
        token_count: scalar(d.tokenCount),
        topk_ids: i64t(ids, [d.B, d.S, K]),
        teacher_topk_logp: self.teacher_topk_logp,
        teacher_tail_logp: self.teacher_tail_logp,
      });
      expect(Math.max(...num(out.token_divergence).map(Math.abs))).toBeLessThan(1e-6);
    }
  });
});

describe('masking and token_count', () => {
  it.each(cases.filter((c) => !c.label.includes('0.3') && !c.label.includes('0.28')))('$label: two micro-batches sum to the full batch; masked positions get no gradient', async ({ spec }) => {
    const d = makeData(4, 5, 8);
    const { feeds } = await feedsFor(d, spec);
    const g = lossGraph(spec);
    const grad = buildGradientGraphWithStats(g, { loss: 'loss', wrt: ['logits'], equalDims: [['seq', 'total']] });
    expect(grad.stats.runtimeReductions).toBe(0);
    const full = await runGraph(grad.graph, feeds);
    const half = (t: Feeds[string], lo: number, hi: number) => {
      if (t.dims.length === 0) return t;
      const per = t.dims.slice(1).reduce((a, b) => a * b, 1);
      const data = (t.data as Float32Array | BigInt64Array).slice(lo * per, hi * per);
      return t.type === 'int64' ? i64t(data as BigInt64Array, [hi - lo, ...t.dims.slice(1)]) : f32(data as Float32Array, [hi - lo, ...t.dims.slice(1)]);
    };
    const parts = [];
    for (const [lo, hi] of [[0, 2], [2, 4]]) {
      const f: Feeds = {};
      for (const [k, t] of Object.entries(feeds)) f[k] = half(t, lo, hi);
      parts.push(await runGraph(grad.graph, f));
    }
    const sum = num(parts[0].loss)[0] + num(parts[1].loss)[0];
    expect(relErr(sum, num(full.loss)[0])).toBeLessThan(1e-6);
    const gFull = num(full['grad.logits']);
    const gParts = [...num(parts[0]['grad.logits']), ...num(parts[1]['grad.logits'])];
    expect(maxRelErr(gParts, gFull)).toBeLessThan(1e-6);
    // Masked positions: exactly zero gradient, and the loss does not see their logits.
    for (let p = 0; p < d.B * d.S; p++) {
      if (d.mask[p] !== 0) continue;
      for (let v = 0; v < V; v++) expect(gFull[p * V + v]).toBe(0);
    }
    // Doubling token_count halves the loss.
    const twice = await runGraph(grad.graph, { ...feeds, token_count: scalar(2 * d.tokenCount) });
    expect(relErr(2 * num(twice.loss)[0], num(full.loss)[0])).toBeLessThan(1e-6);
  });
});

describe('gradients w.r.t. the logits vs finite differences', () => {
  it.each(cases)('$label', async ({ label, spec }) => {
    const d = makeData();
    const { feeds, refLoss } = await feedsFor(d, spec);
    const g = lossGraph(spec);
    const opts = { equalDims: [['seq', 'total']] };
    const all = (_w: string, n: number) => Array.from({ length: n }, (_, i) => i);
    // 1. float64 graph vs float64 finite differences of the same graph (the math of the rules).
    const r64 = await fdCheck(g, feeds, ['logits'], opts, { precision: 'float64', mode: 'richardson', h: 1e-5, pick: all });
    // 2. float32 gradient graph (what training runs) vs those differences.
    const g32 = await gradients(g, feeds, ['logits'], opts);
    const e32 = errorsAt(g32, r64.fd).logits;
    // 3. float32 gradient graph vs finite differences of the independent float64 reference.
    const x = Float32Array.from(d.student);
    const idx = r64.fd.logits.idx;
    const fdRef = refFd(() => refLoss(x), x, idx, 1e-3);
    const eRef = normErr(g32.logits, idx, fdRef);
    rows.push(`  ${label.padEnd(32)} grad: f64 graph vs f64 FD ${fmt(r64.worst)}, f32 graph vs f64 FD ${fmt(e32)}, f32 graph vs reference FD ${fmt(eRef)}`);
    expect(r64.worst).toBeLessThan(1e-6);
    expect(e32).toBeLessThan(1e-3);
    expect(eRef).toBeLessThan(1e-3);
    expect(r64.stats.runtimeReductions).toBe(0);
    // GPU placement: no LogSoftmax / Sign anywhere (no WebGPU kernels in onnxruntime-web 1.30).
    const { graph } = buildGradientGraphWithStats(g, { loss: 'loss', wrt: ['logits'], ...opts });
    expect(graph.nodes.filter((n) => ['LogSoftmax', 'Sign', 'Softmax'].includes(n.opType))).toEqual([]);
  });
});

describe('groupAdvantages', () => {
  it('normalises per group with the sample std (G - 1) and 1e-6 in the denominator', () => {
    const a = groupAdvantages([1, 0, 0, 1, 0.5, 0.5, 0.5, 0.5], 4);
    const std = Math.sqrt((4 * 0.25) / 3);
    expect(Array.from(a.slice(0, 4))).toEqual([0.5, -0.5, -0.5, 0.5].map((v) => Math.fround(v / (std + 1e-6))));
    expect(Array.from(a.slice(4))).toEqual([0, 0, 0, 0]);
    expect(Array.from(groupAdvantages([3, 1], 1))).toEqual([0, 0]);
    expect(() => groupAdvantages([1, 2, 3], 2)).toThrow(/groups of 2/);
  });
});
