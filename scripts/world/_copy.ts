// Exploration only: what does the model predict where it should copy the name?
import { NodeFolderSource } from '../../src/engine/models/node-source';
import { openModel } from '../../src/engine/models/open-model';
import { loadTokenizer } from '../../src/engine/models/tokenizer';
import { chatTokenizer } from '../../src/engine/models/tokenizer-adapter';
import { ModelRunner } from '../../src/engine/runtime/model-runner';
import { nodeCpuBackend } from '../../src/engine/runtime/node-backend';
import { leftPadBatch } from '../../src/engine/runtime/batch';
import { makeWorld, generateSuite } from './_w';
import { corpusRow, CORPUS_DEFAULTS } from '../../src/pmd/world/corpus';
import { sftSample } from '../../src/engine/train/sft-data';
import { Prng } from '../../src/util/prng';
const ck = await openModel(new NodeFolderSource(process.argv[2]));
const tok = chatTokenizer(loadTokenizer(ck.tokenizerJson, ck.tokenizerConfig, ck.config.vocabSize));
const runner = new ModelRunner(ck.config, nodeCpuBackend());
await runner.loadWeights(ck.weights);
const w = makeWorld(1);
const ctx = { world: w, exclude: new Set(generateSuite(w).map((t) => t.problem)), options: CORPUS_DEFAULTS };
const rng = new Prng(7);
const V = ck.config.vocabSize;
const stats: Record<string, number[]> = {};
for (let i = 0; i < 40; i++) {
  const kindArg = process.argv[3] ?? 'memory';
  const r = corpusRow(ctx, rng, kindArg as 'memory' | 'plain');
  const s = await sftSample(tok, r);
  const rows = leftPadBatch([s.ids], 0);
  const out = await runner.forward({ ...rows, logits: 'all', wantKv: false });
  let line = 0;
  for (let p = s.response_start; p < s.ids.length; p++) {
    const row = out.logits.subarray((p - 1) * V, p * V);
    let max = -Infinity; for (const x of row) max = Math.max(max, x);
    let z = 0; for (const x of row) z += Math.exp(x - max);
    const lp = row[s.ids[p]] - max - Math.log(z);
    const t = tok.decode([s.ids[p]]);
    if (t.includes('\n')) line++;
    const kind = /^ [a-z]{5}$/.test(t) ? `name-line${line}` : /^[0-9]$/.test(t) ? `digit-line${line}` : 'other';
    if (kind.startsWith('name') && i < 6) {
      const top = [...row].map((x, j) => [x, j] as const).sort((a, b) => b[0] - a[0]).slice(0, 4).map(([x, j]) => `${tok.decode([j])}:${Math.exp(x - max) / z > 0.01 ? (Math.exp(x - max) / z).toFixed(2) : '0'}`);
      console.log('want', t, 'top', top.join(' '), '| problem:', r.prompt.split('\n')[0]);
    }
    (stats[kind] ??= []).push(-lp);
  }
}
for (const [k, v] of Object.entries(stats)) console.log(k, v.length, 'mean nll', (v.reduce((a, b) => a + b, 0) / v.length).toFixed(3));
