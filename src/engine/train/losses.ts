/**
 * Training losses appended to a Graph that already computes next-token logits [B, S, V], plus
 * the teacher-scoring head of self-distillation and the host-side GRPO advantage helper.
 *
 * Conventions shared by every loss:
 *  - The logit at position p predicts token p+1. `targets [B, S]` (int64) holds that next token
 *    and `loss_mask [B, S]` (float) is 1 exactly where it is a response token, 0 elsewhere
 *    (prompt, padding, the last column). Inputs must be finite everywhere, masked positions too
 *    (fill them with 0): a masked NaN would still poison the sum.
 *  - Every loss is a token mean: sum over positions of mask * per-token loss, divided by the
 *    scalar input `token_count`, the number of response tokens of the whole (accumulated)
 *    batch. Micro-batches fed with the same token_count therefore add up to the full-batch loss,
 *    and their gradients add up to the full-batch gradient.
 *  - Log-probabilities are written as x - lse(x) with lse(x) = m + Log(ReduceSum(Exp(x - m))),
 *    never with the LogSoftmax op (onnxruntime-web's WebGPU EP has no kernel for it), and the
 *    full-vocabulary log-softmax is never materialized: only the gathered entries are.
 *    The shift m is Floor(ReduceMax(x)): Floor has no gradient, so m is a constant for the
 *    backward pass (the true gradient through m is zero; this skips the ReduceMax backward over
 *    the whole vocabulary). x - m <= max - floor(max) < 1, so Exp never overflows and the sum
 *    is at least 1.
 *
 * Self-distillation (PMD-SPEC step 8): the student's top-k token ids per position select k
 * buckets, a (k+1)-th "tail" bucket holds the rest of the probability, and D_alpha is computed
 * over those k+1 buckets from the student's log-probs (with gradient) and the teacher's
 * (computed in a separate, gradient-free teacher pass at the SAME ids; `appendTeacherScoring`).
 * Tail: log(1 - sum_k p) = Log(Clip(1 - ReduceSum(Exp(top-k log-probs)), tailEps)). The clamp
 * (default 1e-7, about two float32 ulps below 1) keeps the log finite when the top-k
 * buckets hold all the mass; a clamped tail is a constant (zero gradient through the bucket
 * mass). When both distributions are clamped the bucket contributes ~0. In float32 the tail of
 * a very peaked distribution is only resolved down to roughly 1e-6 (rounding of the normalizer
 * and of the top-k sum), which is the usual precision of this formulation.
 * Which samples enter the loss at all (e.g. SDPO's rule of skipping samples whose teacher
 * context adds nothing) is the caller's choice, expressed through loss_mask / token_count.
 *
 * Everything here runs on onnxruntime-web's WebGPU EP (checked in Chromium/SwiftShader for the
 * train-step, teacher-scoring and top-k graphs of every family: only int64 shape arithmetic and
 * the Concat of the int64 ids land on the CPU).
 */
import { ConfigError, type ConfigProblem } from '../../util/config-fields';
import { isRecord } from '../../util/records';
import { attr, type Graph } from '../onnx/graph';

/** Graph input names of the losses (all [batch, seq, ...] unless noted). */
export const LOSS_INPUT = {
  /** int64 [B, S]: the next token at each position. */
  targets: 'targets',
  /** float [B, S]: 1 where targets[p] is a response token. */
  lossMask: 'loss_mask',
  /** float scalar: response tokens in the whole accumulated batch. */
  tokenCount: 'token_count',
  /** int64 [B, S, k]: the student's top-k token ids (distill, teacher scoring). */
  topkIds: 'topk_ids',
  /** float [B, S, k]: teacher log-probs at topk_ids (distill). */
  teacherTopkLogp: 'teacher_topk_logp',
  /** float [B, S]: teacher log(1 - sum of its probs at topk_ids) (distill). */
  teacherTailLogp: 'teacher_tail_logp',
  /** float [B]: group-normalised advantage per sequence (GRPO). */
  advantages: 'advantages',
  /** float [B, S]: log-prob of targets under the rollout policy (GRPO). */
  oldLogp: 'old_logp',
} as const;

