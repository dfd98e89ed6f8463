/**
 * Batched autoregressive generation with a KV cache: one prefill over the left-padded prompts,
 * then one decode step per new token for the whole batch. Tokens stream to the caller.
 */
import { Prng } from '../../util/prng';
import { leftPadBatch, stepMask } from './batch';
import { ModelRunner, type KvCache } from './model-runner';
import { logProbOf, sampleToken, validateSampling, type SamplingOptions } from './sampling';

export interface GenerateOptions extends SamplingOptions {
  maxNewTokens: number;
  seed: number;
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
  const eos = new Set(o.eosTokenIds);
  const padded = leftPadBatch(prompts, o.padTokenId);
  let kv: KvCache | null = null;
  // Always ask for the KV cache, even when it will not be used: one prefill and one decode
  // session variant serve every call, so no graph is compiled twice (costly on WebGPU).
  let out = await runner.forward({ ...padded, logits: 'last', wantKv: true });
  kv = out.kv;
  const lastPos = prompts.map((p) => p.length - 1);
  try {
    for (let step = 0; step < o.maxNewTokens; step++) {
      const stepTokens: (number | null)[] = [];
      const stepLp: (number | null)[] = [];
      const next = new BigInt64Array(B);
      for (let b = 0; b < B; b++) {
        const row = out.logits.subarray(b * V, (b + 1) * V);
        // Every row draws from the generator, finished or not, so one sequence's length does
        // not shift the random stream of the others.
        const t = sampleToken(row, o, rng);
        if (done[b]) {
          stepTokens.push(null);
          stepLp.push(null);
          next[b] = BigInt(o.padTokenId);
          continue;
        }
        const lp = logProbOf(row, t);
        tokens[b].push(t);
        logprobs[b].push(lp);
        stepTokens.push(t);
        stepLp.push(lp);
        next[b] = BigInt(t);
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
      const positions = BigInt64Array.from(lastPos.map((p) => BigInt(p + step + 1)));
      const past: KvCache = kv!;
      out = await runner.forward({
        ids: next,
        positions,
        mask: stepMask(padded.pad, past.length, 1),
        batch: B,
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
