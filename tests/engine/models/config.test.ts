import { describe, expect, it } from 'vitest';
import { makeTinyConfig, makeTinyTokenizer } from '../../../scripts/tiny-model';
import { parseModelConfig } from '../../../src/engine/models/config';
import { type Family, ModelFormatError } from '../../../src/engine/models/types';

const FAMILIES: Family[] = ['qwen2', 'qwen3', 'llama', 'olmo2'];
const tok = makeTinyTokenizer();

function expectConfigError(json: unknown, pattern: RegExp): void {
  try {
    parseModelConfig(json);
  } catch (e) {
    expect(e).toBeInstanceOf(ModelFormatError);
    expect((e as Error).message).toMatch(/^config\.json: /);
    expect((e as Error).message).toMatch(pattern);
    return;
  }
  throw new Error('expected a ModelFormatError');
}

describe('parseModelConfig: both layouts agree', () => {
  for (const family of FAMILIES) {
    for (const ropeScaling of [false, true]) {
      it(`${family}${ropeScaling ? ' with llama3 rope' : ''}`, () => {
        const classic = makeTinyConfig({ family, seed: 0, ropeScaling, dtype: 'BF16' }, tok);
        const v5 = makeTinyConfig({ family, seed: 0, ropeScaling, dtype: 'BF16', layout: 'v5' }, tok);
        expect(classic.rope_parameters).toBeUndefined();
        expect(v5.rope_theta).toBeUndefined();
        const a = parseModelConfig(classic);
        const b = parseModelConfig(v5);
        expect(b).toEqual(a);
        expect(a.family).toBe(family);
        expect(a.dtype).toBe('bfloat16');
        expect(a.headDim).toBe(16);
        expect(a.numKvHeads).toBe(2);
        expect(a.eosTokenIds).toEqual([tok.ids.imEnd]);
        expect(a.attentionBias).toBe(family === 'qwen2');
        expect(a.outputBias).toBe(false);
        if (ropeScaling) {
          expect(a.ropeTheta).toBe(500000);
          expect(a.ropeScaling).toEqual({ type: 'llama3', factor: 8, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 256 });
        } else {
          expect(a.ropeScaling).toBeNull();
        }
      });
    }
  }
});

describe('parseModelConfig: Hub-style configs', () => {
  it('Qwen2.5-0.5B-Instruct style', () => {
    const c = parseModelConfig({
      architectures: ['Qwen2ForCausalLM'], model_type: 'qwen2', hidden_act: 'silu', hidden_size: 896,
      intermediate_size: 4864, num_hidden_layers: 24, num_attention_heads: 14, num_key_value_heads: 2,
      vocab_size: 151936, max_position_embeddings: 32768, rms_norm_eps: 1e-6, rope_theta: 1000000.0,
      rope_scaling: null, sliding_window: 32768, use_sliding_window: false, max_window_layers: 21,
      tie_word_embeddings: true, torch_dtype: 'bfloat16', bos_token_id: 151643, eos_token_id: 151645,
    });
    expect(c).toMatchObject({
      family: 'qwen2', headDim: 64, numKvHeads: 2, attentionBias: true, outputBias: false, mlpBias: false,
      tieWordEmbeddings: true, ropeTheta: 1e6, bosTokenId: 151643, eosTokenIds: [151645], padTokenId: null,
    });
  });
  it('Qwen3-0.6B style', () => {
    const c = parseModelConfig({
      model_type: 'qwen3', hidden_size: 1024, intermediate_size: 3072, num_hidden_layers: 28,
      num_attention_heads: 16, num_key_value_heads: 8, head_dim: 128, vocab_size: 151936,
      max_position_embeddings: 40960, rope_theta: 1000000, rope_scaling: null, attention_bias: false,
      sliding_window: null, use_sliding_window: false, tie_word_embeddings: true, torch_dtype: 'bfloat16',
      bos_token_id: 151643, eos_token_id: 151645, rms_norm_eps: 1e-6,
    });
    expect(c).toMatchObject({ family: 'qwen3', headDim: 128, attentionBias: false, maxPositionEmbeddings: 40960 });
  });
  it('SmolLM2 (llama) style and default tie', () => {
    const base = {
      model_type: 'llama', hidden_size: 576, intermediate_size: 1536, num_hidden_layers: 30,
      num_attention_heads: 9, num_key_value_heads: 3, vocab_size: 49152, max_position_embeddings: 8192,
      rope_theta: 100000, rope_scaling: null, rms_norm_eps: 1e-5, attention_bias: false, mlp_bias: false,
      pretraining_tp: 1, bos_token_id: 0, eos_token_id: 0, torch_dtype: 'bfloat16',
    };
    expect(parseModelConfig({ ...base, tie_word_embeddings: true })).toMatchObject({ headDim: 64, tieWordEmbeddings: true, bosTokenId: 0 });
    expect(parseModelConfig(base).tieWordEmbeddings).toBe(false);
  });
  it('Llama-3.2 style with llama3 rope scaling (classic "rope_type" and legacy "type")', () => {
    const base = {
      model_type: 'llama', hidden_size: 2048, intermediate_size: 8192, num_hidden_layers: 16,
      num_attention_heads: 32, num_key_value_heads: 8, head_dim: 64, vocab_size: 128256,
      max_position_embeddings: 131072, rope_theta: 500000.0, rms_norm_eps: 1e-5, tie_word_embeddings: true,
      bos_token_id: 128000, eos_token_id: [128001, 128008, 128009], torch_dtype: 'bfloat16',
    };
    const scaling = { factor: 32.0, high_freq_factor: 4.0, low_freq_factor: 1.0, original_max_position_embeddings: 8192 };
    const a = parseModelConfig({ ...base, rope_scaling: { ...scaling, rope_type: 'llama3' } });
    const b = parseModelConfig({ ...base, rope_scaling: { ...scaling, type: 'llama3' } });
    expect(a).toEqual(b);
    expect(a.ropeScaling).toEqual({ type: 'llama3', factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositionEmbeddings: 8192 });
    expect(a.eosTokenIds).toEqual([128001, 128008, 128009]);
  });
  it('OLMo-2 style', () => {
    const c = parseModelConfig({
      model_type: 'olmo2', hidden_size: 2048, intermediate_size: 8192, num_hidden_layers: 16,
      num_attention_heads: 16, num_key_value_heads: 16, vocab_size: 100352, max_position_embeddings: 4096,
      rope_theta: 500000, rms_norm_eps: 1e-6, attention_bias: false, tie_word_embeddings: false,
      eos_token_id: 100257, pad_token_id: 100277, torch_dtype: 'float32',
    });
    expect(c).toMatchObject({ family: 'olmo2', headDim: 128, bosTokenId: null, padTokenId: 100277, dtype: 'float32' });
  });
  it('biases: llama attention_bias covers q/k/v and o, mlp_bias the MLP; qwen3 attention_bias too', () => {
    const llama = makeTinyConfig({ family: 'llama', seed: 0, attentionBias: true, mlpBias: true }, tok);
    expect(parseModelConfig(llama)).toMatchObject({ attentionBias: true, outputBias: true, mlpBias: true });
    const q3 = { ...makeTinyConfig({ family: 'qwen3', seed: 0 }, tok), attention_bias: true };
    expect(parseModelConfig(q3)).toMatchObject({ attentionBias: true, outputBias: true, mlpBias: false });
  });
  it('defaults: kv heads, dtype, rope theta, missing ids', () => {
    const c = parseModelConfig({
      model_type: 'qwen3', hidden_size: 64, intermediate_size: 96, num_hidden_layers: 1,
      num_attention_heads: 4, vocab_size: 10,
    });
    expect(c).toMatchObject({
      numKvHeads: 4, headDim: 16, dtype: 'float32', ropeTheta: 10000, rmsNormEps: 1e-6,
      maxPositionEmbeddings: 32768, tieWordEmbeddings: false, bosTokenId: null, eosTokenIds: [], padTokenId: null,
    });
  });
});