/** Graph output names. */
export const LOSS_OUTPUT = {
  loss: 'loss',
  /** [B, S] student log-prob of the next token. */
  studentLogp: 'student_logp',
  /** [B, S] per-token D_alpha (distill). */
  tokenDivergence: 'token_divergence',
  /** [B, S] exp(logp - old_logp) (GRPO). */
  tokenRatio: 'token_ratio',
  /** [B, S, k] int64 top-k ids (student top-k graph; distill with topkIds: 'graph'). */
  topkIds: 'topk_ids',
  /** Teacher scoring outputs. */
  teacherTopkLogp: 'teacher_topk_logp',
  teacherTailLogp: 'teacher_tail_logp',
  teacherLogpToken: 'teacher_logp_token',
} as const;

export const DEFAULT_TAIL_EPS = 1e-7;

export type LossSpec =
  | { kind: 'ce' }
  | {
      kind: 'distill';
      /** 0: forward KL(T||S); 1: reverse KL(S||T); in between: the alpha-skewed JS divergence. */
      alpha: number;
      /** Buckets per position (k). */
      topk: number;
      /**
       * Where the student's top-k ids come from. 'input' (default): the `topk_ids` input, the
       * very ids the teacher was scored at (from `buildStudentTopkGraph` or recorded during
       * generation), so student and teacher buckets always match. 'graph': TopK of this graph's
       * own logits (also output as `topk_ids`); the caller must then have scored the teacher at
       * ids from an identical computation, or near-ties may pick different tokens.
       */
      topkIds?: 'input' | 'graph';
      /** Lower clamp of the tail bucket's probability; default 1e-7. */
      tailEps?: number;
    }
  | {
      kind: 'grpo';
      /** PPO clip: ratio is clipped to [1 - clipEps, 1 + (clipEpsHigh ?? clipEps)]. */
      clipEps: number;
      clipEpsHigh?: number;
    };

const LOSS_FIELDS: Record<LossSpec['kind'], { required: Record<string, (v: unknown) => string | null>; optional: Record<string, (v: unknown) => string | null> }> = {
  ce: { required: {}, optional: {} },
  distill: {
    required: {
      alpha: (v) => (typeof v === 'number' && v >= 0 && v <= 1 ? null : `must be a number in [0, 1], got ${JSON.stringify(v)}`),
      topk: (v) => (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 1000 ? null : `must be a whole number >= 1 (at most 1000), got ${JSON.stringify(v)}`),
    },
    optional: {
      topkIds: (v) => (v === 'input' || v === 'graph' ? null : `must be "input" or "graph", got ${JSON.stringify(v)}`),
      tailEps: (v) => (typeof v === 'number' && v > 0 && v < 1 ? null : `must be a number in (0, 1), got ${JSON.stringify(v)}`),
    },
  },
  grpo: {
    required: { clipEps: (v) => (typeof v === 'number' && v > 0 && v < 10 ? null : `must be a number in (0, 10), got ${JSON.stringify(v)}`) },
    optional: { clipEpsHigh: (v) => (typeof v === 'number' && v > 0 && v < 10 ? null : `must be a number in (0, 10), got ${JSON.stringify(v)}`) },
  },
};

/** Every problem of a loss spec, with field paths relative to the spec (the one validation of LossSpec). */
export function validateLossSpec(v: unknown): ConfigProblem[] {
  if (!isRecord(v)) return [{ path: '', message: 'must be an object such as {"kind": "ce"}, {"kind": "distill", "alpha": 0.5, "topk": 20} or {"kind": "grpo", "clipEps": 0.2}' }];
  const kinds = Object.keys(LOSS_FIELDS);
  if (typeof v.kind !== 'string' || !kinds.includes(v.kind)) return [{ path: 'kind', message: `unknown loss kind ${JSON.stringify(v.kind)}; expected ${kinds.map((k) => `"${k}"`).join(', ')}` }];
  const f = LOSS_FIELDS[v.kind as LossSpec['kind']];
  const problems: ConfigProblem[] = [];
  for (const k of Object.keys(v)) {
    if (k !== 'kind' && !(k in f.required) && !(k in f.optional)) problems.push({ path: k, message: `unknown field for kind "${v.kind}"` });
  }
  for (const [k, check] of Object.entries(f.required)) {
    const m = k in v ? check(v[k]) : 'is required';
    if (m) problems.push({ path: k, message: m });
  }
  for (const [k, check] of Object.entries(f.optional)) {
    const m = k in v && v[k] !== undefined ? check(v[k]) : null;
    if (m) problems.push({ path: k, message: m });
  }
  return problems;
}

