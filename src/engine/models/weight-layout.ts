/**
 * The exact set of Hugging Face tensors (name -> shape) each family's checkpoint must hold.
 * Linear weights are [out, in] as PyTorch stores them.
 */

import type { ModelConfig } from './types';

export function expectedWeights(cfg: ModelConfig): Map<string, number[]> {
  const D = cfg.hiddenSize;
  const q = cfg.numHeads * cfg.headDim;
  const kv = cfg.numKvHeads * cfg.headDim;
  const I = cfg.intermediateSize;
  const out = new Map<string, number[]>();
  out.set('model.embed_tokens.weight', [cfg.vocabSize, D]);
  for (let i = 0; i < cfg.numLayers; i++) {
    const p = `model.layers.${i}`;
    if (cfg.family !== 'olmo2') out.set(`${p}.input_layernorm.weight`, [D]);
    // OLMo-2 normalises the attention output with this one (post-norm); others the MLP input.
    out.set(`${p}.post_attention_layernorm.weight`, [D]);
    if (cfg.family === 'olmo2') out.set(`${p}.post_feedforward_layernorm.weight`, [D]);

    const a = `${p}.self_attn`;
    const proj: [string, number, number][] = [
      ['q_proj', q, D],
      ['k_proj', kv, D],
      ['v_proj', kv, D],
      ['o_proj', D, q],
    ];
    for (const [name, o, n] of proj) {
      out.set(`${a}.${name}.weight`, [o, n]);
      const bias = name === 'o_proj' ? cfg.outputBias : cfg.attentionBias;
      if (bias) out.set(`${a}.${name}.bias`, [o]);
    }
    if (cfg.family === 'qwen3') {
      out.set(`${a}.q_norm.weight`, [cfg.headDim]);
      out.set(`${a}.k_norm.weight`, [cfg.headDim]);
    } else if (cfg.family === 'olmo2') {
      out.set(`${a}.q_norm.weight`, [q]);
      out.set(`${a}.k_norm.weight`, [kv]);
    }

    const m = `${p}.mlp`;
    const mlp: [string, number, number][] = [
      ['gate_proj', I, D],
      ['up_proj', I, D],
      ['down_proj', D, I],
    ];
    for (const [name, o, n] of mlp) {
      out.set(`${m}.${name}.weight`, [o, n]);
      if (cfg.mlpBias) out.set(`${m}.${name}.bias`, [o]);
    }
  }
  out.set('model.norm.weight', [D]);
  if (!cfg.tieWordEmbeddings) out.set('lm_head.weight', [cfg.vocabSize, D]);
  return out;
}

/**
 * Tensors a checkpoint may carry that the engine neither needs nor treats as a mistake:
 * rotary inverse-frequency buffers some exporters save, and a duplicate lm_head when the
 * embeddings are tied.
 */
export function isHarmlessExtra(name: string, cfg: ModelConfig): boolean {
  if (/(^|\.)rotary_emb\.inv_freq$/.test(name)) return true;
  return cfg.tieWordEmbeddings && name === 'lm_head.weight';
}
