/**
 * Self-consistency tests for the float64 reference forward pass. None of these need another
 * implementation: they check structural properties (causality, LoRA algebra, tying, GQA
 * equivalence, norm placement) and a couple of tiny models worked out with scalar arithmetic.
 */

import { describe, expect, it } from 'vitest';
import {
  LORA_TARGETS,
  loraScale,
  projectionPath,
  projectionShape,
  type Family,
  type HostTensor,
  type LoraAdapter,
  type LoraConfig,
  type LoraTarget,
  type ModelConfig,
  type WeightMap,
} from '../../src/engine/models/types';
import { referenceApplyRope, referenceHidden, referenceInvFreq, referenceLogits, referenceRmsNorm } from './forward';

// ---------------------------------------------------------------------------------------------
// Fixtures local to this file
// ---------------------------------------------------------------------------------------------

/** mulberry32: a tiny deterministic PRNG returning floats in [0, 1). */
function makeRng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Random value in [-amp, amp] rounded to a multiple of 1/256. Dyadic values with few bits keep
 * float32 sums such as W + s * B A exact, so merged-vs-unmerged LoRA comparisons are tight.
 */
function dyadic(rng: () => number, amp: number): number {
  return Math.round((rng() * 2 - 1) * amp * 256) / 256;
}

function tensor(dims: number[], fill: (i: number) => number): HostTensor {
  let n = 1;
  for (const d of dims) n *= d;
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = fill(i);
  return { dims, data };
}

function fromRows(rows: number[][]): HostTensor {
  return { dims: [rows.length, rows[0].length], data: Float32Array.from(rows.flat()) };
}

function vec(values: number[]): HostTensor {
  return { dims: [values.length], data: Float32Array.from(values) };
}

function makeConfig(family: Family, over: Partial<ModelConfig> = {}): ModelConfig {
  return {
    family,
    vocabSize: 11,
    hiddenSize: 8,
    intermediateSize: 12,
    numLayers: 2,
    numHeads: 4,
    numKvHeads: 2,
    headDim: 4,
    rmsNormEps: 1e-6,
    ropeTheta: 10000,
    ropeScaling: null,
    maxPositionEmbeddings: 128,
    tieWordEmbeddings: false,
    attentionBias: family === 'qwen2',
    outputBias: false,
    mlpBias: false,
    dtype: 'float32',
    bosTokenId: null,
    eosTokenIds: [],
    padTokenId: null,
    ...over,
  };
}

/** Random weights with every tensor the given family needs, named as Hugging Face names them. */
function makeWeights(cfg: ModelConfig, seed: number): WeightMap {
  const rng = makeRng(seed);
  const w: WeightMap = new Map();
  const D = cfg.hiddenSize;
  const rand = (dims: number[], amp = 0.5) => tensor(dims, () => dyadic(rng, amp));
  const normW = (n: number) => tensor([n], () => 1 + dyadic(rng, 0.25));

  w.set('model.embed_tokens.weight', rand([cfg.vocabSize, D], 1));
  for (let l = 0; l < cfg.numLayers; l++) {
    const pre = `model.layers.${l}`;
    for (const t of LORA_TARGETS) {
      const { inF, outF } = projectionShape(cfg, t);
      const path = projectionPath(l, t);
      w.set(`${path}.weight`, rand([outF, inF]));
      const isQkv = t === 'q_proj' || t === 'k_proj' || t === 'v_proj';
      const isMlp = t === 'gate_proj' || t === 'up_proj' || t === 'down_proj';
      const hasBias = (isQkv && cfg.attentionBias) || (t === 'o_proj' && cfg.outputBias) || (isMlp && cfg.mlpBias);
      if (hasBias) w.set(`${path}.bias`, rand([outF], 0.25));
    }
    if (cfg.family !== 'olmo2') w.set(`${pre}.input_layernorm.weight`, normW(D));
    w.set(`${pre}.post_attention_layernorm.weight`, normW(D));
    if (cfg.family === 'olmo2') {
      w.set(`${pre}.post_feedforward_layernorm.weight`, normW(D));
      w.set(`${pre}.self_attn.q_norm.weight`, normW(cfg.numHeads * cfg.headDim));
      w.set(`${pre}.self_attn.k_norm.weight`, normW(cfg.numKvHeads * cfg.headDim));
    }
    if (cfg.family === 'qwen3') {
      w.set(`${pre}.self_attn.q_norm.weight`, normW(cfg.headDim));
      w.set(`${pre}.self_attn.k_norm.weight`, normW(cfg.headDim));
    }
  }
  w.set('model.norm.weight', normW(D));
  if (!cfg.tieWordEmbeddings) w.set('lm_head.weight', rand([cfg.vocabSize, D], 1));
  return w;
}