/** Throws a ConfigError naming every problem of the spec (`what` prefixes the paths, e.g. "loss"). */
export function checkLossSpec(v: unknown, what = 'loss'): asserts v is LossSpec {
  const problems = validateLossSpec(v);
  if (problems.length) throw new ConfigError(what, problems);
}

export interface AppendedLoss {
  /** Graph inputs the loss added (in order). */
  inputs: string[];
  /** 'loss' (scalar) then the per-token diagnostics. */
  outputs: string[];
  /** The per-token diagnostic outputs ([B, S] unless noted). */
  diagnostics: string[];
}

const i64 = (g: Graph, v: number[]) => g.i64(v);

/** lse(x) over the last axis with keepdims: [.., 1]. The shift is gradient-free (see header). */
export function appendLogSumExp(g: Graph, logits: string): string {
  const m = g.op('Floor', [g.op('ReduceMax', [logits], { axes: attr.ints([-1]), keepdims: attr.int(1) })]);
  const e = g.op('Exp', [g.op('Sub', [logits, m])]);
  const s = g.op('ReduceSum', [e, i64(g, [-1])], { keepdims: attr.int(1) });
  return g.op('Add', [m, g.op('Log', [s])]);
}

/**
 * The tail bucket log(1 - sum p) [B, S, 1] from the top-k log-probs [B, S, k]: the sum is
 * clamped below at tailEps before the Log (see the module header).
 */
export function appendTailBucket(g: Graph, top: string, tailEps = DEFAULT_TAIL_EPS): string {
  const mass = g.op('ReduceSum', [g.op('Exp', [top]), i64(g, [-1])], { keepdims: attr.int(1) });
  return g.op('Log', [g.op('Clip', [g.op('Sub', [g.scalar(1), mass]), g.scalar(tailEps)])]);
}

/** TopK indices of the logits along the vocabulary axis, [B, S, k] int64, largest first. */
export function appendTopkIds(g: Graph, logits: string, k: number, outName?: string): string {
  if (!Number.isInteger(k) || k < 1) throw new Error(`top-k must be a positive integer, got ${k}`);
  const [, idx] = g.node('TopK', [logits, i64(g, [k])], { axis: attr.int(-1), largest: attr.int(1), sorted: attr.int(1) }, outName ? [g.fresh('topk_values'), outName] : 2);
  return idx;
}

/** D_alpha over buckets given log-probs lS, lT [.., n]; returns the sum over the last axis (keepdims 0). */
export function appendAlphaDivergence(g: Graph, lS: string, lT: string, alpha: number): string {
  if (!(alpha >= 0 && alpha <= 1)) throw new Error(`distillation alpha must be in [0, 1], got ${alpha}`);
  const sumLast = (v: string) => g.op('ReduceSum', [v, i64(g, [-1])], { keepdims: attr.int(0) });
  const kl = (lp: string, lq: string) => sumLast(g.op('Mul', [g.op('Exp', [lp]), g.op('Sub', [lp, lq])])); // KL(P||Q)
  if (alpha === 0) return kl(lT, lS);
  if (alpha === 1) return kl(lS, lT);
  // log M = log((1-a) S + a T) = logsumexp(log(1-a) + lS, log(a) + lT), shifted by a
  // gradient-free Floor(max) so neither Exp overflows nor both underflow.
  const a = g.op('Add', [lS, g.scalar(Math.log(1 - alpha))]);
  const b = g.op('Add', [lT, g.scalar(Math.log(alpha))]);
  const mx = g.op('Floor', [g.op('Where', [g.op('Greater', [a, b]), a, b])]);
  const lM = g.op('Add', [mx, g.op('Log', [g.op('Add', [g.op('Exp', [g.op('Sub', [a, mx])]), g.op('Exp', [g.op('Sub', [b, mx])])])])]);
  const left = g.op('Mul', [kl(lS, lM), g.scalar(1 - alpha)]);
  const right = g.op('Mul', [kl(lT, lM), g.scalar(alpha)]);
  return g.op('Add', [left, right]);
}

/** sum(tok * mask) / token_count, as the named scalar value. */
function maskedMean(g: Graph, tok: string, mask: string, count: string, outName: string): string {
  const total = g.op('ReduceSum', [g.op('Mul', [tok, mask])], { keepdims: attr.int(0) });
  return g.op('Div', [total, count], {}, outName);
}

type Shape = (string | number)[];

/** Identity of `value` named `name`; the caller declares it as a graph output. */
function named(g: Graph, value: string, name: string): string {
  return g.op('Identity', [value], {}, name);
}

