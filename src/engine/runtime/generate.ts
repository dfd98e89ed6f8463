/**
 * Batched autoregressive generation with a KV cache: one prefill over the left-padded prompts,
 * then one decode step per new token for the rows still running. Rows that stop (EOS) leave
 * the batch: their KV rows are dropped (ModelRunner.keepRows) instead of being decoded as
 * padding. With one shared random stream every row still takes its draw at every step, so the
 * random stream of a row never depends on when the others stop; with a seed per row each row
 * has its own stream. Tokens stream to the caller.
 */
import { Prng } from '../../util/prng';
import { leftPadBatch, stepMask } from './batch';
import { ModelRunner, type GenerationKv } from './model-runner';
import { StaticKv, staticStepMask } from './static-kv';
import { logProbOf, sampleToken, validateSampling, type SamplingOptions } from './sampling';

export interface GenerateOptions extends SamplingOptions {
  maxNewTokens: number;
  seed: number;
  /**
   * One seed per sequence: each row samples from its own random stream, so a row's tokens are
   * those it would get generated alone with that seed (up to batching's float rounding).
   * Without it the rows share one stream seeded by `seed`.
   */
  seeds?: readonly number[];
  /** Stop a sequence at its first EOS token (the EOS is kept in the output). */
  stopAtEos: boolean;
  eosTokenIds: readonly number[];
  padTokenId: number;
  /** Called after every step with the new token of each still-running sequence. */
  onToken?: (e: { step: number; tokens: (number | null)[]; logprobs: (number | null)[] }) => void;
  /** Checked before each step; return true to stop early (e.g. the user pressed stop). */
  shouldStop?: () => boolean;
}

export interface GenerateResult {
  /** New tokens per sequence. */
  tokens: number[][];
  /** Log-probability of each new token under the model's untempered distribution. */
  logprobs: number[][];
  finish: ('eos' | 'length' | 'stopped')[];
}

export async function generate(runner: ModelRunner, prompts: readonly (readonly number[])[], o: GenerateOptions): Promise<GenerateResult> {
  validateSampling(o);
  if (!(Number.isInteger(o.maxNewTokens) && o.maxNewTokens >= 0)) throw new Error(`max new tokens must be a whole number >= 0, got ${o.maxNewTokens}`);
  const B = prompts.length;
  if (o.seeds && o.seeds.length !== B) throw new Error(`seeds: one per sequence expected (${B}), got ${o.seeds.length}`);
  const limit = runner.cfg.maxPositionEmbeddings;
  const longest = Math.max(0, ...prompts.map((p) => p.length));
  if (longest + o.maxNewTokens > limit) {
    throw new Error(`a prompt of ${longest} tokens plus ${o.maxNewTokens} new tokens exceeds the model's max_position_embeddings (${limit})`);
  }
  const tokens: number[][] = prompts.map(() => []);
  const logprobs: number[][] = prompts.map(() => []);
  const finish: GenerateResult['finish'] = prompts.map(() => 'length');
  const done = prompts.map(() => false);
  if (o.maxNewTokens === 0) return { tokens, logprobs, finish };

  const V = runner.cfg.vocabSize;
  const rng = new Prng(o.seed);
  const rowRngs = o.seeds ? o.seeds.map((x) => new Prng(x)) : null;
  const eos = new Set(o.eosTokenIds);
  const padded = leftPadBatch(prompts, o.padTokenId);
  let kv: GenerationKv | null = null;
  // Always ask for the KV cache, even when it will not be used: one prefill and one decode
  // session variant serve every call, so no graph is compiled twice (costly on WebGPU).
  let out = await runner.forward({ ...padded, logits: 'last', wantKv: true, kvCapacity: padded.seq + o.maxNewTokens });
  kv = out.kv;
  // The original rows still decoded, in batch order (finished rows leave the batch).
  let rows = prompts.map((_, b) => b);
  try {
    for (let step = 0; step < o.maxNewTokens; step++) {
      const stepTokens: (number | null)[] = [];
      const stepLp: (number | null)[] = [];
      for (let b = 0, r = 0; b < B; b++) {
        if (done[b]) {
          // A finished row still takes its draw, so one sequence's length does not shift the
          // random stream of the others (sampleToken draws exactly once when not greedy).
          if (o.temperature > 0 && !rowRngs) rng.next();
          stepTokens.push(null);
          stepLp.push(null);
          continue;
        }
        const row = out.logits.subarray(r * V, (r + 1) * V);
        r++;
        const t = sampleToken(row, o, rowRngs ? rowRngs[b] : rng);
        const lp = logProbOf(row, t);
        tokens[b].push(t);
        logprobs[b].push(lp);
        stepTokens.push(t);
        stepLp.push(lp);
        if (o.stopAtEos && eos.has(t)) {
          done[b] = true;
          finish[b] = 'eos';
        }
      }
      o.onToken?.({ step, tokens: stepTokens, logprobs: stepLp });
      if (done.every(Boolean) || step === o.maxNewTokens - 1) break;
      if (o.shouldStop?.()) {
        for (let b = 0; b < B; b++) if (!done[b]) finish[b] = 'stopped';
        break;
      }
      // Rows that just finished leave the batch: their cache rows are dropped, not decoded.
      const still = rows.filter((b) => !done[b]);
      if (still.length < rows.length) {
        const kept = await runner.keepRows(kv!, still.map((b) => rows.indexOf(b)));
        ModelRunner.disposeKv(kv);
        kv = kept;
        rows = still;
      }
      const past: GenerationKv = kv!;
      const pads = rows.map((b) => padded.pad[b]);
      out = await runner.forward({
        ids: BigInt64Array.from(rows, (b) => BigInt(tokens[b][step])),
        positions: BigInt64Array.from(rows, (b) => BigInt(prompts[b].length + step)),
        mask: past instanceof StaticKv ? staticStepMask(pads, past.length, past.capacity, 1) : stepMask(pads, past.length, 1),
        batch: rows.length,
        seq: 1,
        past,
        logits: 'last',
        wantKv: true,
      });
      ModelRunner.disposeKv(past);
      kv = out.kv;
    }
  } finally {
    ModelRunner.disposeKv(kv);
  }
  return { tokens, logprobs, finish };
}
