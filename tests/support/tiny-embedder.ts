/**
 * A tiny sentence-embedding model in the layout transformers.js loads (config.json with a
 * model_type, onnx/model.onnx with input_ids / attention_mask -> last_hidden_state, a tokenizer),
 * written by our own graph builder from a seed: an embedding table looked up per token.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makeTinyTokenizer } from '../../scripts/tiny-model';
import { Graph } from '../../src/engine/onnx/graph';
import { serializeGraph } from '../../src/engine/onnx/serialize';
import { Prng } from '../../src/util/prng';

export async function writeTinyEmbedder(dir: string, seed = 1, dim = 8): Promise<void> {
  const tok = makeTinyTokenizer();
  const V = tok.size;
  const rng = new Prng(seed);
  const g = new Graph('tiny_embedder');
  g.input('input_ids', 'int64', ['batch', 'seq']);
  g.input('attention_mask', 'int64', ['batch', 'seq']);
  g.initializer('table', { dtype: 'float32', dims: [V, dim], data: Float32Array.from({ length: V * dim }, () => rng.normal()) });
  g.op('Gather', ['table', 'input_ids'], {}, 'last_hidden_state');
  g.output('last_hidden_state', 'float32', ['batch', 'seq', dim]);
  await mkdir(path.join(dir, 'onnx'), { recursive: true });
  await writeFile(path.join(dir, 'onnx', 'model.onnx'), serializeGraph(g));
  await writeFile(path.join(dir, 'config.json'), JSON.stringify({ model_type: 'bert', hidden_size: dim, vocab_size: V }));
  await writeFile(path.join(dir, 'tokenizer.json'), JSON.stringify(tok.tokenizerJson));
  await writeFile(path.join(dir, 'tokenizer_config.json'), JSON.stringify({ ...tok.tokenizerConfig, tokenizer_class: 'PreTrainedTokenizer' }));
}
