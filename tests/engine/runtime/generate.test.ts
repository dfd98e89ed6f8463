import { afterAll, describe, expect, it } from 'vitest';
import { ModelRunner, type KvCache } from '../../../src/engine/runtime/model-runner';
import { nodeCpuBackend } from '../../../src/engine/runtime/node-backend';
import { leftPadBatch, stepMask } from '../../../src/engine/runtime/batch';
import { generate } from '../../../src/engine/runtime/generate';
import type { Family, ModelConfig } from '../../../src/engine/models/types';
import { referenceLogits } from '../../reference/forward';
import { randomAdapter, randomIds, randomWeights, tinyConfig } from '../../support/random-model';

const runners: ModelRunner[] = [];
afterAll(async () => {
  for (const r of runners) await r.release();
});

async function setup(family: Family, over: Partial<ModelConfig> = {}, lora = false) {
  const cfg = tinyConfig(family, over);
  const weights = randomWeights(cfg, 5);
  const runner = new ModelRunner(cfg, nodeCpuBackend());
  runners.push(runner);
  await runner.loadWeights(weights);
  const adapter = lora ? randomAdapter(cfg, 9, ['q_proj', 'v_proj', 'down_proj'], 2, 4, true) : null;
  runner.setAdapter(adapter);
  return { cfg, weights, runner, adapter };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

const families: Family[] = ['qwen2', 'qwen3', 'llama', 'olmo2'];

describe('KV-cached decoding', () => {
  it.each(families)('%s: prefill + token-by-token decode equals full recomputation', async (f) => {
    const { cfg, runner } = await setup(f, {}, true);
    const V = cfg.vocabSize;
    const ids = randomIds(10, V, 21);
    const full = await runner.forward({ ...leftPadBatch([ids], 0), logits: 'all', wantKv: false });
    // Prefill the first 4 tokens, then feed the rest one at a time through the cache.
    const pre = leftPadBatch([ids.slice(0, 4)], 0);
    let out = await runner.forward({ ...pre, logits: 'last', wantKv: true });
    expect(maxAbsDiff(out.logits, full.logits.subarray(3 * V, 4 * V))).toBeLessThan(1e-4);
    let kv = out.kv as KvCache;
    for (let p = 4; p < ids.length; p++) {
      out = await runner.forward({
        ids: BigInt64Array.of(BigInt(ids[p])),
        positions: BigInt64Array.of(BigInt(p)),
        mask: stepMask([0], kv.length, 1),
        batch: 1,
        seq: 1,
        past: kv,
        logits: 'last',
        wantKv: true,
      });
      expect(maxAbsDiff(out.logits, full.logits.subarray(p * V, (p + 1) * V))).toBeLessThan(1e-4);
      kv = out.kv as KvCache;
      expect(kv.length).toBe(p + 1);
    }
  });
});

describe('batching', () => {
  it.each(families)('%s: a left-padded batch of different lengths equals each sequence run alone', async (f) => {
    const { cfg, runner } = await setup(f, { tieWordEmbeddings: f === 'qwen3' });
    const V = cfg.vocabSize;
    const seqs = [randomIds(7, V, 1), randomIds(3, V, 2), randomIds(5, V, 3)];
    const b = leftPadBatch(seqs, 0);
    const batched = await runner.forward({ ...b, logits: 'all', wantKv: false });
    for (let i = 0; i < seqs.length; i++) {
      const alone = await runner.forward({ ...leftPadBatch([seqs[i]], 0), logits: 'all', wantKv: false });
      const start = (i * b.seq + b.pad[i]) * V;
      expect(maxAbsDiff(batched.logits.subarray(start, start + seqs[i].length * V), alone.logits)).toBeLessThan(1e-4);
    }
  });
});

describe('generation', () => {
  it.each(families)('%s: greedy batched generation equals greedy decoding with the reference', async (f) => {
    const { cfg, weights, runner, adapter } = await setup(f, {}, true);
    const prompts = [randomIds(5, cfg.vocabSize, 31), randomIds(2, cfg.vocabSize, 32)];
    const n = 6;
    const res = await generate(runner, prompts, {
      maxNewTokens: n, temperature: 0, topP: 1, topK: 0, seed: 0, stopAtEos: false, eosTokenIds: [], padTokenId: 0,
    });
    for (let i = 0; i < prompts.length; i++) {
      const seq = [...prompts[i]];
      for (let s = 0; s < n; s++) {
        const logits = referenceLogits(cfg, weights, seq, adapter);
        seq.push(argmax(logits[logits.length - 1]));
      }
      expect(res.tokens[i]).toEqual(seq.slice(prompts[i].length));
      expect(res.finish[i]).toBe('length');
      // Log-probs are the model's own log-softmax at the chosen token.
      const ref = referenceLogits(cfg, weights, seq, adapter);
      res.logprobs[i].forEach((lp, s) => {
        const row = ref[prompts[i].length - 1 + s];
        const m = Math.max(...row);
        const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
        expect(lp).toBeCloseTo(row[res.tokens[i][s]] - lse, 4);
      });
    }
  });

  it('stops a sequence at EOS when asked, and produces exactly n tokens otherwise', async () => {
    const { cfg, runner } = await setup('qwen3');
    const prompt = randomIds(4, cfg.vocabSize, 8);
    const free = await generate(runner, [prompt], { maxNewTokens: 5, temperature: 0, topP: 1, topK: 0, seed: 0, stopAtEos: false, eosTokenIds: [], padTokenId: 0 });
    const eos = free.tokens[0][2];
    const stopped = await generate(runner, [prompt], { maxNewTokens: 5, temperature: 0, topP: 1, topK: 0, seed: 0, stopAtEos: true, eosTokenIds: [eos], padTokenId: 0 });
    const firstEos = free.tokens[0].indexOf(eos);
    expect(stopped.tokens[0]).toEqual(free.tokens[0].slice(0, firstEos + 1));
    expect(stopped.finish[0]).toBe('eos');
    const notStopped = await generate(runner, [prompt], { maxNewTokens: 5, temperature: 0, topP: 1, topK: 0, seed: 0, stopAtEos: false, eosTokenIds: [eos], padTokenId: 0 });
    expect(notStopped.tokens[0]).toHaveLength(5);
  });

  it('seeded sampling reproduces, different seeds differ, and tokens stream step by step', async () => {
    const { cfg, runner } = await setup('llama');
    const prompts = [randomIds(3, cfg.vocabSize, 1), randomIds(6, cfg.vocabSize, 2)];
    const opts = { maxNewTokens: 12, temperature: 1.5, topP: 0.95, topK: 20, stopAtEos: false, eosTokenIds: [], padTokenId: 0 };
    const streamed: (number | null)[][] = [];
    const a = await generate(runner, prompts, { ...opts, seed: 42, onToken: (e) => streamed.push(e.tokens) });
    const b = await generate(runner, prompts, { ...opts, seed: 42 });
    const c = await generate(runner, prompts, { ...opts, seed: 43 });
    expect(a.tokens).toEqual(b.tokens);
    expect(a.tokens).not.toEqual(c.tokens);
    expect(streamed).toHaveLength(12);
    expect(streamed.map((s) => s[1])).toEqual(a.tokens[1]);
  });

  it('rows that finish leave the batch; the others get the same tokens (log-probs to 1e-5) and random stream', async () => {
    const { cfg, runner } = await setup('qwen2', {}, true);
    const prompts = [randomIds(4, cfg.vocabSize, 11), randomIds(6, cfg.vocabSize, 12), randomIds(2, cfg.vocabSize, 13), randomIds(5, cfg.vocabSize, 14)];
    for (const temperature of [0, 1.2]) {
      const opts = { maxNewTokens: 10, temperature, topP: 0.9, topK: 0, seed: 7, eosTokenIds: [] as number[], padTokenId: 0 };
      const free = await generate(runner, prompts, { ...opts, stopAtEos: false });
      // End rows 0 and 2 early (at different steps) by making a token of theirs the EOS.
      const eos = [free.tokens[0][2], free.tokens[2][5]];
      const firstEos = (b: number) => free.tokens[b].findIndex((t) => eos.includes(t));
      const rowsPerStep: number[] = [];
      const stopped = await generate(runner, prompts, { ...opts, stopAtEos: true, eosTokenIds: eos, onToken: (e) => rowsPerStep.push(e.tokens.filter((t) => t !== null).length) });
      for (let b = 0; b < prompts.length; b++) {
        const end = firstEos(b);
        const n = end < 0 ? 10 : end + 1;
        expect(stopped.tokens[b], `temperature ${temperature}, row ${b}`).toEqual(free.tokens[b].slice(0, n));
        // A smaller batch may round differently in the last bits (matrix products tile by rows).
        stopped.logprobs[b].forEach((lp, i) => expect(Math.abs(lp - free.logprobs[b][i])).toBeLessThan(1e-5));
        expect(stopped.finish[b]).toBe(end < 0 ? 'length' : 'eos');
      }
      // The batch shrank as rows finished.
      expect(rowsPerStep[0]).toBe(4);
      expect(Math.min(...rowsPerStep)).toBeLessThan(4);
    }
  });

  it('with a seed per row, each row samples what it samples alone with that seed', async () => {
    const { cfg, runner } = await setup('qwen3', {}, true);
    const prompts = [randomIds(5, cfg.vocabSize, 31), randomIds(3, cfg.vocabSize, 32), randomIds(7, cfg.vocabSize, 33)];
    const seeds = [101, 202, 303];
    const opts = { maxNewTokens: 8, temperature: 1.3, topP: 1, topK: 0, seed: 0, stopAtEos: false, eosTokenIds: [] as number[], padTokenId: 0 };
    const together = await generate(runner, prompts, { ...opts, seeds });
    for (let b = 0; b < prompts.length; b++) {
      const alone = await generate(runner, [prompts[b]], { ...opts, seed: seeds[b] });
      expect(together.tokens[b], `row ${b}`).toEqual(alone.tokens[0]);
      together.logprobs[b].forEach((lp, i) => expect(Math.abs(lp - alone.logprobs[0][i])).toBeLessThan(1e-4));
    }
    const shared = await generate(runner, prompts, opts);
    expect(shared.tokens).not.toEqual(together.tokens);
    await expect(generate(runner, prompts, { ...opts, seeds: [1, 2] })).rejects.toThrow(/one per sequence expected \(3\), got 2/);
  });
});
