/**
 * The LM head over the vocabulary in chunks, so no [tokens, V] tensor (logits, their softmax
 * or its gradient) exists at once: at most [tokens, chunk].
 *
 * For hidden states h [R, D] and the head weight W [V, D] (as stored; lm_head or the tied
 * embedding), chunk c = W[c0:c1] gives z_c = h W_c^T [R, Vc], and one pass over the chunks keeps
 *   M (running max), s = sum exp(z - M), and, for training, acc = sum exp(z - M) W_c [R, D]
 * rescaling the running values by exp(M_old - M_new) when the max grows (the online softmax).
 * Then lse = M + log s, and E = acc / s is softmax(z) W: the gradient of lse with respect to h.
 * Log-probs at given ids are z_id - lse (`at`), z_id picked out of its chunk's product.
 *
 * The gradient of a loss L(lse, z_ids) with respect to h is therefore
 *   dL/dh = dL/dlse * E + sum_j dL/dz_j W[id_j],
 * which train-graph.ts forms from autodiff's gradients of L with respect to `lse` and the
 * gathered logits (the small per-token part) and seeds into the decoder's backward pass. The
 * vocabulary-wide work is two products per chunk (h W_c^T and exp(.) W_c), the FLOPs of the
 * unchunked forward and backward.
 *
 * With fp16 weights the products run in fp16 (as the unchunked head's do); everything else is
 * fp32.
 *
 * Layouts (losses.ts TokenLayout): `allPositions` flattens [B, S] to R = B*S rows (teacher
 * scoring, top-k, target log-probs); `lossTokens` keeps only the R = P positions where the loss
 * mask is non-zero (the train step: the prompt's logits are never formed).
 */
import { attr, type DType, type Graph } from '../onnx/graph';
import { zeroAfter } from '../onnx/ordering';
import type { LossHead, TokenLayout, TokenLogp } from './losses';

/** Default vocabulary entries per chunk: 151,936 (Qwen) in 10 chunks; [512, 16384] fp32 is 32 MiB. */
export const DEFAULT_VOCAB_CHUNK = 16384;

export interface VocabHeadOptions {
  /** [R, D] float32 hidden states (after the final norm). */
  hidden: string;
  /** [V, D] head weight as stored. */
  weight: string;
  vocab: number;
  /** Vocabulary entries per chunk (>= 1). */
  chunk: number;
  /** Storage type of `weight`. */
  storage: DType;
  /** Also form E = softmax(z) W (needed for the gradient). */
  expectation: boolean;
}

/** [start, end) of each chunk of [0, vocab). */
export function vocabChunks(vocab: number, chunk: number): [number, number][] {
  if (!Number.isInteger(chunk) || chunk < 1) throw new Error(`vocabulary chunk must be a whole number >= 1, got ${chunk}`);
  const out: [number, number][] = [];
  for (let c = 0; c < vocab; c += chunk) out.push([c, Math.min(vocab, c + chunk)]);
  return out;
}

/** The gathered logits of one `at` call and the (fp32) weight rows they were read from. */
export interface GatheredLogits {
  /** [R, m] */
  logits: string;
  /** [R, m, D] */
  rows: string;
}

export class VocabHead implements TokenLogp {
  /** [R, 1] log-sum-exp of the logits of each row (set by `at`). */
  lse = '';
  /** [R, D] softmax(z) W, or null without `expectation` (set by `at`). */
  expected: string | null = null;
  /** The gathered logits of the `at` call (their gradient feeds dL/dh). */
  gathered: GatheredLogits[] = [];
  /** The head's input [R, D]. */
  readonly hidden: string;
  private readonly fp16: boolean;

  constructor(
    private readonly g: Graph,
    private readonly o: VocabHeadOptions,
  ) {
    this.fp16 = o.storage === 'float16';
    this.hidden = o.hidden;
  }

  private toStorage(v: string): string {
    return this.fp16 ? this.g.op('Cast', [v], { to: attr.int(10) }) : v;
  }

  private toF32(v: string): string {
    return this.fp16 ? this.g.op('Cast', [v], { to: attr.int(1) }) : v;
  }