/**
 * How a loss reads log-probabilities: `at(ids)` gives log p at int64 token ids [..., m] (the
 * last axis indexes the vocabulary), in the layout the ids are in. `logitsReader` reads them
 * from materialized logits; the chunked head in vocab-head.ts computes them without the full
 * [.., V] tensor.
 */
export interface TokenLogp {
  at(ids: string): string;
}

/**
 * Where per-token values live: at every position [B, S] (`positionLayout`), or flattened to the
 * loss tokens only (vocab-head.ts). `take` brings a per-position input [B, S, ...rest] into the
 * layout, `perRow` a per-sequence input [B], and `spread` turns a per-token value back into
 * [B, S, ...rest].
 */
export interface TokenLayout {
  take(v: string, rest: number[]): string;
  perRow(v: string): string;
  spread(v: string, rest: number[], dtype: 'float32' | 'int64'): string;
}

/** log p read from logits [B, S, V]: x - lse(x) at the ids. */
export function logitsReader(g: Graph, logits: string): TokenLogp {
  const lse = appendLogSumExp(g, logits);
  return { at: (ids) => g.op('Sub', [g.op('GatherElements', [logits, ids], { axis: attr.int(-1) }), lse]) };
}

/** The [B, S] layout: inputs used as they are, outputs named as they are. */
export function positionLayout(g: Graph): TokenLayout {
  return {
    take: (v) => v,
    perRow: (v) => g.op('Unsqueeze', [v, i64(g, [1])]), // [B, 1], broadcast over positions
    spread: (v) => v,
  };
}

/** The loss's view of the model's output: the log-prob reader and the per-token layout. */
export interface LossHead {
  logp: TokenLogp;
  layout: TokenLayout;
  /**
   * The student's own top-k ids (distill with topkIds 'graph'): `everywhere` [B, S, k] (the
   * graph output) and `ids`, the same in the layout.
   */
  topk(k: number): { everywhere: string; ids: string };
}

/** A LossHead over materialized logits [B, S, V] (the unchunked head). */
export function logitsHead(g: Graph, logits: string): LossHead {
  return {
    logp: logitsReader(g, logits),
    layout: positionLayout(g),
    topk: (k) => {
      const ids = appendTopkIds(g, logits, k);
      return { everywhere: ids, ids };
    },
  };
}

/** Log-probs at the ids [.., k] and of the targets [..], read in one gather (Concat(ids, targets)). */
function gatheredLogp(g: Graph, logp: TokenLogp, ids: string, targets: string, k: number): { top: string; token: string } {
  const idx = g.op('Concat', [ids, g.op('Unsqueeze', [targets, i64(g, [-1])])], { axis: attr.int(-1) }); // [.., k+1]
  const lp = logp.at(idx);
  const top = g.op('Slice', [lp, i64(g, [0]), i64(g, [k]), i64(g, [-1])]);
  const token = g.op('Squeeze', [g.op('Slice', [lp, i64(g, [k]), i64(g, [k + 1]), i64(g, [-1])]), i64(g, [-1])]);
  return { top, token };
}

/** log p(targets) in the layout of the targets. */
function targetLogp(g: Graph, logp: TokenLogp, targets: string): string {
  return g.op('Squeeze', [logp.at(g.op('Unsqueeze', [targets, i64(g, [-1])])), i64(g, [-1])]);
}

/**
 * Append a training loss over the model's output (float32). Adds the loss's inputs and the
 * outputs 'loss' (scalar) and per-token diagnostics; see the module header for conventions.
 * `makeHead` receives the `loss_mask` input (a head may restrict itself to the loss tokens).
 *
 * Inputs added: all kinds: targets, loss_mask, token_count; distill: topk_ids (unless
 * topkIds: 'graph'), teacher_topk_logp [B, S, k], teacher_tail_logp [B, S]; grpo:
 * advantages [B], old_logp [B, S].
 * Outputs: loss, student_logp; distill: token_divergence (and topk_ids with 'graph');
 * grpo: token_ratio. Per-token outputs are [B, S]; a head that only reads the loss tokens
 * leaves 0 at the other positions.
 */