function cloneWeights(w: WeightMap): WeightMap {
  const out: WeightMap = new Map();
  for (const [k, t] of w) out.set(k, { dims: [...t.dims], data: new Float32Array(t.data) });
  return out;
}

function makeLora(
  cfg: ModelConfig,
  targets: readonly LoraTarget[],
  seed: number,
  opts: { zeroB?: boolean; r?: number; alpha?: number; useRslora?: boolean } = {},
): LoraAdapter {
  const rng = makeRng(seed);
  const r = opts.r ?? 2;
  const config: LoraConfig = { r, alpha: opts.alpha ?? 4, targetModules: [...targets], useRslora: opts.useRslora ?? false };
  const modules = new Map<string, { A: HostTensor; B: HostTensor }>();
  for (let l = 0; l < cfg.numLayers; l++) {
    for (const t of targets) {
      const { inF, outF } = projectionShape(cfg, t);
      modules.set(projectionPath(l, t), {
        A: tensor([r, inF], () => dyadic(rng, 0.5)),
        B: tensor([outF, r], () => (opts.zeroB ? 0 : dyadic(rng, 0.5))),
      });
    }
  }
  return { config, baseModel: null, modules };
}

function maxAbsDiff(a: Float64Array[], b: Float64Array[]): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let t = 0; t < a.length; t++) {
    expect(a[t].length).toBe(b[t].length);
    for (let i = 0; i < a[t].length; i++) m = Math.max(m, Math.abs(a[t][i] - b[t][i]));
  }
  return m;
}

const IDS = [3, 7, 0, 10, 5, 2];

/** Variants covering every family plus a llama with all three bias flags on. */
const VARIANTS: Array<[string, ModelConfig]> = [
  ['llama', makeConfig('llama')],
  ['llama+biases', makeConfig('llama', { attentionBias: true, outputBias: true, mlpBias: true })],
  ['qwen2', makeConfig('qwen2')],
  // headDim * numHeads (24) differs from hiddenSize (8), as qwen3 checkpoints allow.
  ['qwen3', makeConfig('qwen3', { headDim: 6 })],
  ['olmo2', makeConfig('olmo2')],
];

// ---------------------------------------------------------------------------------------------
// Shape, causality, LoRA algebra, tying, GQA — for every variant
// ---------------------------------------------------------------------------------------------

