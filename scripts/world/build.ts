/**
 * Building the embedded world from settings and a seed: the world and its task suite, a
 * tokenizer with merges learned from a corpus sample, a qwen3 model trained from scratch on
 * the corpus stream (pretrain.ts), and the files under `outDir`:
 *   model/{config.json, model.safetensors, tokenizer.json, tokenizer_config.json, generation_config.json}
 *   tasks.jsonl
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseModelConfig } from '../../src/engine/models/config';
import type { WritableDtype } from '../../src/engine/models/safetensors';
import type { WeightMap } from '../../src/engine/models/types';
import { loadTokenizer } from '../../src/engine/models/tokenizer';

import { nodeCpuBackend } from '../../src/engine/runtime/node-backend';
import { CORPUS_DEFAULTS, corpusRow, type CorpusContext, type CorpusOptions } from '../../src/pmd/world/corpus';
import { generateSuite, suiteJsonl, SUITE_DEFAULTS, type SuiteOptions, type WorldTask } from '../../src/pmd/world/suite';
import { makeWorld, worldNames, WORLD_DEFAULTS, type World, type WorldOptions } from '../../src/pmd/world/world';
import { hashSeed, Prng } from '../../src/util/prng';
import { countParameters, initWorldWeights, worldModelConfig, writeWorldModel, type WorldModelShape } from './model';
import { pretrain, type PretrainLog, type PretrainSettings } from './pretrain';
import { makeWorldTokenizer } from './tokenizer';

export interface WorldBuildSettings {
  seed: number;
  world: WorldOptions;
  suite: SuiteOptions;
  corpus: CorpusOptions;
  tokenizer: { sampleRows: number; merges: number };
  /** vocabSize null: the tokenizer's size rounded up to a multiple of 64. */
  model: Omit<WorldModelShape, 'vocabSize'> & { vocabSize: number | null };
  /**
   * Training phases, each a list of stages run by one pretrain() call (its own corpus stream,
   * drawn from the start of the seed's stream); a phase starts from the weights the previous
   * one ended with. This is exactly what continuing a built world (`--init`) does.
   */
  pretrain: Omit<PretrainSettings, 'seed' | 'stages'> & { phases: PretrainSettings['stages'][] };
  dtype: WritableDtype;
}

export const WORLD_BUILD_DEFAULTS: WorldBuildSettings = {
  seed: 1,
  world: WORLD_DEFAULTS,
  suite: SUITE_DEFAULTS,
  corpus: CORPUS_DEFAULTS,
  tokenizer: { sampleRows: 3000, merges: 500 },
  model: { hiddenSize: 128, layers: 4, heads: 4, kvHeads: 2, headDim: 32, intermediate: 384, vocabSize: null },
  pretrain: {
    phases: [
      // Taught procedures and chaining, then reading memory, then an anneal.
      [
        { steps: 400, lr: 3e-3, warmup: 50, memoryShare: 0 },
        { steps: 1400, lr: 2e-3, warmup: 50, memoryShare: 0.75 },
        { steps: 200, lr: 5e-4, warmup: 20, memoryShare: 0.5 },
      ],
      // Chains read from memory in the problem's order (the first phase left the model applying
      // the procedure memory mentions last first).
      [{ steps: 500, lr: 1e-3, warmup: 20, memoryShare: 0.8, corpus: { chainShare: 0.7 } }],
      // Memory mostly about other names, as retrieval gives it: read past it.
      [
        {
          steps: 500,
          lr: 1e-3,
          warmup: 20,
          memoryShare: 0.85,
          corpus: { chainShare: 0.7, nonceShare: 0.5, distractorStrategy: 0.7, maxDistractors: 4, distractorLessons: 0.5, behaviorsBlock: 0.6 },
        },
      ],
      // The same with taught names in most slots and the loop's solution and feedback blocks
      // more often (a PMD run's teacher contexts): a teacher that mentions other names must not
      // move probability onto them.
      [
        {
          steps: 500,
          lr: 1e-3,
          warmup: 20,
          memoryShare: 0.85,
          corpus: { chainShare: 0.7, nonceShare: 0.3, distractorStrategy: 0.7, maxDistractors: 4, distractorLessons: 0.5, behaviorsBlock: 0.6, solutionBlock: 0.3, feedbackBlock: 0.3 },
        },
      ],
    ],
    batch: { plain: 32, memory: 16 },
    poolBatches: 4,
    weightDecay: 0.01,
  },
  dtype: 'F32',
};

export const MODEL_DIR = 'model';
export const TASKS_FILE = 'tasks.jsonl';

export interface WorldBuild {
  world: World;
  suite: WorldTask[];
  parameters: number;
  tokenizerSize: number;
  vocabSize: number;
  log: PretrainLog[];
  pretrainSeconds: number;
  files: string[];
}

/**
 * Build the world into `outDir`. `threads`: onnxruntime's intra-op threads (default: all
 * cores). Multi-threaded CPU kernels sum in an order that varies from run to run, so only a
 * one-thread build gives the same floats every time. `init` continues training from weights built earlier with the
 * same settings (the tokenizer and config are rebuilt from the seed and must match them).
 */
export async function buildWorld(s: WorldBuildSettings, outDir: string, onStep?: (l: PretrainLog) => void, init?: WeightMap, threads?: number): Promise<WorldBuild> {
  const world = makeWorld(s.seed, s.world);
  const suite = generateSuite(world, s.suite);
  const ctx: CorpusContext = { world, exclude: new Set(suite.map((t) => t.problem)), options: s.corpus };
  const rng = new Prng(hashSeed(s.seed, 'tokenizer-sample'));
  const sample = Array.from({ length: s.tokenizer.sampleRows }, () => {
    const r = corpusRow(ctx, rng);
    return `${r.prompt}\n${r.response}`;
  });
  // The chat template's role names are part of every sequence too.
  sample.push(...new Array<string>(50).fill('user\nassistant\n'));
  const tk = makeWorldTokenizer(sample, s.tokenizer.merges, worldNames(world));
  const raw = worldModelConfig({ ...s.model, vocabSize: s.model.vocabSize ?? Math.ceil(tk.size / 64) * 64 }, tk);
  raw.torch_dtype = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' }[s.dtype];
  const config = parseModelConfig(raw);
  const tok = loadTokenizer(tk.tokenizerJson, tk.tokenizerConfig, { vocabSize: config.vocabSize });
  let weights = init ?? initWorldWeights(config, s.seed);
  const log: PretrainLog[] = [];
  let ms = 0;
  const { phases, ...common } = s.pretrain;
  for (const stages of phases) {
    const offset = log.length;
    const r = await pretrain({ backend: nodeCpuBackend({ threads }), config, weights, tok, ctx, settings: { ...common, stages, seed: s.seed }, onStep: (l) => onStep?.({ ...l, step: l.step + offset }) });
    log.push(...r.log.map((l) => ({ ...l, step: l.step + offset })));
    ms += r.ms;
    weights = r.weights;
  }
  const res = { weights, log, ms };
  await mkdir(outDir, { recursive: true });
  const files = (await writeWorldModel(join(outDir, MODEL_DIR), raw, tk, res.weights, s.dtype)).map((f) => `${MODEL_DIR}/${f}`);
  await writeFile(join(outDir, TASKS_FILE), suiteJsonl(suite));
  files.push(TASKS_FILE);
  return { world, suite, parameters: countParameters(res.weights), tokenizerSize: tk.size, vocabSize: config.vocabSize, log: res.log, pretrainSeconds: res.ms / 1000, files };
}
