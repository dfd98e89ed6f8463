import { makeWorld } from '../../src/pmd/world/world';
import { generateSuite } from '../../src/pmd/world/suite';
import { corpusRow, CORPUS_DEFAULTS } from '../../src/pmd/world/corpus';
import { Prng } from '../../src/util/prng';
import { makeWorldTokenizer } from '../../scripts/world/tokenizer';
import { loadTokenizer } from '../../src/engine/models/tokenizer';
import { chatTokenizer } from '../../src/engine/models/tokenizer-adapter';
import { sftSample } from '../../src/engine/train/sft-data';
const w = makeWorld(1);
const suite = generateSuite(w);
const rng = new Prng(5);
const ctx = { world: w, exclude: new Set(suite.map(t=>t.problem)), options: CORPUS_DEFAULTS };
const rows = Array.from({length: 3000}, () => corpusRow(ctx, rng));
for (const nm of [500]) {
  const t0 = performance.now();
  const tk = makeWorldTokenizer(rows.map(r => r.prompt + '\n' + r.response), nm);
  const tok = chatTokenizer(loadTokenizer(tk.tokenizerJson, tk.tokenizerConfig));
  const lens = { plain: [] as number[], memory: [] as number[], resp: [] as number[] };
  for (const r of rows.slice(0, 400)) { const s = await sftSample(tok, r); lens[r.kind].push(s.ids.length); lens.resp.push(s.ids.length - s.response_start); }
  const avg = (a: number[]) => (a.reduce((x,y)=>x+y,0)/a.length).toFixed(1);
  console.log(nm, tk.size, `${(performance.now()-t0).toFixed(0)}ms`, 'plain', avg(lens.plain), 'memory', avg(lens.memory), 'max', Math.max(...lens.memory), 'resp', avg(lens.resp));
  if (nm === 500) { const ids = await tok.encode(rows[1].prompt); console.log(ids.map(i => tok.decode([i])).join('|')); console.log(w.procedures.map(p => p.name).map(n => n + ':' + tok.encode(' ' + n)).join(' ')); }
}
