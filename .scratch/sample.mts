import { makeWorld, worldNames } from '/work/wt-world/src/pmd/world/world';
import { generateSuite } from '/work/wt-world/src/pmd/world/suite';
import { corpusRow, CORPUS_DEFAULTS } from '/work/wt-world/src/pmd/world/corpus';
import { Prng } from '/work/wt-world/src/util/prng';
import { makeWorldTokenizer } from '/work/wt-world/scripts/world/tokenizer';
import { loadTokenizer } from '/work/wt-world/src/engine/models/tokenizer';
const w = makeWorld(1);
const suite = generateSuite(w);
const ctx = { world: w, exclude: new Set(suite.map((t) => t.problem)), options: CORPUS_DEFAULTS };
const rng = new Prng(5);
const texts = Array.from({ length: 3000 }, () => { const r = corpusRow(ctx, rng); return r.prompt + '\n' + r.response; });
texts.push(...Array(50).fill('user\nassistant\n'));
const tk = makeWorldTokenizer(texts, 500, worldNames(w));
const tok = loadTokenizer(tk.tokenizerJson, tk.tokenizerConfig, {});
console.log('size', tk.size);
for (const kind of ['plain', 'memory', 'memory'] as const) {
  const r = corpusRow(ctx, rng, kind);
  const ids = await tok.encode(r.prompt + '\n' + r.response);
  const rid = await tok.encode(r.response);
  console.log('---', kind, ids.length, 'resp', rid.length); console.log(r.prompt); console.log('>>>'); console.log(r.response);
  console.log(rid.map((i) => JSON.stringify(tok.decode([i]))).join('|'));
}
let tot = { plain: 0, memory: 0 };
for (let i = 0; i < 200; i++) for (const k of ['plain', 'memory'] as const) { const r = corpusRow(ctx, rng, k); tot[k] += (await tok.encode(r.prompt + r.response)).length; }
console.log('mean tokens', tot.plain / 200, tot.memory / 200);