describe.each(VARIANTS)('reference forward (%s)', (_name, cfg) => {
  const w = makeWeights(cfg, 1234);

  it('returns one finite row of vocabSize logits per position', () => {
    const logits = referenceLogits(cfg, w, IDS);
    expect(logits.length).toBe(IDS.length);
    for (const row of logits) {
      expect(row.length).toBe(cfg.vocabSize);
      for (const v of row) expect(Number.isFinite(v)).toBe(true);
    }
    // Rows differ between positions (the model actually depends on its input).
    expect(maxAbsDiff([logits[0]], [logits[1]])).toBeGreaterThan(1e-3);
    expect(referenceLogits(cfg, w, [])).toEqual([]);
  });

  it('is causal: changing token p leaves positions < p untouched and changes p', () => {
    const base = referenceLogits(cfg, w, IDS);
    for (let p = 0; p < IDS.length; p++) {
      const ids = [...IDS];
      ids[p] = (ids[p] + 4) % cfg.vocabSize;
      const changed = referenceLogits(cfg, w, ids);
      for (let t = 0; t < p; t++) expect(Array.from(changed[t])).toEqual(Array.from(base[t]));
      expect(maxAbsDiff([changed[p]], [base[p]])).toBeGreaterThan(1e-6);
    }
  });

  it('a prefix run gives the same logits as the first rows of the full run', () => {
    const full = referenceLogits(cfg, w, IDS);
    const prefix = referenceLogits(cfg, w, IDS.slice(0, 3));
    expect(maxAbsDiff(prefix, full.slice(0, 3))).toBe(0);
  });

  it('LoRA with all-zero B equals no adapter', () => {
    const lora = makeLora(cfg, LORA_TARGETS, 99, { zeroB: true });
    expect(maxAbsDiff(referenceLogits(cfg, w, IDS, lora), referenceLogits(cfg, w, IDS))).toBe(0);
    expect(maxAbsDiff(referenceLogits(cfg, w, IDS, null), referenceLogits(cfg, w, IDS))).toBe(0);
  });

  it.each(LORA_TARGETS.map((t) => [t]))('LoRA with nonzero B on %s changes the logits', (target) => {
    const lora = makeLora(cfg, [target], 7);
    const d = maxAbsDiff(referenceLogits(cfg, w, IDS, lora), referenceLogits(cfg, w, IDS));
    expect(d).toBeGreaterThan(1e-4);
  });

  it.each(LORA_TARGETS.map((t) => [t]))('LoRA on %s equals folding scale * B @ A into the weight', (target) => {
    for (const useRslora of [false, true]) {
      const lora = makeLora(cfg, [target], 31, { r: 4, alpha: 8, useRslora });
      const scale = loraScale(lora.config);
      expect(scale).toBe(useRslora ? 4 : 2);
      const merged = cloneWeights(w);
      for (const [path, { A, B }] of lora.modules) {
        const W = merged.get(`${path}.weight`)!;
        const [outF, inF] = W.dims;
        const r = A.dims[0];
        for (let o = 0; o < outF; o++) {
          for (let i = 0; i < inF; i++) {
            let acc = 0;
            for (let k = 0; k < r; k++) acc += B.data[o * r + k] * A.data[k * inF + i];
            W.data[o * inF + i] += scale * acc;
          }
        }
      }
      const viaAdapter = referenceLogits(cfg, w, IDS, lora);
      const viaMerge = referenceLogits(cfg, merged, IDS);
      expect(maxAbsDiff(viaAdapter, viaMerge)).toBeLessThan(1e-10);
    }
  });

  it('tied embeddings equal an untied model whose lm_head is a copy of embed_tokens', () => {
    const tiedCfg: ModelConfig = { ...cfg, tieWordEmbeddings: true };
    const tiedW = cloneWeights(w);
    tiedW.delete('lm_head.weight');
    const untiedW = cloneWeights(w);
    const emb = w.get('model.embed_tokens.weight')!;
    untiedW.set('lm_head.weight', { dims: [...emb.dims], data: new Float32Array(emb.data) });
    const tied = referenceLogits(tiedCfg, tiedW, IDS);
    expect(maxAbsDiff(tied, referenceLogits(cfg, untiedW, IDS))).toBe(0);
    // And the real (random) lm_head differs from the tied result.
    expect(maxAbsDiff(tied, referenceLogits(cfg, w, IDS))).toBeGreaterThan(1e-3);
  });

  it('GQA (numKvHeads < numHeads) equals MHA with each kv head duplicated', () => {
    const groups = cfg.numHeads / cfg.numKvHeads;
    expect(groups).toBeGreaterThan(1);
    const mhaCfg: ModelConfig = { ...cfg, numKvHeads: cfg.numHeads };
    const hd = cfg.headDim;
    const mhaW = cloneWeights(w);
    // Query head h reads kv head floor(h / groups): copy that head's rows into slot h.
    const dupRows = (t: HostTensor): HostTensor => {
      const rowLen = t.dims.length === 2 ? t.dims[1] : 1;
      const out = new Float32Array(cfg.numHeads * hd * rowLen);
      for (let h = 0; h < cfg.numHeads; h++) {
        const src = Math.floor(h / groups);
        out.set(t.data.subarray(src * hd * rowLen, (src + 1) * hd * rowLen), h * hd * rowLen);
      }
      return { dims: t.dims.length === 2 ? [cfg.numHeads * hd, rowLen] : [cfg.numHeads * hd], data: out };
    };
    for (let l = 0; l < cfg.numLayers; l++) {
      for (const t of ['k_proj', 'v_proj'] as const) {
        const path = projectionPath(l, t);
        mhaW.set(`${path}.weight`, dupRows(w.get(`${path}.weight`)!));
        const b = w.get(`${path}.bias`);
        if (b) mhaW.set(`${path}.bias`, dupRows(b));
      }
      if (cfg.family === 'olmo2') {
        // Full-width k_norm: duplicating every head block leaves mean(x^2) unchanged.
        const name = `model.layers.${l}.self_attn.k_norm.weight`;
        mhaW.set(name, dupRows(w.get(name)!));
      }
    }
    const gqa = referenceLogits(cfg, w, IDS);
    const mha = referenceLogits(mhaCfg, mhaW, IDS);
    expect(maxAbsDiff(gqa, mha)).toBeLessThan(1e-12);
  });

  it('rejects missing weights, unknown LoRA modules and out-of-range tokens', () => {
    const broken = cloneWeights(w);
    broken.delete('model.layers.1.mlp.up_proj.weight');
    expect(() => referenceLogits(cfg, broken, IDS)).toThrow(/model\.layers\.1\.mlp\.up_proj\.weight/);
    const lora = makeLora(cfg, ['q_proj'], 5);
    const [first] = [...lora.modules.values()];
    lora.modules.set('model.layers.9.self_attn.q_proj', first);
    expect(() => referenceLogits(cfg, w, IDS, lora)).toThrow(/model\.layers\.9/);
    expect(() => referenceLogits(cfg, w, [0, cfg.vocabSize])).toThrow(/token id/);
  });
});

