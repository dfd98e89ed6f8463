/**
 * The host KV cache of fixed capacity (static-kv.ts) and the decode-static graph: the buffers'
 * layout against a plain reference, the mask against batch.ts's stepMask, decoding through it
 * against full recomputation, and whole generations against the concatenating cache.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { MASK_NEG } from '../../../src/engine/models/decoder-graph';
import type { Family } from '../../../src/engine/models/types';
import { leftPadBatch, stepMask } from '../../../src/engine/runtime/batch';
import { generate, type GenerateOptions } from '../../../src/engine/runtime/generate';
import { ModelRunner } from '../../../src/engine/runtime/model-runner';
import { nodeCpuBackend } from '../../../src/engine/runtime/node-backend';
import { StaticKv, staticStepMask } from '../../../src/engine/runtime/static-kv';
import { randomAdapter, randomIds, randomWeights, tinyConfig } from '../../support/random-model';

const released: ModelRunner[] = [];
afterAll(async () => {
  for (const r of released) await r.release();
});

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('StaticKv buffers', () => {
  const cfg = { numLayers: 2, numKvHeads: 2, headDim: 3 };
  /** Key/value of (layer, row, head, position, dim), distinct everywhere. */
  const val = (l: number, b: number, h: number, t: number, d: number, v: 0 | 1) => 10000 * v + 1000 * l + 100 * b + 10 * h + t + d / 10;
  /** [B, KV, S, hd] of positions from..from+S. */
  const block = (l: number, B: number, from: number, S: number, v: 0 | 1) => {
    const out = new Float32Array(B * 2 * S * 3);
    for (let b = 0; b < B; b++) for (let h = 0; h < 2; h++) for (let s = 0; s < S; s++) for (let d = 0; d < 3; d++) out[((b * 2 + h) * S + s) * 3 + d] = val(l, b, h, from + s, d, v);
    return out;
  };

  it('stores keys transposed and values as they come, position after position, zeros beyond', () => {
    const kv = new StaticKv(cfg, 2, 6);
    for (const [from, S] of [[0, 3], [3, 1], [4, 1]]) {
      for (let l = 0; l < 2; l++) kv.write(l, block(l, 2, from, S, 0), block(l, 2, from, S, 1), S);
      kv.advance(S);
    }
    expect(kv.length).toBe(5);
    for (let l = 0; l < 2; l++) {
      for (let b = 0; b < 2; b++) {
        for (let h = 0; h < 2; h++) {
          for (let t = 0; t < 6; t++) {
            for (let d = 0; d < 3; d++) {
              const k = kv.keysT[l][((b * 2 + h) * 3 + d) * 6 + t];
              const v = kv.values[l][((b * 2 + h) * 6 + t) * 3 + d];
              expect(k).toBe(t < 5 ? Math.fround(val(l, b, h, t, d, 0)) : 0);
              expect(v).toBe(t < 5 ? Math.fround(val(l, b, h, t, d, 1)) : 0);
            }
          }
        }
      }
    }
    expect(() => kv.write(0, block(0, 2, 5, 2, 0), block(0, 2, 5, 2, 1), 2)).toThrow(/KV cache full: 2 new positions, 1 free of 6/);
  });

  it('keeps rows in place, in order, and feeds only the rows kept', () => {
    const kv = new StaticKv(cfg, 3, 4);
    for (let l = 0; l < 2; l++) kv.write(l, block(l, 3, 0, 2, 0), block(l, 3, 0, 2, 1), 2);
    kv.advance(2);
    const row2 = kv.keysT[1].slice(2 * 2 * 3 * 4, 3 * 2 * 3 * 4);
    kv.keepRows([0, 2]);
    expect(kv.batch).toBe(2);
    expect(kv.keysT[1].subarray(2 * 3 * 4, 2 * 2 * 3 * 4)).toEqual(row2);
    const T = { tensor: class { constructor(readonly type: string, readonly data: Float32Array, readonly dims: number[]) {} } }.tensor;
    const feeds = kv.feeds(T as never) as unknown as Record<string, { data: Float32Array; dims: number[] }>;
    expect(feeds['past.1.key_t'].dims).toEqual([2, 2, 3, 4]);
    expect(feeds['past.0.value_cap'].dims).toEqual([2, 2, 4, 3]);
    expect(feeds['past.1.key_t'].data.length).toBe(2 * 2 * 3 * 4);
    // A prefill into the empty cache is fed no stored columns at all.
    const none = kv.feeds(T as never, 0) as unknown as Record<string, { data: Float32Array; dims: number[] }>;
    expect(none['past.0.key_t'].dims).toEqual([2, 2, 3, 0]);
    expect(none['past.1.value_cap'].dims).toEqual([2, 2, 0, 3]);
    expect(none['past.1.value_cap'].data.length).toBe(0);
    expect(() => kv.feeds(T as never, 3)).toThrow(/all 4 or none, not 3/);
    expect(() => kv.keepRows([1, 0])).toThrow(/increasing order/);
    expect(() => kv.keepRows([2])).toThrow(/row 2 is not in a batch of 2/);
  });

  it('masks like stepMask: the stored columns, then the new ones, the unused capacity shut', () => {
    const pad = [0, 2, 1];
    for (const [past, S] of [[0, 4], [5, 1], [6, 3]]) {
      const cap = 9;
      const m = staticStepMask(pad, past, cap, S);
      const ref = stepMask(pad, past, S);
      const T = past + S;
      for (let r = 0; r < pad.length * S; r++) {
        const row = m.subarray(r * (cap + S), (r + 1) * (cap + S));
        expect(Array.from(row.subarray(0, past))).toEqual(Array.from(ref.subarray(r * T, r * T + past)));
        expect(row.subarray(past, cap).every((x) => x === MASK_NEG)).toBe(true);
        expect(Array.from(row.subarray(cap))).toEqual(Array.from(ref.subarray(r * T + past, (r + 1) * T)));
      }
    }
  });
});