export function appendTokenLoss(g: Graph, spec: LossSpec, makeHead: (lossMask: string) => LossHead): AppendedLoss {
  const inputs: string[] = [];
  const inp = (name: string, dtype: 'float32' | 'int64', shape: (string | number)[]) => {
    inputs.push(g.input(name, dtype, shape));
    return name;
  };
  const targetsIn = inp(LOSS_INPUT.targets, 'int64', ['batch', 'seq']);
  const maskIn = inp(LOSS_INPUT.lossMask, 'float32', ['batch', 'seq']);
  const count = inp(LOSS_INPUT.tokenCount, 'float32', []);
  const head = makeHead(maskIn);
  const { layout } = head;
  const targets = layout.take(targetsIn, []);
  const mask = layout.take(maskIn, []);
  const diag: { name: string; dtype: 'float32' | 'int64'; shape: Shape }[] = [];
  const diagnose = (value: string, name: string) => {
    named(g, layout.spread(value, [], 'float32'), name);
    diag.push({ name, dtype: 'float32', shape: ['batch', 'seq'] });
  };
  let logp = '';

  let tok: string;
  if (spec.kind === 'ce') {
    logp = targetLogp(g, head.logp, targets);
    tok = g.op('Neg', [logp]);
  } else if (spec.kind === 'distill') {
    const k = spec.topk;
    if (!Number.isInteger(k) || k < 1) throw new Error(`distillation top-k must be a positive integer, got ${k}`);
    let ids: string;
    if ((spec.topkIds ?? 'input') === 'input') ids = layout.take(inp(LOSS_INPUT.topkIds, 'int64', ['batch', 'seq', k]), [k]);
    else {
      const t = head.topk(k);
      ids = t.ids;
      named(g, t.everywhere, LOSS_OUTPUT.topkIds);
      diag.push({ name: LOSS_OUTPUT.topkIds, dtype: 'int64', shape: ['batch', 'seq', k] });
    }
    const tTop = layout.take(inp(LOSS_INPUT.teacherTopkLogp, 'float32', ['batch', 'seq', k]), [k]);
    const tTail = layout.take(inp(LOSS_INPUT.teacherTailLogp, 'float32', ['batch', 'seq']), []);
    const picked = gatheredLogp(g, head.logp, ids, targets, k);
    logp = picked.token;
    const tail = appendTailBucket(g, picked.top, spec.tailEps ?? DEFAULT_TAIL_EPS);
    const lS = g.op('Concat', [picked.top, tail], { axis: attr.int(-1) });
    const lT = g.op('Concat', [tTop, g.op('Unsqueeze', [tTail, i64(g, [-1])])], { axis: attr.int(-1) });
    tok = appendAlphaDivergence(g, lS, lT, spec.alpha);
    diagnose(tok, LOSS_OUTPUT.tokenDivergence);
  } else {
    const lo = spec.clipEps;
    const hi = spec.clipEpsHigh ?? spec.clipEps;
    if (!(lo >= 0 && lo < 1) || !(hi >= 0)) throw new Error(`GRPO clip epsilons must be in [0, 1), got ${lo} / ${hi}`);
    const adv = layout.perRow(inp(LOSS_INPUT.advantages, 'float32', ['batch']));
    const old = layout.take(inp(LOSS_INPUT.oldLogp, 'float32', ['batch', 'seq']), []);
    logp = targetLogp(g, head.logp, targets);
    const ratio = g.op('Exp', [g.op('Sub', [logp, old])]);
    diagnose(ratio, LOSS_OUTPUT.tokenRatio);
    const unclipped = g.op('Mul', [ratio, adv]);
    const clipped = g.op('Mul', [g.op('Clip', [ratio, g.scalar(1 - lo), g.scalar(1 + hi)]), adv]);
    tok = g.op('Neg', [g.op('Min', [unclipped, clipped])]);
  }
  maskedMean(g, tok, mask, count, LOSS_OUTPUT.loss);
  named(g, layout.spread(logp, [], 'float32'), LOSS_OUTPUT.studentLogp);
  diag.unshift({ name: LOSS_OUTPUT.studentLogp, dtype: 'float32', shape: ['batch', 'seq'] });
  g.output(LOSS_OUTPUT.loss, 'float32', []);
  for (const d of diag) g.output(d.name, d.dtype, d.shape);
  const diagnostics = diag.map((d) => d.name);
  return { inputs, outputs: [LOSS_OUTPUT.loss, ...diagnostics], diagnostics };
}

/** appendTokenLoss over materialized logits [B, S, V] (float32). */
export function appendLoss(g: Graph, logits: string, spec: LossSpec): AppendedLoss {
  return appendTokenLoss(g, spec, () => logitsHead(g, logits));
}

