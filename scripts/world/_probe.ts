// Exploration only: can a saved model follow the simplest memory (one strategy about a throw-away name)?
import { NodeFolderSource } from '../../src/engine/models/node-source';
import { openModel } from '../../src/engine/models/open-model';
import { loadTokenizer } from '../../src/engine/models/tokenizer';
import { chatTokenizer } from '../../src/engine/models/tokenizer-adapter';
import { ModelRunner } from '../../src/engine/runtime/model-runner';
import { nodeCpuBackend } from '../../src/engine/runtime/node-backend';
import { makeWorld, randomSymbols } from '../../src/pmd/world/world';
import { OPERATIONS, applyOperation } from '../../src/pmd/world/operations';
import { problemText, formatSymbols } from '../../src/pmd/world/format';
import { strategyForFact, behaviorForFact } from '../../src/pmd/world/memory-text';
import { buildTeacherContext } from '../../src/pmd/reprompt';

import { Prng } from '../../src/util/prng';
import { complete } from './rollouts';
import { checkTextAnswer } from '../../src/pmd/world/text-answer';
const ck = await openModel(new NodeFolderSource(process.argv[2]));
const tok = chatTokenizer(loadTokenizer(ck.tokenizerJson, ck.tokenizerConfig, ck.config.vocabSize));
const runner = new ModelRunner(ck.config, nodeCpuBackend());
await runner.loadWeights(ck.weights);
const w = makeWorld(1);
const pool = w.throwaway; const pick = () => pool[Math.floor(rng.next() * pool.length)];
const rng = new Prng(42);
for (const mode of ['strategy', 'behavior']) {
  const per: Record<string, number[]> = {};
  const msgs: string[] = [], want: string[] = [], ops: string[] = [];
  for (let i = 0; i < 72; i++) {
    const op = OPERATIONS[i % OPERATIONS.length];
    const name = pick();
    const input = randomSymbols(rng);
    const item = mode === 'strategy' ? { strategies: [{ id: 's', ...strategyForFact(name, op) }] } : { behaviors: [behaviorForFact(name, op), behaviorForFact(pick(), OPERATIONS[(i + 3) % 9]), behaviorForFact(pick(), OPERATIONS[(i + 5) % 9])] };
    msgs.push(buildTeacherContext({ problem: problemText([name], input), ...item }).text);
    want.push(formatSymbols(applyOperation(op, input)));
    ops.push(op.id);
  }
  const res = await complete({ runner, tok }, msgs);
  res.forEach((r, i) => (per[ops[i]] ??= []).push(checkTextAnswer(want[i], r.text).reward));
  console.log(mode, Object.entries(per).map(([k, v]) => `${k} ${(v.reduce((a, b) => a + b, 0) / v.length).toFixed(2)}`).join(', '));
  console.log(msgs[0].split('\n')[0], JSON.stringify(res[0].text), 'want', want[0]);
}