async function runner(family: Family, staticKv: boolean, lora = false, constantWeights = false) {
  const cfg = tinyConfig(family, { tieWordEmbeddings: family === 'qwen3' });
  const r = new ModelRunner(cfg, nodeCpuBackend({ staticKv, constantWeights }));
  released.push(r);
  await r.loadWeights(randomWeights(cfg, 5));
  if (lora) r.setAdapter(randomAdapter(cfg, 9, ['q_proj', 'k_proj', 'v_proj', 'down_proj'], 2, 4, true));
  return { cfg, r };
}

describe('decoding through a StaticKv', () => {
  it.each(['qwen2', 'qwen3', 'llama', 'olmo2'] as const)('%s: prefill + token-by-token decode equals full recomputation', async (f) => {
    const { cfg, r } = await runner(f, true);
    const V = cfg.vocabSize;
    const ids = randomIds(10, V, 21);
    const full = await r.forward({ ...leftPadBatch([ids], 0), logits: 'all', wantKv: false });
    let out = await r.forward({ ...leftPadBatch([ids.slice(0, 4)], 0), logits: 'last', wantKv: true, kvCapacity: 12 });
    expect(out.kv).toBeInstanceOf(StaticKv);
    const kv = out.kv as StaticKv;
    expect(kv.length).toBe(4);
    for (let p = 4; p < ids.length; p++) {
      out = await r.forward({ ids: BigInt64Array.of(BigInt(ids[p])), positions: BigInt64Array.of(BigInt(p)), mask: staticStepMask([0], kv.length, kv.capacity, 1), batch: 1, seq: 1, past: kv, logits: 'last', wantKv: true });
      expect(maxAbsDiff(out.logits, full.logits.subarray(p * V, (p + 1) * V))).toBeLessThan(1e-4);
      expect(out.kv).toBe(kv);
      expect(kv.length).toBe(p + 1);
    }
  });
});