// ---------------------------------------------------------------------------------------------
// Family-specific behaviour
// ---------------------------------------------------------------------------------------------

describe('q/k norm placement', () => {
  /** Multiply rows [start, end) of a projection's weight (and bias) by c in every layer. */
  function scaleRows(cfg: ModelConfig, w: WeightMap, target: LoraTarget, start: number, end: number, c: number): WeightMap {
    const out = cloneWeights(w);
    for (let l = 0; l < cfg.numLayers; l++) {
      const path = projectionPath(l, target);
      const W = out.get(`${path}.weight`)!;
      const inF = W.dims[1];
      for (let i = start * inF; i < end * inF; i++) W.data[i] *= c;
      const b = out.get(`${path}.bias`);
      if (b) for (let i = start; i < end; i++) b.data[i] *= c;
    }
    return out;
  }

  // eps = 0 makes RMSNorm exactly scale invariant, so the expected invariances are exact
  // up to rounding.
  const fams: Family[] = ['llama', 'qwen3', 'olmo2'];
  const cfgs = Object.fromEntries(fams.map((f) => [f, makeConfig(f, { rmsNormEps: 0 })])) as Record<Family, ModelConfig>;

  it('scaling all of q_proj and k_proj is invisible to qwen3 and olmo2 but not to llama', () => {
    for (const f of fams) {
      const cfg = cfgs[f];
      const w = makeWeights(cfg, 77);
      const qw = cfg.numHeads * cfg.headDim;
      const kw = cfg.numKvHeads * cfg.headDim;
      const scaled = scaleRows(cfg, scaleRows(cfg, w, 'q_proj', 0, qw, 4), 'k_proj', 0, kw, 3);
      const d = maxAbsDiff(referenceLogits(cfg, w, IDS), referenceLogits(cfg, scaled, IDS));
      if (f === 'llama') expect(d).toBeGreaterThan(1e-4);
      else expect(d).toBeLessThan(1e-12);
    }
  });

  it('qwen3 normalises each head separately, olmo2 across all heads', () => {
    // Scale only head 0 of q_proj: a per-head norm cancels it, a full-width norm does not.
    const q3 = cfgs.qwen3;
    const w3 = makeWeights(q3, 78);
    const s3 = scaleRows(q3, w3, 'q_proj', 0, q3.headDim, 8);
    expect(maxAbsDiff(referenceLogits(q3, w3, IDS), referenceLogits(q3, s3, IDS))).toBeLessThan(1e-12);

    const o2 = cfgs.olmo2;
    const wo = makeWeights(o2, 78);
    const so = scaleRows(o2, wo, 'q_proj', 0, o2.headDim, 8);
    expect(maxAbsDiff(referenceLogits(o2, wo, IDS), referenceLogits(o2, so, IDS))).toBeGreaterThan(1e-4);
  });

  it('uses biases only when the config flags them', () => {
    const cfg = makeConfig('qwen2');
    const w = makeWeights(cfg, 5);
    const noBiasCfg: ModelConfig = { ...cfg, attentionBias: false };
    const zeroBias = cloneWeights(w);
    for (let l = 0; l < cfg.numLayers; l++) {
      for (const t of ['q_proj', 'k_proj', 'v_proj'] as const) zeroBias.get(`${projectionPath(l, t)}.bias`)!.data.fill(0);
    }
    // With the flag off the bias tensors are ignored, which equals zeroing them.
    expect(maxAbsDiff(referenceLogits(noBiasCfg, w, IDS), referenceLogits(cfg, zeroBias, IDS))).toBe(0);
    expect(maxAbsDiff(referenceLogits(cfg, w, IDS), referenceLogits(cfg, zeroBias, IDS))).toBeGreaterThan(1e-4);
    // With the flag on a missing bias is an error.
    const missing = cloneWeights(w);
    missing.delete('model.layers.0.self_attn.v_proj.bias');
    expect(() => referenceLogits(cfg, missing, IDS)).toThrow(/v_proj\.bias/);
  });

  it('referenceHidden is the final-normed state that lm_head reads', () => {
    const cfg = makeConfig('llama');
    const w = makeWeights(cfg, 6);
    const hidden = referenceHidden(cfg, w, IDS);
    const head = w.get('lm_head.weight')!;
    const logits = referenceLogits(cfg, w, IDS);
    for (let t = 0; t < IDS.length; t++) {
      expect(hidden[t].length).toBe(cfg.hiddenSize);
      for (let v = 0; v < cfg.vocabSize; v++) {
        let acc = 0;
        for (let i = 0; i < cfg.hiddenSize; i++) acc += head.data[v * cfg.hiddenSize + i] * hidden[t][i];
        expect(logits[t][v]).toBeCloseTo(acc, 12);
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------
// RoPE and llama3 frequency scaling
// ---------------------------------------------------------------------------------------------

describe('RoPE', () => {
  it('default inverse frequencies are theta^(-2i/headDim)', () => {
    const inv = referenceInvFreq(makeConfig('llama', { headDim: 8, ropeTheta: 10000 }));
    expect(Array.from(inv)).toHaveLength(4);
    expect(inv[0]).toBe(1);
    expect(inv[1]).toBeCloseTo(0.1, 15);
    expect(inv[2]).toBeCloseTo(0.01, 15);
    expect(inv[3]).toBeCloseTo(0.001, 15);
  });

  it('rotates pairs (i, i + half) and depends only on relative position in dot products', () => {
    // headDim 4, invFreq [1, 0.5]; position 2 -> angles 2 and 1.
    const r = referenceApplyRope([1, 2, 3, 4], 2, [1, 0.5]);
    expect(r[0]).toBeCloseTo(1 * Math.cos(2) - 3 * Math.sin(2), 14);
    expect(r[2]).toBeCloseTo(3 * Math.cos(2) + 1 * Math.sin(2), 14);
    expect(r[1]).toBeCloseTo(2 * Math.cos(1) - 4 * Math.sin(1), 14);
    expect(r[3]).toBeCloseTo(4 * Math.cos(1) + 2 * Math.sin(1), 14);
    expect(Array.from(referenceApplyRope([1, 2, 3, 4], 0, [1, 0.5]))).toEqual([1, 2, 3, 4]);

    const inv = [1, 0.1, 0.01];
    const q = [0.3, -1.2, 0.5, 2, 0.7, -0.4];
    const k = [1.1, 0.2, -0.6, 0.9, -1.5, 0.8];
    const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
      let s = 0;
      for (let i = 0; i < a.length; i++) s += a[i] * b[i];
      return s;
    };
    const d1 = dot(referenceApplyRope(q, 5, inv), referenceApplyRope(k, 2, inv));
    const d2 = dot(referenceApplyRope(q, 13, inv), referenceApplyRope(k, 10, inv));
    expect(d1).toBeCloseTo(d2, 12);
    expect(dot(referenceApplyRope(q, 7, inv), referenceApplyRope(q, 7, inv))).toBeCloseTo(dot(q, q), 12);
  });
});

describe('llama3 rope scaling', () => {
  const base = makeConfig('llama', { headDim: 8, ropeTheta: 10000 });
  const withScaling = (factor: number, low: number, high: number, orig: number): ModelConfig => ({
    ...base,
    ropeScaling: { type: 'llama3', factor, lowFreqFactor: low, highFreqFactor: high, originalMaxPositionEmbeddings: orig },
  });

  it('factor 1 is the identity whatever the thresholds, and so is a huge original context', () => {
    const plain = referenceInvFreq(base);
    const w = makeWeights(base, 11);
    const plainLogits = referenceLogits(base, w, IDS);
    for (const cfg of [withScaling(1, 1, 4, 64), withScaling(1, 2, 3, 500), withScaling(8, 1, 4, 1e12)]) {
      const inv = referenceInvFreq(cfg);
      for (let i = 0; i < plain.length; i++) expect(inv[i]).toBeCloseTo(plain[i], 15);
      expect(maxAbsDiff(referenceLogits(cfg, w, IDS), plainLogits)).toBeLessThan(1e-12);
    }
  });

  it('a tiny original context divides every frequency by the factor', () => {
    // lowWave = 1 / 1 = 1, and every wavelength is at least 2*pi > 1.
    const inv = referenceInvFreq(withScaling(8, 1, 4, 1));
    const plain = referenceInvFreq(base);
    for (let i = 0; i < plain.length; i++) expect(inv[i]).toBeCloseTo(plain[i] / 8, 15);
  });

  it('matches hand-computed values in the high, medium and low bands', () => {
    // headDim 4, theta 10000: invFreq = [1, 0.01], wavelengths 2*pi (~6.28) and 200*pi (~628.3).
    const small = { ...base, headDim: 4 };
    const cfgMid: ModelConfig = {
      ...small,
      ropeScaling: { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 1000 },
    };
    // highWave = 250, lowWave = 1000: 6.28 is high (kept), 628.3 is medium (blended).
    const invMid = referenceInvFreq(cfgMid);
    expect(invMid[0]).toBe(1);
    // smooth = (1000 / (200*pi) - 1) / (4 - 1) = 0.19718...
    const smooth = (1000 / (200 * Math.PI) - 1) / 3;
    expect(smooth).toBeCloseTo(0.197183, 6);
    const expected = (1 - smooth) * (0.01 / 8) + smooth * 0.01;
    expect(invMid[1]).toBeCloseTo(expected, 15);
    expect(invMid[1]).toBeCloseTo(0.00297535, 8);

    const cfgLow: ModelConfig = {
      ...small,
      ropeScaling: { type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 100 },
    };
    // highWave = 25, lowWave = 100: 6.28 is kept, 628.3 is low and divided by 8.
    const invLow = referenceInvFreq(cfgLow);
    expect(invLow[0]).toBe(1);
    expect(invLow[1]).toBeCloseTo(0.00125, 15);
  });

  it('real scaling changes logits after position 0 but not at position 0', () => {
    const w = makeWeights(base, 12);
    const plain = referenceLogits(base, w, IDS);
    const scaled = referenceLogits(withScaling(8, 1, 4, 64), w, IDS);
    expect(maxAbsDiff([scaled[0]], [plain[0]])).toBe(0);
    expect(maxAbsDiff(scaled.slice(1), plain.slice(1))).toBeGreaterThan(1e-6);
  });
});

// ---------------------------------------------------------------------------------------------
// Hand-computed tiny models (D = 2, one head of width 2, one MLP unit, vocab 3)
// ---------------------------------------------------------------------------------------------

describe('hand-computed one-layer models', () => {
  const eps = 1e-6;
  const tinyCfg = (family: Family): ModelConfig =>
    makeConfig(family, {
      vocabSize: 3,
      hiddenSize: 2,
      intermediateSize: 1,
      numLayers: 1,
      numHeads: 1,
      numKvHeads: 1,
      headDim: 2,
      rmsNormEps: eps,
      ropeTheta: 10000,
      attentionBias: false,
    });

  // Shared weights. With headDim 2 the only inverse frequency is theta^0 = 1, so the angle
  // at position p is p radians.
  const shared = (): WeightMap =>
    new Map<string, HostTensor>([
      ['model.embed_tokens.weight', fromRows([[1, 0], [0, 1], [0.5, -1]])],
      ['model.layers.0.self_attn.q_proj.weight', fromRows([[1, 0], [0, 1]])], // q = x
      ['model.layers.0.self_attn.k_proj.weight', fromRows([[1, 0], [1, 1]])], // k = [x0, x0 + x1]
      ['model.layers.0.self_attn.v_proj.weight', fromRows([[2, 0], [0, 1]])], // v = [2 x0, x1]
      ['model.layers.0.self_attn.o_proj.weight', fromRows([[1, 1], [0, 1]])], // o = [a0 + a1, a1]
      ['model.layers.0.mlp.gate_proj.weight', fromRows([[1, 0]])], // g = m0
      ['model.layers.0.mlp.up_proj.weight', fromRows([[0, 1]])], // u = m1
      ['model.layers.0.mlp.down_proj.weight', fromRows([[1], [-2]])], // [z, -2 z]
      ['model.norm.weight', vec([2, 0.5])],
      ['lm_head.weight', fromRows([[1, 0], [0, 1], [1, -1]])],
    ]);

  // Scalar helpers written out for two-element vectors.
  const rms2 = (a: number, b: number, w0: number, w1: number): [number, number] => {
    const r = 1 / Math.sqrt((a * a + b * b) / 2 + eps);
    return [a * r * w0, b * r * w1];
  };
  const rot = (a: number, b: number, angle: number): [number, number] => [
    a * Math.cos(angle) - b * Math.sin(angle),
    b * Math.cos(angle) + a * Math.sin(angle),
  ];
  const sig = (z: number) => z / (1 + Math.exp(-z));
  const softmax2 = (s0: number, s1: number): [number, number] => {
    const e0 = Math.exp(s0);
    const e1 = Math.exp(s1);
    return [e0 / (e0 + e1), e1 / (e0 + e1)];
  };
  const expectRows = (got: Float64Array[], want: number[][]) => {
    expect(got.length).toBe(want.length);
    for (let t = 0; t < want.length; t++) {
      for (let i = 0; i < want[t].length; i++) expect(got[t][i]).toBeCloseTo(want[t][i], 12);
    }
  };

  it('llama: pre-norm block over tokens [0, 1]', () => {
    const cfg = tinyCfg('llama');
    const w = shared();
    w.set('model.layers.0.input_layernorm.weight', vec([1, 0.5]));
    w.set('model.layers.0.post_attention_layernorm.weight', vec([1, 1]));

    // Position 0, x = [1, 0]. Attention over one key returns its value; RoPE at 0 is identity.
    const [n0a, n0b] = rms2(1, 0, 1, 0.5); // [r0, 0]
    const k0: [number, number] = [n0a, n0a + n0b];
    const v0: [number, number] = [2 * n0a, n0b];
    const h0: [number, number] = [1 + v0[0] + v0[1], 0 + v0[1]];
    const [m0a, m0b] = rms2(h0[0], h0[1], 1, 1);
    const z0 = sig(m0a) * m0b; // m0b = 0, so z0 = 0
    const out0: [number, number] = [h0[0] + z0, h0[1] - 2 * z0];
    const f0 = rms2(out0[0], out0[1], 2, 0.5);

    // Position 1, x = [0, 1].
    const [n1a, n1b] = rms2(0, 1, 1, 0.5);
    const q1 = rot(n1a, n1b, 1);
    const k1 = rot(n1a, n1a + n1b, 1);
    const v1: [number, number] = [2 * n1a, n1b];
    const s0 = (q1[0] * k0[0] + q1[1] * k0[1]) / Math.sqrt(2);
    const s1 = (q1[0] * k1[0] + q1[1] * k1[1]) / Math.sqrt(2);
    const [p0, p1] = softmax2(s0, s1);
    const a: [number, number] = [p0 * v0[0] + p1 * v1[0], p0 * v0[1] + p1 * v1[1]];
    const h1: [number, number] = [0 + a[0] + a[1], 1 + a[1]];
    const [m1a, m1b] = rms2(h1[0], h1[1], 1, 1);
    const z1 = sig(m1a) * m1b;
    const out1: [number, number] = [h1[0] + z1, h1[1] - 2 * z1];
    const f1 = rms2(out1[0], out1[1], 2, 0.5);

    // Sanity on the hand derivation itself: position 0 logits are [2, 0, 2] up to eps.
    expect(f0[0]).toBeCloseTo(2 * Math.SQRT2, 5);
    expect(f0[1]).toBe(0);

    const logits = referenceLogits(cfg, w, [0, 1]);
    expectRows(logits, [
      [f0[0], f0[1], f0[0] - f0[1]],
      [f1[0], f1[1], f1[0] - f1[1]],
    ]);
    expectRows(referenceHidden(cfg, w, [0, 1]), [f0, f1]);
  });

  it('qwen3: per-head q/k norm before RoPE over tokens [0, 1]', () => {
    // Uneven norm weights inside the rotated pair make "norm then rotate" differ from
    // "rotate then norm", so this pins the order.
    const cfg = tinyCfg('qwen3');
    const w = shared();
    w.set('model.layers.0.input_layernorm.weight', vec([1, 0.5]));
    w.set('model.layers.0.post_attention_layernorm.weight', vec([1.25, 1]));
    w.set('model.layers.0.self_attn.q_norm.weight', vec([1, 2]));
    w.set('model.layers.0.self_attn.k_norm.weight', vec([0.5, 1.5]));

    const mlpAndHead = (h: [number, number]) => {
      const [ma, mb] = rms2(h[0], h[1], 1.25, 1);
      const z = sig(ma) * mb;
      return rms2(h[0] + z, h[1] - 2 * z, 2, 0.5);
    };

    // Position 0, x = [1, 0].
    const n0 = rms2(1, 0, 1, 0.5);
    const k0 = rms2(n0[0], n0[0] + n0[1], 0.5, 1.5); // no rotation at position 0
    const v0: [number, number] = [2 * n0[0], n0[1]];
    const f0 = mlpAndHead([1 + v0[0] + v0[1], v0[1]]);

    // Position 1, x = [0, 1].
    const n1 = rms2(0, 1, 1, 0.5);
    const qn = rms2(n1[0], n1[1], 1, 2);
    const kn = rms2(n1[0], n1[0] + n1[1], 0.5, 1.5);
    const q1 = rot(qn[0], qn[1], 1);
    const k1 = rot(kn[0], kn[1], 1);
    const v1: [number, number] = [2 * n1[0], n1[1]];
    const s0 = (q1[0] * k0[0] + q1[1] * k0[1]) / Math.sqrt(2);
    const s1 = (q1[0] * k1[0] + q1[1] * k1[1]) / Math.sqrt(2);
    const [p0, p1] = softmax2(s0, s1);
    const a: [number, number] = [p0 * v0[0] + p1 * v1[0], p0 * v0[1] + p1 * v1[1]];
    const f1 = mlpAndHead([0 + a[0] + a[1], 1 + a[1]]);

    expectRows(referenceLogits(cfg, w, [0, 1]), [
      [f0[0], f0[1], f0[0] - f0[1]],
      [f1[0], f1[1], f1[0] - f1[1]],
    ]);
  });

  it('olmo2: full-width q/k norm and post-norms over tokens [2, 1]', () => {
    const cfg = tinyCfg('olmo2');
    const w = shared();
    w.set('model.layers.0.self_attn.q_norm.weight', vec([1, 1.5]));
    w.set('model.layers.0.self_attn.k_norm.weight', vec([0.5, 1]));
    w.set('model.layers.0.post_attention_layernorm.weight', vec([1, 2]));
    w.set('model.layers.0.post_feedforward_layernorm.weight', vec([0.75, 1]));

    const block = (x: [number, number], attn: [number, number]) => {
      const o: [number, number] = [attn[0] + attn[1], attn[1]];
      const po = rms2(o[0], o[1], 1, 2);
      const h: [number, number] = [x[0] + po[0], x[1] + po[1]];
      const z = sig(h[0]) * h[1]; // gate/up read h directly (no pre-norm)
      const pf = rms2(z, -2 * z, 0.75, 1);
      const out: [number, number] = [h[0] + pf[0], h[1] + pf[1]];
      return rms2(out[0], out[1], 2, 0.5);
    };

    // Position 0, token 2: x = [0.5, -1].
    const x0: [number, number] = [0.5, -1];
    const k0 = rms2(x0[0], x0[0] + x0[1], 0.5, 1); // pos 0: no rotation
    const v0: [number, number] = [2 * x0[0], x0[1]];
    const f0 = block(x0, v0);

    // Position 1, token 1: x = [0, 1].
    const x1: [number, number] = [0, 1];
    const qn = rms2(x1[0], x1[1], 1, 1.5);
    const kn = rms2(x1[0], x1[0] + x1[1], 0.5, 1);
    const q1 = rot(qn[0], qn[1], 1);
    const k1 = rot(kn[0], kn[1], 1);
    const v1: [number, number] = [2 * x1[0], x1[1]];
    const s0 = (q1[0] * k0[0] + q1[1] * k0[1]) / Math.sqrt(2);
    const s1 = (q1[0] * k1[0] + q1[1] * k1[1]) / Math.sqrt(2);
    const [p0, p1] = softmax2(s0, s1);
    const f1 = block(x1, [p0 * v0[0] + p1 * v1[0], p0 * v0[1] + p1 * v1[1]]);

    const logits = referenceLogits(cfg, w, [2, 1]);
    expectRows(logits, [
      [f0[0], f0[1], f0[0] - f0[1]],
      [f1[0], f1[1], f1[0] - f1[1]],
    ]);
  });

  it('rmsnorm helper matches the definition', () => {
    const y = referenceRmsNorm([3, 4], [1, 2], 0);
    const r = Math.sqrt((9 + 16) / 2);
    expect(y[0]).toBeCloseTo(3 / r, 15);
    expect(y[1]).toBeCloseTo((4 / r) * 2, 15);
  });
});
