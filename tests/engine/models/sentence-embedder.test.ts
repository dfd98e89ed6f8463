/**
 * Sentence embeddings through transformers.js feature extraction from a local folder (a tiny
 * model our graph builder writes): unit-length mean-pooled vectors that match an independent
 * computation from the model's own embedding table, and the PMD loop using them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createSentenceEmbedder } from '../../../src/engine/models/sentence-embedder';
import { loadTransformersTokenizer } from '../../../src/engine/models/tokenizer';
import { writeTinyEmbedder } from '../../support/tiny-embedder';
import { writeTinyCheckpoint } from '../../../scripts/tiny-model';
import { Prng } from '../../../src/util/prng';
import { makeTinyTokenizer } from '../../../scripts/tiny-model';
import { runCli } from '../../cli/run-cli';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pmd-emb-'));
  await writeTinyEmbedder(path.join(dir, 'embedder'), 4, 8);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('sentence embedder (transformers.js feature extraction)', () => {
  it('gives unit-length mean-pooled embeddings that match the table lookup computed independently', async () => {
    const e = await createSentenceEmbedder({ model: 'embedder', localRoot: dir });
    const texts = ['hello world', 'the sun and the sea'];
    const got = await e.embed(texts);
    await e.dispose();
    // Independent: the same seeded table, the tokenizer's ids, a plain mean, unit length.
    const t = makeTinyTokenizer();
    const V = t.size;
    const rng = new Prng(4);
    const table = Float32Array.from({ length: V * 8 }, () => rng.normal());
    const tok = loadTransformersTokenizer(t.tokenizerJson, { ...t.tokenizerConfig, tokenizer_class: 'PreTrainedTokenizer' });
    texts.forEach((text, i) => {
      const ids = tok.encode(text);
      const v = new Array(8).fill(0);
      for (const id of ids) for (let d = 0; d < 8; d++) v[d] += table[id * 8 + d] / ids.length;
      const n = Math.hypot(...v);
      for (let d = 0; d < 8; d++) expect(got[i][d]).toBeCloseTo(v[d] / n, 5);
    });
  });

  it('pmd-lab run with embedder "transformers" uses it and records it in config.json', async () => {
    const model = path.join(dir, 'model');
    await writeTinyCheckpoint(model, { family: 'qwen3', seed: 3 });
    const cfg = path.join(dir, 'run.json');
    await writeFile(cfg, JSON.stringify({ steps: 1, problemsPerStep: 2, rolloutsPerProblem: 2, rollout: { maxNewTokens: 4 }, reflector: { maxNewTokens: 16 }, eval: { every: 5, n: 1, k: 1, maxProblems: 1 }, embedder: { kind: 'transformers', model: path.join(dir, 'embedder') } }));
    const out = path.join(dir, 'out');
    const r = await runCli(['run', '--config', cfg, '--model', model, '--tasks', path.resolve('public/tasks/arithmetic.jsonl'), '--out', out, '--no-progress']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(await readFile(path.join(out, 'config.json'), 'utf8')).embedder).toEqual({ kind: 'transformers', model: path.join(dir, 'embedder') });
    const q = JSON.parse(await readFile(path.join(out, 'memory', 'questions.json'), 'utf8')) as Record<string, { embedding: number[] }>;
    expect(Object.values(q)[0].embedding).toHaveLength(8); // the embedder's width, not the policy's (64)
  });
});
