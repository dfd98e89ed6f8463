// Exploration only: show failures of a saved model on held-out combinations.
import { NodeFolderSource } from '../../src/engine/models/node-source';
import { openModel } from '../../src/engine/models/open-model';
import { loadTokenizer } from '../../src/engine/models/tokenizer';
import { chatTokenizer } from '../../src/engine/models/tokenizer-adapter';
import { ModelRunner } from '../../src/engine/runtime/model-runner';
import { nodeCpuBackend } from '../../src/engine/runtime/node-backend';
import { makeWorld, procedure } from '../../src/pmd/world/world';
import { generateSuite } from '../../src/pmd/world/suite';
import { scoreTasks } from './rollouts';
const ck = await openModel(new NodeFolderSource(process.argv[2]));
const tok = chatTokenizer(loadTokenizer(ck.tokenizerJson, ck.tokenizerConfig, ck.config.vocabSize));
const runner = new ModelRunner(ck.config, nodeCpuBackend());
await runner.loadWeights(ck.weights);
const w = makeWorld(1);
const test = generateSuite(w).filter((t) => t.split === 'test' && t.meta.heldOut === (process.argv[3] ?? 'combination'));
const s = await scoreTasks({ runner, tok }, test, 1);
for (const x of s) console.log(x.rewards[0], x.task.problem, x.task.meta.procedures.map((n) => procedure(w, n).operation.id).join('+'), '=>', JSON.stringify(x.responses[0]), 'want', x.task.answer.value);
