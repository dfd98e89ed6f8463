/**
 * Training samples -> padded micro-batches for the train-step and teacher-scoring graphs.
 *
 * A sample is a token sequence `ids` whose tokens from `response_start` on are the response;
 * the logit at position p predicts token p + 1, so position p is in the loss exactly when
 * p + 1 >= response_start (and p + 1 < ids.length). With a teacher context, `teacher_ids`
 * ends with the same response from `teacher_response_start` on, and student position p
 * corresponds to teacher position p - response_start + teacher_response_start.
 *
 * Padding is on the LEFT, as everywhere in the engine (`leftPadBatch`): each row's last token
 * sits in the last column, position ids skip the padding, and the attention mask hides it.
 * Padding positions, and each row's last position (it predicts nothing), have loss_mask 0
 * and target = the pad id, so they contribute nothing to the loss or its gradient.
 *
 * `token_count` is the number of loss positions in the WHOLE batch (all micro-batches): each
 * micro-batch's loss is a sum over its tokens divided by that count, so summing the
 * micro-batch losses and gradients gives the mean over every response token of the batch,
 * whatever the micro-batch size.
 */
import { leftPadBatch, type PaddedBatch } from '../runtime/batch';

export interface TrainSample {
  ids: number[];
  response_start: number;
  teacher_ids?: number[];
  teacher_response_start?: number;
  /** GRPO: the sample's (group-normalized) advantage. */
  advantage?: number;
  /** GRPO: behaviour-policy log-prob of each response token, ids.length - response_start values. */
  old_logp?: number[];
}

/** A left-padded batch of rows, as src/engine/runtime/batch.ts makes them. */
export type PaddedRows = PaddedBatch;

export interface MicroBatch extends PaddedRows {
  /** Indices of the samples (in the batch given to makeBatches) held by this micro-batch. */
  sampleIndex: number[];
  /** [B, S] next-token targets (the pad id where not in the loss). */
  targets: BigInt64Array;
  /** [B, S] 1 where the position's prediction is in the loss. */
  lossMask: Float32Array;
  /** Loss positions in this micro-batch. */
  tokens: number;
  /** Teacher rows, when the samples carry a teacher context. */
  teacher: (PaddedRows & {
    /** [B, St] next-token targets of the teacher rows (the pad id past each row's end). */
    targets: BigInt64Array;
    /** [B * S]: for each student loss position, the teacher column predicting the same token; else -1. */
    align: Int32Array;
  }) | null;
  /** GRPO inputs, when every sample has an advantage. */
  advantages: Float32Array | null;
  /** [B, S] old log-probs at loss positions (0 elsewhere), when every sample has old_logp. */
  oldLogp: Float32Array | null;
}

export interface Batches {
  micro: MicroBatch[];
  /** Loss positions over the whole batch (the `token_count` input of every micro-batch). */
  tokenCount: number;
}

export interface BatchOptions {
  /** Samples per micro-batch (gradient accumulation runs over the micro-batches). Default: all. */
  microBatchSize?: number;
  padId: number;
  /** Check token ids against the vocabulary. */
  vocabSize?: number;
  /** Every sample must carry a teacher context (distillation). */
  requireTeacher?: boolean;
  /** Longest sequence the model can position (max_position_embeddings). */
  maxPositions?: number;
}

function isIdArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => Number.isInteger(x) && x >= 0);
}

