// Exploration only: how fast are full-FT steps, LoRA distill steps and generation for candidate sizes.
import { parseModelConfig } from '../../src/engine/models/config';
import { expectedWeights } from '../../src/engine/models/weight-layout';
import { nodeCpuBackend } from '../../src/engine/runtime/node-backend';
import { Trainer } from '../../src/engine/train/trainer';
import { fullState, initLoraState } from '../../src/engine/train/lora-state';
import { ModelRunner } from '../../src/engine/runtime/model-runner';
import { generate } from '../../src/engine/runtime/generate';
import { LORA_TARGETS, type WeightMap } from '../../src/engine/models/types';
import { Prng, hashSeed } from '../../src/util/prng';

const [H, L, I, V] = process.argv.slice(2).map(Number);
const raw = { architectures: ['Qwen3ForCausalLM'], model_type: 'qwen3', vocab_size: V, hidden_size: H, intermediate_size: I, num_hidden_layers: L, num_attention_heads: 4, num_key_value_heads: 2, head_dim: H / 4, rms_norm_eps: 1e-6, rope_theta: 10000, tie_word_embeddings: true, max_position_embeddings: 1024, eos_token_id: 1, pad_token_id: 0, torch_dtype: 'float32' };
const cfg = parseModelConfig(raw);
const w: WeightMap = new Map();
let np = 0;
for (const [name, dims] of expectedWeights(cfg)) {
  const rng = new Prng(hashSeed(1, name));
  const n = dims.reduce((a, b) => a * b, 1);
  np += n;
  w.set(name, { dims, data: Float32Array.from({ length: n }, () => (name.endsWith('norm.weight') ? 1 : 0.02 * rng.normal())) });
}
console.log(`params ${np}`);
const rng = new Prng(3);
const rand = (n: number) => Array.from({ length: n }, () => 2 + Math.floor(rng.next() * (V - 2)));
const time = async (label: string, f: () => Promise<unknown>, n = 3) => {
  await f();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await f();
  console.log(`${label}: ${((performance.now() - t0) / n).toFixed(0)} ms`);
};
const backend = nodeCpuBackend();
{
  const tr = await Trainer.create({ backend, config: cfg, weights: w, state: fullState(cfg, w), padId: 0, teacher: 'student', optimizer: { lr: 1e-3 } });
  for (const [B, S] of [[8, 64], [32, 64], [64, 128], [64, 192]]) {
    const batch = Array.from({ length: B }, () => ({ ids: rand(S), response_start: Math.floor(S / 2) }));
    await time(`full CE step B=${B} S=${S}`, () => tr.step(batch, { kind: 'ce' }));
  }
  await tr.release();
}
{
  const tr = await Trainer.create({ backend, config: cfg, weights: w, state: initLoraState(cfg, { r: 8, alpha: 16, targetModules: [...LORA_TARGETS], useRslora: false }, 1), padId: 0 });
  const batch = Array.from({ length: 32 }, () => {
    const p = rand(20), r = rand(25), h = rand(150);
    return { ids: [...p, ...r], response_start: 20, teacher_ids: [...h, ...p, ...r], teacher_response_start: 170 };
  });
  await time('lora distill step 32 x (45 student, 195 teacher)', () => tr.step(batch, { kind: 'distill', alpha: 0.5, topk: 20 }));
  await tr.release();
}
{
  const runner = new ModelRunner(cfg, backend);
  await runner.loadWeights(w);
  const prompts = Array.from({ length: 32 }, () => rand(24));
  await time('generate 32 x 30 tokens', () => generate(runner, prompts, { maxNewTokens: 30, seed: 1, stopAtEos: false, eosTokenIds: [1], padTokenId: 0, temperature: 1, topP: 1, topK: 0 }), 2);
  await runner.release();
}