describe('parseModelConfig: bad configs', () => {
  const good = (): Record<string, unknown> => makeTinyConfig({ family: 'qwen3', seed: 0 }, tok);
  const cases: [string, (c: Record<string, unknown>) => unknown, RegExp][] = [
    ['not an object', () => [1, 2], /config must be a JSON object/],
    ['unsupported model_type', (c) => ({ ...c, model_type: 'gpt2' }), /unsupported model_type "gpt2"/],
    ['missing model_type', (c) => ({ ...c, model_type: undefined }), /missing "model_type"/],
    ['missing hidden_size', (c) => ({ ...c, hidden_size: undefined }), /missing required field "hidden_size"/],
    ['ill-typed layers', (c) => ({ ...c, num_hidden_layers: '2' }), /"num_hidden_layers" must be a positive integer/],
    ['zero heads', (c) => ({ ...c, num_attention_heads: 0 }), /"num_attention_heads" must be a positive integer/],
    ['kv heads not dividing', (c) => ({ ...c, num_key_value_heads: 3 }), /multiple of num_key_value_heads \(3\)/],
    ['hidden not divisible', (c) => ({ ...c, head_dim: undefined, hidden_size: 66 }), /not divisible by num_attention_heads/],
    ['odd head_dim', (c) => ({ ...c, head_dim: 15 }), /must be even/],
    ['sliding window', (c) => ({ ...c, use_sliding_window: true }), /sliding-window attention/],
    ['sliding layer types', (c) => ({ ...c, layer_types: ['full_attention', 'sliding_attention'] }), /"sliding_attention"/],
    ['yarn rope', (c) => ({ ...c, rope_scaling: { rope_type: 'yarn', factor: 4 } }), /RoPE type "yarn".*not supported/],
    ['linear rope (legacy type)', (c) => ({ ...c, rope_scaling: { type: 'linear', factor: 2 } }), /RoPE type "linear"/],
    ['v5 dynamic rope', (c) => ({ ...c, rope_theta: undefined, rope_scaling: undefined, rope_parameters: { rope_theta: 1e4, rope_type: 'dynamic' } }), /RoPE type "dynamic" in "rope_parameters"/],
    ['llama3 rope missing factor', (c) => ({ ...c, rope_scaling: { rope_type: 'llama3', low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8 } }), /missing "factor"/],
    ['bad rope theta', (c) => ({ ...c, rope_theta: -1 }), /"rope_theta" must be a positive number/],
    ['bad dtype', (c) => ({ ...c, torch_dtype: 'int8' }), /unsupported dtype "int8"/],
    ['bad activation', (c) => ({ ...c, hidden_act: 'gelu' }), /hidden_act "gelu"/],
    ['eos out of range', (c) => ({ ...c, eos_token_id: [5, 99999] }), /"eos_token_id" must be token id/],
    ['bad tie flag', (c) => ({ ...c, tie_word_embeddings: 'yes' }), /"tie_word_embeddings" must be true or false/],
  ];
  for (const [name, mutate, pattern] of cases) {
    it(name, () => expectConfigError(mutate(good()), pattern));
  }
  it('names the file it was given', () => {
    expect(() => parseModelConfig({}, 'other/config.json')).toThrow(/^other\/config\.json: /);
  });
});