/** Throws an Error naming the sample and field when a sample is unusable. */
export function validateSample(s: TrainSample, index: number, opts: { vocabSize?: number; requireTeacher?: boolean; maxPositions?: number } = {}): void {
  const where = `sample ${index}`;
  const fail = (m: string): never => {
    throw new Error(`${where}: ${m}`);
  };
  if (typeof s !== 'object' || s === null) fail('must be an object');
  if (!isIdArray(s.ids) || s.ids.length === 0) fail('"ids" must be a non-empty list of token ids (whole numbers >= 0)');
  const V = opts.vocabSize;
  const checkVocab = (ids: number[], field: string) => {
    if (V === undefined) return;
    const bad = ids.findIndex((x) => x >= V);
    if (bad >= 0) fail(`${field}[${bad}] = ${ids[bad]} is outside the vocabulary (size ${V})`);
  };
  checkVocab(s.ids, 'ids');
  const P = opts.maxPositions;
  if (P !== undefined && s.ids.length > P) fail(`"ids" has ${s.ids.length} tokens, more than the model's max_position_embeddings (${P})`);
  if (P !== undefined && Array.isArray(s.teacher_ids) && s.teacher_ids.length > P) fail(`"teacher_ids" has ${s.teacher_ids.length} tokens, more than the model's max_position_embeddings (${P})`);
  const rs = s.response_start;
  if (!Number.isInteger(rs)) fail(`"response_start" must be a whole number, got ${JSON.stringify(rs)}`);
  if (rs < 1) fail(`"response_start" must be >= 1 (position 0 has no preceding logit), got ${rs}`);
  if (rs >= s.ids.length) fail(`"response_start" ${rs} leaves no response tokens (ids has ${s.ids.length})`);
  const hasT = s.teacher_ids !== undefined || s.teacher_response_start !== undefined;
  if (opts.requireTeacher && !hasT) fail('needs "teacher_ids" and "teacher_response_start" for distillation');
  if (hasT) {
    const tids = s.teacher_ids;
    if (!isIdArray(tids) || tids.length === 0) return fail('"teacher_ids" must be a non-empty list of token ids');
    checkVocab(tids, 'teacher_ids');
    const trs = s.teacher_response_start;
    if (typeof trs !== 'number' || !Number.isInteger(trs)) return fail(`"teacher_response_start" must be a whole number, got ${JSON.stringify(trs)}`);
    if (trs < 1) fail(`"teacher_response_start" must be >= 1, got ${trs}`);
    const resp = s.ids.length - rs;
    const tresp = tids.length - trs;
    if (tresp !== resp) {
      fail(`the response is ${resp} tokens after response_start but ${tresp} after teacher_response_start; they must be the same tokens`);
    }
    for (let i = 0; i < resp; i++) {
      if (tids[trs + i] !== s.ids[rs + i]) {
        fail(`response token ${i} differs: ids[${rs + i}] = ${s.ids[rs + i]} but teacher_ids[${trs + i}] = ${tids[trs + i]}`);
      }
    }
  }
  if (s.advantage !== undefined && !Number.isFinite(s.advantage)) fail(`"advantage" must be a finite number`);
  if (s.old_logp !== undefined) {
    if (!Array.isArray(s.old_logp) || s.old_logp.length !== s.ids.length - rs || !s.old_logp.every((x) => Number.isFinite(x))) {
      fail(`"old_logp" must hold ${s.ids.length - rs} finite numbers (one per response token)`);
    }
  }
}

function pad(seqs: number[][], padId: number): PaddedRows {
  const b = leftPadBatch(seqs, padId);
  return { batch: b.batch, seq: b.seq, pad: b.pad, ids: b.ids, positions: b.positions, mask: b.mask };
}