describe('the prefill of a generation through decode-static', () => {
  it.each(['qwen3', 'olmo2'] as const)('%s: the same logits, bit for bit, as the prefill graph, and its keys and values stored', async (family) => {
    const dyn = await runner(family, false, true);
    const stat = await runner(family, true, true);
    const V = dyn.cfg.vocabSize;
    const batch = leftPadBatch([randomIds(7, V, 31), randomIds(4, V, 32)], 0);
    const a = await dyn.r.forward({ ...batch, logits: 'last', wantKv: true });
    const b = await stat.r.forward({ ...batch, logits: 'last', wantKv: true, kvCapacity: 11 });
    expect(Array.from(b.logits)).toEqual(Array.from(a.logits));
    const present = a.kv as { keys: { getData(): Promise<unknown> }[]; values: { getData(): Promise<unknown> }[] };
    const kv = b.kv as StaticKv;
    const { numKvHeads: KV, headDim: hd, numLayers } = dyn.cfg;
    expect(kv.length).toBe(7);
    for (let l = 0; l < numLayers; l++) {
      const keys = (await present.keys[l].getData()) as Float32Array; // [B, KV, 7, hd]
      const values = (await present.values[l].getData()) as Float32Array;
      for (let bh = 0; bh < 2 * KV; bh++) {
        for (let t = 0; t < 7; t++) {
          for (let d = 0; d < hd; d++) {
            if (kv.keysT[l][(bh * hd + d) * 11 + t] !== keys[(bh * 7 + t) * hd + d]) throw new Error(`layer ${l} key ${bh},${t},${d}`);
            if (kv.values[l][(bh * 11 + t) * hd + d] !== values[(bh * 7 + t) * hd + d]) throw new Error(`layer ${l} value ${bh},${t},${d}`);
          }
        }
      }
    }
  });
});

describe('generation with the static cache', () => {
  it.each([
    ['qwen3', false, 0, false],
    ['llama', true, 0.8, false],
    ['olmo2', true, 1, false],
    ['qwen2', true, 0.7, true],
  ] as const)('%s (adapter %s, temperature %s, constant weights %s): the same tokens, log-probabilities to 1e-5, as the concatenating cache', async (family, lora, temperature, constantWeights) => {
    const dyn = await runner(family, false, lora, constantWeights);
    const stat = await runner(family, true, lora, constantWeights);
    const V = dyn.cfg.vocabSize;
    // rows of different lengths (left padding) and stop tokens, so rows leave the batch
    const prompts = [randomIds(5, V, 1), randomIds(9, V, 2), randomIds(3, V, 3), randomIds(6, V, 4)];
    const opts: GenerateOptions = { maxNewTokens: 14, temperature, topP: 1, topK: 0, seed: 4, stopAtEos: true, eosTokenIds: [7, 11, 19, 23], padTokenId: 0 };
    const a = await generate(dyn.r, prompts, opts);
    const b = await generate(stat.r, prompts, opts);
    expect(b.tokens).toEqual(a.tokens);
    expect(b.finish).toEqual(a.finish);
    expect(new Set(a.tokens.map((t) => t.length)).size).toBeGreaterThan(1); // some rows did leave early
    let worst = 0;
    a.logprobs.forEach((row, i) => row.forEach((lp, j) => (worst = Math.max(worst, Math.abs(lp - b.logprobs[i][j])))));
    expect(worst).toBeLessThan(1e-5);
  });

  it('uses the decode-static session, and the concatenating one when turned off', async () => {
    for (const staticKv of [true, false]) {
      const { cfg, r } = await runner('qwen3', staticKv);
      await generate(r, [randomIds(4, cfg.vocabSize, 8)], { maxNewTokens: 3, temperature: 0, topP: 1, topK: 0, seed: 0, stopAtEos: false, eosTokenIds: [], padTokenId: 0 });
      const keys = [...(r as unknown as { sessions: { cache: Map<string, unknown> } }).sessions.cache.keys()];
      expect(keys.some((k) => k.startsWith('decode-static|'))).toBe(staticKv);
      expect(keys.some((k) => k.startsWith('decode|'))).toBe(!staticKv);
      // With the static cache the prefill runs through decode-static too: one session.
      expect(keys.some((k) => k.startsWith('prefill|'))).toBe(!staticKv);
    }
  });
});
