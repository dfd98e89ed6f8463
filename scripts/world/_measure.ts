// Exploration only: run measureWorld on a saved model.
import { NodeFolderSource } from '../../src/engine/models/node-source';
import { openModel } from '../../src/engine/models/open-model';
import { loadTokenizer } from '../../src/engine/models/tokenizer';
import { chatTokenizer } from '../../src/engine/models/tokenizer-adapter';
import { ModelRunner } from '../../src/engine/runtime/model-runner';
import { nodeCpuBackend } from '../../src/engine/runtime/node-backend';
import { makeWorld } from '../../src/pmd/world/world';
import { generateSuite } from '../../src/pmd/world/suite';
import { HiddenStateEmbedder } from './embedder';
import { measureWorld } from './measure';
const ck = await openModel(new NodeFolderSource(process.argv[2]));
const tok = chatTokenizer(loadTokenizer(ck.tokenizerJson, ck.tokenizerConfig, ck.config.vocabSize));
const runner = new ModelRunner(ck.config, nodeCpuBackend());
await runner.loadWeights(ck.weights);
const t0 = performance.now();
const m = await measureWorld({ runner, tok }, new HiddenStateEmbedder(runner, tok), generateSuite(makeWorld(1)));
console.log(JSON.stringify(m, null, 1));
console.log(`measured in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