/**
 * Teacher side of self-distillation (no gradient): from the teacher's log-prob reader, the
 * student's top-k ids `topk_ids [B, S, k]` and `targets [B, S]` (both inputs, in the teacher's
 * own sequence layout), output teacher_topk_logp [B, S, k], teacher_tail_logp [B, S] and
 * teacher_logp_token [B, S] (the teacher's log-prob of the actual next token, for the UI).
 */
export function appendTeacherScoringWith(g: Graph, head: Pick<LossHead, 'logp' | 'layout'>, topk: number, tailEps = DEFAULT_TAIL_EPS): AppendedLoss {
  if (!Number.isInteger(topk) || topk < 1) throw new Error(`top-k must be a positive integer, got ${topk}`);
  const ids = g.input(LOSS_INPUT.topkIds, 'int64', ['batch', 'seq', topk]);
  const targets = g.input(LOSS_INPUT.targets, 'int64', ['batch', 'seq']);
  const { layout } = head;
  const picked = gatheredLogp(g, head.logp, layout.take(ids, [topk]), layout.take(targets, []), topk);
  named(g, layout.spread(picked.top, [topk], 'float32'), LOSS_OUTPUT.teacherTopkLogp);
  named(g, layout.spread(g.op('Squeeze', [appendTailBucket(g, picked.top, tailEps), i64(g, [-1])]), [], 'float32'), LOSS_OUTPUT.teacherTailLogp);
  named(g, layout.spread(picked.token, [], 'float32'), LOSS_OUTPUT.teacherLogpToken);
  g.output(LOSS_OUTPUT.teacherTopkLogp, 'float32', ['batch', 'seq', topk]);
  g.output(LOSS_OUTPUT.teacherTailLogp, 'float32', ['batch', 'seq']);
  g.output(LOSS_OUTPUT.teacherLogpToken, 'float32', ['batch', 'seq']);
  const outputs = [LOSS_OUTPUT.teacherTopkLogp, LOSS_OUTPUT.teacherTailLogp, LOSS_OUTPUT.teacherLogpToken];
  return { inputs: [ids, targets], outputs, diagnostics: outputs };
}

/** appendTeacherScoringWith over materialized teacher logits [B, S, V]. */
export function appendTeacherScoring(g: Graph, logits: string, topk: number, tailEps = DEFAULT_TAIL_EPS): AppendedLoss {
  return appendTeacherScoringWith(g, logitsHead(g, logits), topk, tailEps);
}

/** log p of each target [B, S] (forward only: GRPO's on-policy old_logp), as the graph output `name`. */
export function appendTargetLogpOutput(g: Graph, head: Pick<LossHead, 'logp' | 'layout'>, name: string): void {
  const targets = g.input(LOSS_INPUT.targets, 'int64', ['batch', 'seq']);
  named(g, head.layout.spread(targetLogp(g, head.logp, head.layout.take(targets, [])), [], 'float32'), name);
  g.output(name, 'float32', ['batch', 'seq']);
}

// ---------------------------------------------------------------------------------------------
// Host-side helpers
// ---------------------------------------------------------------------------------------------

/**
 * GRPO advantages: rewards are consecutive groups of `groupSize` rollouts of one problem;
 * A = (r - mean) / (std + 1e-6) within each group. std is the sample standard deviation
 * (Bessel's correction, divisor G - 1), as torch.std and the common GRPO implementations use;
 * a group of one has std 0 and advantage 0. A group whose rewards are all equal gets 0.
 */
export function groupAdvantages(rewards: ArrayLike<number>, groupSize: number): Float32Array {
  if (!Number.isInteger(groupSize) || groupSize < 1) throw new Error(`group size must be a positive integer, got ${groupSize}`);
  if (rewards.length % groupSize !== 0) throw new Error(`${rewards.length} rewards do not split into groups of ${groupSize}`);
  const out = new Float32Array(rewards.length);
  for (let s = 0; s < rewards.length; s += groupSize) {
    let mean = 0;
    for (let i = 0; i < groupSize; i++) mean += rewards[s + i];
    mean /= groupSize;
    let ss = 0;
    for (let i = 0; i < groupSize; i++) ss += (rewards[s + i] - mean) ** 2;
    const std = groupSize > 1 ? Math.sqrt(ss / (groupSize - 1)) : 0;
    for (let i = 0; i < groupSize; i++) out[s + i] = (rewards[s + i] - mean) / (std + 1e-6);
  }
  return out;
}