function microBatch(samples: readonly TrainSample[], index: number[], padId: number): MicroBatch {
  const rows = pad(samples.map((s) => s.ids), padId);
  const { batch: B, seq: S } = rows;
  const targets = new BigInt64Array(B * S).fill(BigInt(padId));
  const lossMask = new Float32Array(B * S);
  let tokens = 0;
  for (let b = 0; b < B; b++) {
    const s = samples[b];
    const p0 = rows.pad[b];
    for (let p = 0; p + 1 < s.ids.length; p++) {
      const j = b * S + p0 + p;
      targets[j] = BigInt(s.ids[p + 1]);
      if (p + 1 >= s.response_start) {
        lossMask[j] = 1;
        tokens++;
      }
    }
  }
  let teacher: MicroBatch['teacher'] = null;
  if (samples.some((s) => s.teacher_ids !== undefined)) {
    const tseqs = samples.map((s) => s.teacher_ids ?? s.ids);
    const t = pad(tseqs, padId);
    const ttargets = new BigInt64Array(t.batch * t.seq).fill(BigInt(padId));
    for (let b = 0; b < B; b++) {
      for (let p = 0; p + 1 < tseqs[b].length; p++) ttargets[b * t.seq + t.pad[b] + p] = BigInt(tseqs[b][p + 1]);
    }
    const align = new Int32Array(B * S).fill(-1);
    for (let b = 0; b < B; b++) {
      const s = samples[b];
      const trs = s.teacher_ids ? s.teacher_response_start! : s.response_start;
      for (let p = s.response_start - 1; p + 1 < s.ids.length; p++) {
        align[b * S + rows.pad[b] + p] = t.pad[b] + p - s.response_start + trs;
      }
    }
    teacher = { ...t, targets: ttargets, align };
  }
  let advantages: Float32Array | null = null;
  if (samples.every((s) => s.advantage !== undefined)) advantages = Float32Array.from(samples.map((s) => s.advantage!));
  let oldLogp: Float32Array | null = null;
  if (samples.every((s) => s.old_logp !== undefined)) {
    oldLogp = new Float32Array(B * S);
    for (let b = 0; b < B; b++) {
      const s = samples[b];
      for (let i = 0; i < s.old_logp!.length; i++) oldLogp[b * S + rows.pad[b] + s.response_start - 1 + i] = s.old_logp![i];
    }
  }
  return { ...rows, sampleIndex: index, targets, lossMask, tokens, teacher, advantages, oldLogp };
}

/** Validate and split a batch into padded micro-batches (in the given order). */
export function makeBatches(samples: readonly TrainSample[], opts: BatchOptions): Batches {
  if (!Array.isArray(samples) || samples.length === 0) throw new Error('the batch has no samples');
  samples.forEach((s, i) => validateSample(s, i, opts));
  const mb = opts.microBatchSize ?? samples.length;
  if (!Number.isInteger(mb) || mb < 1) throw new Error(`micro-batch size must be a whole number >= 1, got ${mb}`);
  const micro: MicroBatch[] = [];
  for (let i = 0; i < samples.length; i += mb) {
    const idx = Array.from({ length: Math.min(mb, samples.length - i) }, (_, k) => i + k);
    micro.push(microBatch(idx.map((k) => samples[k]), idx, opts.padId));
  }
  const tokenCount = micro.reduce((a, m) => a + m.tokens, 0);
  return { micro, tokenCount };
}

/**
 * Move per-position values [B, S, k] of the student layout to the teacher layout
 * [B, St, k] (zeros / `fill` where no student loss position maps).
 */
export function studentToTeacher<T extends BigInt64Array | Float32Array>(mb: MicroBatch, values: T, k: number, make: (n: number) => T): T {
  const t = mb.teacher;
  if (!t) throw new Error('micro-batch has no teacher rows');
  const out = make(t.batch * t.seq * k);
  const S = mb.seq;
  for (let b = 0; b < mb.batch; b++) {
    for (let j = 0; j < S; j++) {
      const col = t.align[b * S + j];
      if (col < 0) continue;
      const src = (b * S + j) * k;
      const dst = (b * t.seq + col) * k;
      for (let i = 0; i < k; i++) out[dst + i] = values[src + i];
    }
  }
  return out;
}

/** The inverse of studentToTeacher: teacher-layout values [B, St, k] -> student layout [B, S, k]. */
export function teacherToStudent(mb: MicroBatch, values: Float32Array, k: number): Float32Array {
  const t = mb.teacher;
  if (!t) throw new Error('micro-batch has no teacher rows');
  const S = mb.seq;
  const out = new Float32Array(mb.batch * S * k);
  for (let b = 0; b < mb.batch; b++) {
    for (let j = 0; j < S; j++) {
      const col = t.align[b * S + j];
      if (col < 0) continue;
      const src = (b * t.seq + col) * k;
      const dst = (b * S + j) * k;
      for (let i = 0; i < k; i++) out[dst + i] = values[src + i];
    }
  }
  return out;
}
