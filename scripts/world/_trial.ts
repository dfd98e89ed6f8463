// Exploration only (deleted before the end): pretrain for a while, then measure.
import { makeWorld, procedure, worldNames } from '../../src/pmd/world/world';
import { generateSuite } from '../../src/pmd/world/suite';
import { corpusRow, CORPUS_DEFAULTS } from '../../src/pmd/world/corpus';
import { Prng } from '../../src/util/prng';
import { makeWorldTokenizer } from './tokenizer';
import { loadTokenizer } from '../../src/engine/models/tokenizer';
import { chatTokenizer } from '../../src/engine/models/tokenizer-adapter';
import { parseModelConfig } from '../../src/engine/models/config';
import { nodeCpuBackend } from '../../src/engine/runtime/node-backend';
import { ModelRunner } from '../../src/engine/runtime/model-runner';
import { NodeFolderSource } from '../../src/engine/models/node-source';
import { openModel } from '../../src/engine/models/open-model';
import { initWorldWeights, countParameters, worldModelConfig, writeWorldModel } from './model';
import { pretrain } from './pretrain';
import { scoreTasks, accuracyBy } from './rollouts';
import { buildTeacherContext } from '../../src/pmd/reprompt';
import { strategyForFact } from '../../src/pmd/world/memory-text';

const env = (k: string, d: string) => process.env[k] ?? d;
const steps = Number(env('STEPS', '1000')), lr = Number(env('LR', '0.003')), mem = Number(env('MEM', '0.5'));
const hidden = Number(env('HIDDEN', '128')), layers = Number(env('LAYERS', '4')), inter = Number(env('INTER', '384'));
const out = env('OUT', '/tmp/world-trial'), init = process.env.INIT;
const w = makeWorld(1);
const suite = generateSuite(w);
const base = { world: w, exclude: new Set(suite.map((t) => t.problem)), options: CORPUS_DEFAULTS };
const rng = new Prng(5);
const texts = Array.from({ length: 3000 }, () => { const r = corpusRow(base, rng); return r.prompt + '\n' + r.response; });
texts.push(...Array(50).fill('user\nassistant\n'));
const tk = makeWorldTokenizer(texts, Number(env('MERGES', '400')), worldNames(w));
const raw = worldModelConfig({ hiddenSize: hidden, layers, heads: 4, kvHeads: 2, headDim: hidden / 4, intermediate: inter, vocabSize: Math.ceil(tk.size / 64) * 64 }, tk);
const cfg = parseModelConfig(raw);
const tok = chatTokenizer(loadTokenizer(tk.tokenizerJson, tk.tokenizerConfig, cfg.vocabSize));
const weights = init ? (await openModel(new NodeFolderSource(init))).weights : initWorldWeights(cfg, 1);
console.log('params', countParameters(weights), 'vocab', tk.size, 'init', init ?? 'fresh');
const backend = nodeCpuBackend();
const avg: Record<string, number> = {};
const ctx = { ...base, options: { ...CORPUS_DEFAULTS, memoryShare: mem } };
const res = await pretrain({
  backend, config: cfg, weights, tok, ctx,
  settings: { stages: [{ steps, lr, warmup: Number(env('WARMUP', '50')), memoryShare: mem, corpus: process.env.SIMPLE ? { distractorStrategy: 0.1, behaviorsBlock: 0.15, solutionBlock: 0.08, feedbackBlock: 0.05, exclusionLessons: 0.1 } : {} }], batch: { plain: 32, memory: 16 }, poolBatches: 4, weightDecay: 0.01, seed: Number(env('SEED', '1')) },
  onStep: (l) => {
    avg[l.kind] = avg[l.kind] === undefined ? l.loss : 0.9 * avg[l.kind] + 0.1 * l.loss;
    if (l.step % 50 === 0) console.log(`step ${l.step} plain ${avg.plain?.toFixed(3)} memory ${avg.memory?.toFixed(3)} ${l.ms.toFixed(0)}ms`);
  },
});
console.log(`pretrain ${(res.ms / 1000).toFixed(0)} s`);
await writeWorldModel(out, raw, tk, res.weights, 'F32');
const runner = new ModelRunner(cfg, backend);
await runner.loadWeights(res.weights);
const test = suite.filter((t) => t.split === 'test');
const key = (t: any) => `${t.meta.procedures.length}/${t.meta.kind}/${t.meta.heldOut}`;
const greedy = await scoreTasks({ runner, tok }, test, 1);
console.log('greedy memory-free', accuracyBy(greedy, key));
const oracle = test.map((t) => buildTeacherContext({ problem: t.problem, strategies: t.meta.procedures.map((n, i) => ({ id: `s${i}`, ...strategyForFact(n, procedure(w, n).operation) })) }).text);
const withMem = await scoreTasks({ runner, tok }, test, 1, {}, oracle);
console.log('greedy with oracle strategies', accuracyBy(withMem, key));