  /**
   * W[c0:c1], copied only once every value of `after` exists (ordering.ts): the previous
   * chunk's results, so that chunk's logits, exponentials and weight copy are dead before this
   * one is copied. A Gather of constant row indices: onnxruntime turns Gather(Range) into a Slice, and
   * its CPU Slice copied a 64 MiB chunk of the 0.6B model's head several times slower than
   * Gather's row copies.
   */
  private chunkWeight(c0: number, c1: number, after: readonly string[]): string {
    const g = this.g;
    const ids = g.initializer(g.fresh('vocab_rows'), { dtype: 'int64', dims: [c1 - c0], data: BigInt64Array.from({ length: c1 - c0 }, (_, i) => BigInt(c0 + i)) });
    const rows = g.op('Add', [ids, zeroAfter((t, i, a) => g.op(t, i, a), (x) => g.i64(x), after)]);
    return g.op('Gather', [this.o.weight, rows], { axis: attr.int(0) });
  }

  /** z_c = h W_c^T [R, Vc] (float32). */
  private chunkLogits(hStored: string, wc: string): string {
    return this.toF32(this.g.op('Gemm', [hStored, wc], { transB: attr.int(1) }));
  }

  /**
   * log p at ids [R, m] (int64) -> [R, m]. One pass over the chunks forms lse (and E) and picks
   * each id's logit out of its chunk's product, so the values are those of the unchunked
   * head's product. One call per head.
   */
  at(ids: string): string {
    if (this.lse) throw new Error('VocabHead.at reads one set of ids per head');
    const g = this.g;
    const hStored = this.toStorage(this.o.hidden);
    let m = '';
    let s = '';
    let acc = '';
    let picked = '';
    for (const [c0, c1] of vocabChunks(this.o.vocab, this.o.chunk)) {
      // Every use of the previous chunk is done before this one is copied.
      const wc = this.chunkWeight(c0, c1, m ? [s, picked, ...(acc ? [acc] : [])] : [this.o.hidden]);
      const z = this.chunkLogits(hStored, wc);
      // The logits of the ids that fall in this chunk (others keep what earlier chunks gave).
      const inChunk = g.op('And', [g.op('GreaterOrEqual', [ids, g.i64([c0], [])]), g.op('Less', [ids, g.i64([c1], [])])]);
      const local = g.op('Where', [inChunk, g.op('Sub', [ids, g.i64([c0], [])]), g.i64([0], [])]);
      const here = g.op('GatherElements', [z, local], { axis: attr.int(-1) });
      picked = g.op('Where', [inChunk, here, picked || g.scalar(0)]);
      const mc = g.op('ReduceMax', [z], { axes: attr.ints([-1]), keepdims: attr.int(1) });
      const mNew = m ? g.op('Max', [m, mc]) : mc;
      const e = g.op('Exp', [g.op('Sub', [z, mNew])]);
      const sc = g.op('ReduceSum', [e, g.i64([-1])], { keepdims: attr.int(1) });
      const ew = this.o.expectation ? this.toF32(g.op('Gemm', [this.toStorage(e), wc])) : ''; // [R, D]
      if (!m) {
        s = sc;
        acc = ew;
      } else {
        const rescale = g.op('Exp', [g.op('Sub', [m, mNew])]);
        s = g.op('Add', [g.op('Mul', [s, rescale]), sc]);
        if (this.o.expectation) acc = g.op('Add', [g.op('Mul', [acc, rescale]), ew]);
      }
      m = mNew;
    }
    this.lse = g.op('Add', [m, g.op('Log', [s])]);
    this.expected = this.o.expectation ? g.op('Div', [acc, s]) : null;
    // The rows of W the gathered logits came from, for their gradient (training only).
    const rows = this.o.expectation ? this.toF32(g.op('Gather', [this.o.weight, ids], { axis: attr.int(0) })) : ''; // [R, m, D]
    this.gathered = [{ logits: picked, rows }];
    return g.op('Sub', [picked, this.lse]);
  }

  /**
   * The k largest logits' ids per row [R, k] (int64, largest first, ties to the lower id), from
   * each chunk's own top-k: the union of the chunks' top-k holds the overall top-k, and
   * concatenating the chunks in order keeps ties ordered by id.
   */
  topk(k: number): string {
    const g = this.g;
    if (!Number.isInteger(k) || k < 1) throw new Error(`top-k must be a positive integer, got ${k}`);
    const hStored = this.toStorage(this.o.hidden);
    const values: string[] = [];
    const ids: string[] = [];
    for (const [c0, c1] of vocabChunks(this.o.vocab, this.o.chunk)) {
      const z = this.chunkLogits(hStored, this.chunkWeight(c0, c1, values.length ? [values.at(-1)!, ids.at(-1)!] : [this.o.hidden]));
      const kc = Math.min(k, c1 - c0);
      const [v, i] = g.node('TopK', [z, g.i64([kc])], { axis: attr.int(-1), largest: attr.int(1), sorted: attr.int(1) }, 2);
      values.push(v);
      ids.push(c0 ? g.op('Add', [i, g.i64([c0], [])]) : i);
    }
    if (values.length === 1) return ids[0];
    const all = g.op('Concat', values, { axis: attr.int(-1) });
    const [, pos] = g.node('TopK', [all, g.i64([k])], { axis: attr.int(-1), largest: attr.int(1), sorted: attr.int(1) }, 2);
    return g.op('GatherElements', [g.op('Concat', ids, { axis: attr.int(-1) }), pos], { axis: attr.int(-1) });
  }
}

