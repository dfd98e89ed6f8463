/**
 * Gradients of the real decoder graph (prefill, all logits, LoRA on all seven projections) by
 * finite differences, for every family and a tied-embedding config, under two losses: a
 * weighted sum of the logits and the training losses (cross-entropy, top-k distillation, PPO).
 * Checked: LoRA A and B of all seven targets, lora_scale, and full weights (embedding, norms,
 * q_proj, lm_head, biases / q_norm where the family has them). Error per tensor is
 * ||g - fd|| / ||fd|| over 20 coordinates. The finite differences are taken on the graph
 * serialized in float64 (float32 differences are limited by the loss's rounding, ~1e-3 here);
 * the float32 gradient graph, which is what training runs, must match them to 1e-3.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { LORA_TARGETS, projectionPath, type ModelConfig } from '../../../src/engine/models/types';
import { tinyConfig } from '../../support/random-model';
import { decoderCase, finishTrainingFeeds, type LossKind } from './decoder-setup';
import { errorsAt, fdCheck, gradients } from './helpers';

const TOL = 1e-3;
const rows: string[] = [];
afterAll(() => {
  console.log(`\ndecoder gradient errors, ||g - fd|| / ||fd|| over 20 coordinates per tensor:\n${rows.join('\n')}`);
});

const configs: { label: string; cfg: ModelConfig }[] = [
  { label: 'qwen2', cfg: tinyConfig('qwen2') },
  { label: 'qwen3', cfg: tinyConfig('qwen3') },
  { label: 'llama', cfg: tinyConfig('llama') },
  { label: 'olmo2', cfg: tinyConfig('olmo2') },
  { label: 'qwen3 tied', cfg: tinyConfig('qwen3', { tieWordEmbeddings: true }) },
];

function wrtFor(cfg: ModelConfig): string[] {
  const names: string[] = [];
  LORA_TARGETS.forEach((t, i) => {
    const m = projectionPath(i % cfg.numLayers, t);
    names.push(`${m}.lora_A`, `${m}.lora_B`);
  });
  names.push('lora_scale', 'model.embed_tokens.weight', 'model.layers.1.self_attn.q_proj.weight', 'model.norm.weight');
  names.push(cfg.family === 'olmo2' ? 'model.layers.0.post_attention_layernorm.weight' : 'model.layers.0.input_layernorm.weight');
  if (cfg.family === 'olmo2') names.push('model.layers.1.post_feedforward_layernorm.weight');
  if (cfg.family === 'qwen3' || cfg.family === 'olmo2') names.push('model.layers.0.self_attn.q_norm.weight', 'model.layers.1.self_attn.k_norm.weight');
  if (cfg.attentionBias) names.push('model.layers.0.self_attn.q_proj.bias', 'model.layers.1.self_attn.v_proj.bias');
  if (!cfg.tieWordEmbeddings) names.push('lm_head.weight');
  return names;
}

const fmt = (e: number) => e.toExponential(1);
const short = (k: string) => k.replace('model.', '').replace('layers.', 'L').replace('self_attn.', '').replace('.weight', '');

describe('decoder graph gradients vs finite differences', () => {
  const cases = configs.flatMap((c) => (['weighted', 'training'] as LossKind[]).map((loss) => ({ ...c, loss })));
  it.each(cases)('$label, $loss loss', async ({ label, cfg, loss }) => {
    const c = decoderCase(cfg, loss);
    if (loss === 'training') {
      await finishTrainingFeeds(c, cfg);
      // Top-k membership is piecewise constant: the FD steps (~1e-5) must not reorder it.
      expect(c.topkGap).toBeGreaterThan(1e-4);
    }
    const wrt = wrtFor(cfg);
    const used = [...new Set(c.usedIds)];
    const D = cfg.hiddenSize;
    // The training variant declares seq == total (prefill), which makes every broadcast
    // reduction static; the weighted variant leaves the attention ones to the runtime path.
    const gradOpts = loss === 'training' ? { equalDims: [['seq', 'total']] } : {};
    const pick = (w: string, n: number, rng: { next(): number }) => {
      if (n <= 20) return Array.from({ length: n }, (_, i) => i);
      const set = new Set<number>();
      if (w === 'model.embed_tokens.weight' && !cfg.tieWordEmbeddings) {
        // Mostly rows of tokens in the batch (the other rows have zero gradient).
        while (set.size < 16) set.add(used[Math.floor(rng.next() * used.length)] * D + Math.floor(rng.next() * D));
      }
      while (set.size < 20) set.add(Math.floor(rng.next() * n));
      return [...set];
    };

    // 1. The gradient graph and the loss both in float64: the math of every rule, exactly.
    const r64 = await fdCheck(c.graph, c.feeds, wrt, gradOpts, { precision: 'float64', mode: 'richardson', h: 1e-5, pick });
    // 2. The float32 gradient graph (what training runs) against those float64 differences.
    const e32 = errorsAt(await gradients(c.graph, c.feeds, wrt, gradOpts), r64.fd);
    // 3. Finite differences taken in float32 too (noisy: loss rounding / step), weighted loss only;
    //    the training loss has kinks (top-k, clip) that the large float32 steps would cross.
    const r32 = loss === 'weighted' ? await fdCheck(c.graph, c.feeds, wrt, gradOpts, { h: 1e-3, ladder: [64, 32, 16, 8, 4, 2, 1], pick }) : null;

    const worst = (e: Record<string, number>) => Object.entries(e).sort((a, b) => b[1] - a[1])[0];
    const loraMax = Math.max(...Object.entries(e32).filter(([k]) => k.includes('lora_')).map((x) => x[1]));
    const full = Object.entries(e32).filter(([k]) => !k.includes('lora_A') && !k.includes('lora_B'));
    rows.push(
      `  ${`${label}, ${loss}`.padEnd(22)} f32 grads vs f64 FD: worst ${fmt(worst(e32)[1])} (${short(worst(e32)[0])}), LoRA A/B max ${fmt(loraMax)}, ` +
        `${full.map(([k, e]) => `${short(k)} ${fmt(e)}`).join(', ')}\n` +
        `  ${''.padEnd(22)} f64 graph vs f64 FD: worst ${fmt(r64.worst)}` +
        (r32 ? `; f32 graph vs f32 FD: worst ${fmt(r32.worst)} (${short(worst(r32.errors)[0])})` : '') +
        `; broadcast reductions static ${r64.stats.staticReductions}, runtime ${r64.stats.runtimeReductions}`,
    );
    for (const [w, e] of Object.entries(r64.errors)) expect(e, `${label} ${loss}: ${w} (float64)`).toBeLessThan(1e-6);
    for (const [w, e] of Object.entries(e32)) expect(e, `${label} ${loss}: ${w} (float32 vs float64 FD)`).toBeLessThan(TOL);
    if (r32) expect(r32.worst, `${label} ${loss}: float32 FD`).toBeLessThan(1e-2);
    // The embedding gets gradient only on used rows (untied), everywhere when tied.
    expect(r64.grads['model.embed_tokens.weight'].some((v) => v !== 0)).toBe(true);
  });

  it('last-position logits (Slice on the symbolic seq axis: runtime Pad amounts)', async () => {
    const cfg = tinyConfig('qwen2');
    const c = decoderCase(cfg, 'weighted', 5, 'last');
    const wrt = [`${projectionPath(0, 'v_proj')}.lora_B`, `${projectionPath(1, 'up_proj')}.lora_A`, 'model.norm.weight', 'model.embed_tokens.weight'];
    const r64 = await fdCheck(c.graph, c.feeds, wrt, {}, { precision: 'float64', mode: 'richardson', h: 1e-5, coords: 20 });
    const e32 = errorsAt(await gradients(c.graph, c.feeds, wrt), r64.fd);
    rows.push(`  ${'qwen2, last logits'.padEnd(22)} f32 grads vs f64 FD: worst ${fmt(Math.max(...Object.values(e32)))}; f64 graph vs f64 FD: worst ${fmt(r64.worst)}`);
    for (const [w, e] of Object.entries(r64.errors)) expect(e, w).toBeLessThan(1e-6);
    for (const [w, e] of Object.entries(e32)) expect(e, w).toBeLessThan(TOL);
  });
});
