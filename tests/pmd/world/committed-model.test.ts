/**
 * The committed world (public/world): the model folder loads with the engine, and its greedy
 * memory-free accuracy on held-out problems sits in the band the world is designed for
 * (15% to 60%): taught procedures solved, untaught ones not, so PMD has something to teach.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NodeFolderSource } from '../../../src/engine/models/node-source';
import { openModel } from '../../../src/engine/models/open-model';
import { loadTokenizer, type TextTokenizer } from '../../../src/engine/models/tokenizer';

import { ModelRunner } from '../../../src/engine/runtime/model-runner';
import { nodeCpuBackend } from '../../../src/engine/runtime/node-backend';
import type { WorldTask } from '../../../src/pmd/world/suite';
import { scoreTasks } from '../../../scripts/world/rollouts';
import { buildTrainMemory, MEASURE_DEFAULTS } from '../../../scripts/world/measure';
import { HiddenStateEmbedder } from '../../../scripts/world/embedder';
import { retrieveMemory } from '../../../scripts/world/memory';
import { buildTeacherContext } from '../../../src/pmd/reprompt';
import { resolvePmdConfig } from '../../../src/pmd/config';

const WORLD = join(__dirname, '../../../public/world');
/** Samples per problem (avg@n at temperature 1, as pmd-lab eval measures it). */
const N = 4;

let runner: ModelRunner;
let test: WorldTask[];
let train: WorldTask[];
/** Held-out avg@N memory-free (set by the band test, reused as the baseline of the memory test). */
let memoryFree: number | null = null;
let tok: TextTokenizer;

beforeAll(async () => {
  const ck = await openModel(new NodeFolderSource(join(WORLD, 'model')));
  tok = loadTokenizer(ck.tokenizerJson, ck.tokenizerConfig, { vocabSize: ck.config.vocabSize });
  runner = new ModelRunner(ck.config, nodeCpuBackend());
  await runner.loadWeights(ck.weights);
  const lines = (await readFile(join(WORLD, 'tasks.jsonl'), 'utf8')).trim().split('\n');
  const tasks = lines.map((l) => JSON.parse(l) as WorldTask);
  test = tasks.filter((t) => t.split === 'test');
  train = tasks.filter((t) => t.split === 'train');
});

afterAll(async () => {
  await runner?.release();
});

describe('the committed world model', () => {
  it('is a small qwen3 checkpoint with its tokenizer and chat template', async () => {
    expect(runner.cfg.family).toBe('qwen3');
    expect(tok.hasChatTemplate).toBe(true);
    const build = JSON.parse(await readFile(join(WORLD, 'build.json'), 'utf8'));
    expect(build.model.parameters).toBeLessThan(5_000_000);
  });

  it("is measured with the retrieval its default run uses (run.json's retrieval.lexicalWeight)", async () => {
    const run = resolvePmdConfig(JSON.parse(await readFile(join(WORLD, 'run.json'), 'utf8')));
    expect(MEASURE_DEFAULTS.lexicalWeight).toBe(run.retrieval.lexicalWeight);
    expect(MEASURE_DEFAULTS.behaviors).toBe(run.behavior.retrieveK);
  });

  it('answers held-out problems memory-free with avg@n between 15% and 60%', async () => {
    const scored = await scoreTasks({ runner, tok }, test, N, { temperature: 1, seed: 7, maxNewTokens: 96, batchSize: 64 });
    const mean = (xs: typeof scored) => xs.reduce((a, s) => a + s.rewards.reduce((x, y) => x + y, 0) / N, 0) / xs.length;
    const acc = mean(scored);
    memoryFree = acc;
    const by = (kind: string) => scored.filter((s) => s.task.meta.kind === kind);
    console.log(`held-out avg@${N} ${(100 * acc).toFixed(1)}% on ${scored.length} problems (taught ${(100 * mean(by('taught'))).toFixed(0)}%, untaught ${(100 * mean(by('untaught'))).toFixed(0)}%)`);
    expect(acc).toBeGreaterThanOrEqual(0.15);
    expect(acc).toBeLessThanOrEqual(0.6);
    expect(mean(by('taught'))).toBeGreaterThan(mean(by('untaught')));
  });

  it('is at least 15 points better on held-out problems with memory its rule reflector builds from train rollouts', async () => {
    const sampling = { temperature: 1, seed: 7, maxNewTokens: 96, batchSize: 64 };
    const avg = (xs: Awaited<ReturnType<typeof scoreTasks>>) => xs.reduce((a, s) => a + s.rewards.reduce((x, y) => x + y, 0) / N, 0) / xs.length;
    const base = memoryFree ?? avg(await scoreTasks({ runner, tok }, test, N, sampling));
    const embedder = new HiddenStateEmbedder(runner, tok);
    try {
      const o = { ...MEASURE_DEFAULTS, seed: 7 };
      const { memory } = await buildTrainMemory({ runner, tok }, embedder, train, o);
      const qs = await embedder.embed(test.map((t) => t.problem));
      const prompts = test.map((t, i) => buildTeacherContext({ problem: t.problem, ...retrieveMemory(memory, { vector: qs[i], text: t.problem }, { neighbors: o.neighbors, behaviors: o.behaviors, lexicalWeight: o.lexicalWeight }) }).text);
      const withMemory = avg(await scoreTasks({ runner, tok }, test, N, sampling, prompts));
      console.log(`held-out avg@${N}: memory-free ${(100 * base).toFixed(1)}%, with memory ${(100 * withMemory).toFixed(1)}% (${memory.behaviors.length} behaviors)`);
      expect(withMemory - base).toBeGreaterThanOrEqual(0.15);
    } finally {
      await embedder.release();
    }
  }, 300_000);
});
