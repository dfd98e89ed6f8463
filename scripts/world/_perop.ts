// Exploration only: accuracy per operation and length of a saved model.
import { NodeFolderSource } from '../../src/engine/models/node-source';
import { openModel } from '../../src/engine/models/open-model';
import { loadTokenizer } from '../../src/engine/models/tokenizer';
import { chatTokenizer } from '../../src/engine/models/tokenizer-adapter';
import { ModelRunner } from '../../src/engine/runtime/model-runner';
import { nodeCpuBackend } from '../../src/engine/runtime/node-backend';
import { makeWorld } from '../../src/pmd/world/world';
import { applyOperation } from '../../src/pmd/world/operations';
import { problemText, formatSymbols } from '../../src/pmd/world/format';
import { randomSymbols } from '../../src/pmd/world/world';
import { Prng } from '../../src/util/prng';
import { complete } from './rollouts';
import { checkTextAnswer } from '../../src/pmd/world/text-answer';
const ck = await openModel(new NodeFolderSource(process.argv[2]));
const tok = chatTokenizer(loadTokenizer(ck.tokenizerJson, ck.tokenizerConfig, ck.config.vocabSize));
const runner = new ModelRunner(ck.config, nodeCpuBackend());
await runner.loadWeights(ck.weights);
const w = makeWorld(1);
const rng = new Prng(99);
for (const p of w.procedures.filter((x) => x.taught)) {
  const inputs = Array.from({ length: 24 }, () => randomSymbols(rng));
  const res = await complete({ runner, tok }, inputs.map((i) => problemText([p.name], i)));
  const acc: Record<number, number[]> = { 4: [], 5: [] };
  res.forEach((r, i) => acc[inputs[i].length].push(checkTextAnswer(formatSymbols(applyOperation(p.operation, inputs[i])), r.text).reward));
  console.log(p.operation.id.padEnd(16), Object.entries(acc).map(([k, v]) => `len ${k}: ${(v.reduce((a, b) => a + b, 0) / v.length).toFixed(2)}`).join('  '), JSON.stringify(res[0].text));
}