/**
 * dL/dh [R, D] of a loss of the head's log-probs, from dL/dlse [R, 1] and dL/dz [R, m] of each
 * gathered-logits value (see the module header).
 */
export function hiddenGradient(g: Graph, head: VocabHead, dLse: string, dGathered: string[]): string {
  if (!head.expected || !head.lse) throw new Error('the vocabulary head has no log-sum-exp and expectation to differentiate (build it with expectation and read it with at())');
  let dh = g.op('Mul', [dLse, head.expected]);
  head.gathered.forEach((x, i) => {
    const part = g.op('ReduceSum', [g.op('Mul', [g.op('Unsqueeze', [dGathered[i], g.i64([-1])]), x.rows]), g.i64([1])], { keepdims: attr.int(0) });
    dh = g.op('Add', [dh, part]);
  });
  return dh;
}

/** Per-token layout over every position, flattened: R = B*S rows. */
export function allPositions(g: Graph, shapeBS: string): TokenLayout {
  return {
    take: (v, rest) => g.op('Reshape', [v, g.i64([-1, ...rest])]),
    perRow: (v) => g.op('Reshape', [g.op('Expand', [g.op('Unsqueeze', [v, g.i64([1])]), shapeBS]), g.i64([-1])]),
    spread: (v, rest) => g.op('Reshape', [v, rest.length ? g.op('Concat', [shapeBS, g.i64(rest)], { axis: attr.int(0) }) : shapeBS]),
  };
}

/**
 * Per-token layout over the positions where `mask` [B, S] is non-zero only: R = P rows, picked
 * by `rows` [P] (int64, flat position indices, in order). Emitted values are 0 elsewhere.
 */
export function lossTokens(g: Graph, mask: string): TokenLayout & { rows: string } {
  const shapeBS = g.op('Shape', [mask]);
  const flat = allPositions(g, shapeBS);
  const nonZero = g.op('Cast', [flat.take(mask, [])], { to: attr.int(9) }); // bool
  const rows = g.op('Reshape', [g.op('NonZero', [nonZero]), g.i64([-1])]);
  const count = g.op('Shape', [flat.take(mask, [])]); // [B*S]
  const pick = (v: string) => g.op('Gather', [v, rows], { axis: attr.int(0) });
  return {
    rows,
    take: (v, rest) => pick(flat.take(v, rest)),
    perRow: (v) => pick(flat.perRow(v)),
    spread: (v, rest, dtype) => {
      const zeros = g.op('ConstantOfShape', [rest.length ? g.op('Concat', [count, g.i64(rest)], { axis: attr.int(0) }) : count], {
        value: attr.tensor(dtype === 'int64' ? { dtype, dims: [1], data: BigInt64Array.of(0n) } : { dtype, dims: [1], data: Float32Array.of(0) }),
      });
      return flat.spread(g.op('ScatterND', [zeros, g.op('Unsqueeze', [rows, g.i64([-1])]), v]), rest, dtype);
    },
  };
}

/**
 * A LossHead reading the chunked head in `layout`. `everywhere` builds the head over every
 * position (for the student's own top-k at every position); without it `head` serves (a layout
 * of all positions).
 */
export function vocabLossHead(head: VocabHead, layout: TokenLayout, everywhere?: () => { head: VocabHead; layout: TokenLayout }): LossHead {
  return {
    logp: head,
    layout,
    topk: (k) => {
      if (!everywhere) {
        const ids = head.topk(k);
        return { everywhere: layout.spread(ids, [k], 'int64'), ids };
      }
      const e = everywhere();
      const all = e.layout.spread(e.head.topk(k), [k], 'int64'); // [B, S, k]
      return { everywhere: all, ids: layout.take(all, [k]) };
    },
  };
}
