/**
 * pmd-lab eval --model <dir> [--adapter <dir>] [--memory <run dir>/memory] --tasks <tasks.jsonl>
 *              [--split test] [--n 4] [--k 4] [--seed N] [--temperature t] [--max-new-tokens n]
 *              [--max-problems n] --out <eval.json>
 *
 * Samples n responses per problem of a split (memory-free, or with a run's memory in the prompt
 * for the frozen-policy evaluation), verifies them against all of each task's tests, and prints
 * and writes avg_at_n, pass_at_k, maj_at_k, best_at_k, n, k and per problem its samples (each
 * with its extracted answer and reward). With no --model and no --tasks it evaluates the
 * embedded default model on the test split of its task world, as `run` does.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PMD_DEFAULTS, resolvePmdConfig, type PmdConfig } from '../../pmd/config';
import { evaluateProblems } from '../../pmd/eval/evaluate';
import { memoryFromFiles, type MemoryFiles } from '../../pmd/run/export';
import { memoryPrompt } from '../../pmd/run/phases/evaluate';
import { lexicalWeightOf } from '../../pmd/run/retrieval';
import { Args, FileArgumentError, UsageError } from '../args';
import { requireWorld, WORLD, worldRunConfig } from '../embedded-world';
import { loadSuite, setUpLoop } from '../loop-setup';
import { CONSTANT_WEIGHTS_USAGE, runnerOptions } from '../node-model';
import { checkOutputPath, writeFileAtomic } from '../outputs';

export const usage = `eval      --model <dir> [--adapter <dir>] [--memory <run-dir>/memory] --tasks <tasks.jsonl> [--split test]
            [--n 4] [--k 4] [--seed <n>] [--temperature <t>] [--max-new-tokens <n>] [--max-problems <n>] ${CONSTANT_WEIGHTS_USAGE}
            --out <eval.json>`;

async function readMemory(dir: string) {
  const files: Partial<Record<keyof MemoryFiles, unknown>> = {};
  for (const name of ['experience.json', 'insights.json', 'behaviors.json', 'questions.json'] as const) {
    let text: string;
    try {
      text = await readFile(path.join(dir, name), 'utf8');
    } catch {
      if (name === 'behaviors.json' || name === 'insights.json') throw new FileArgumentError(`--memory ${dir}: has no ${name} (give the memory folder of a run, e.g. <run>/memory)`);
      continue;
    }
    try {
      files[name] = JSON.parse(text);
    } catch (e) {
      throw new FileArgumentError(`--memory ${dir}: ${name} is not valid JSON (${(e as Error).message})`);
    }
  }
  return memoryFromFiles(files);
}

/**
 * The settings memory is retrieved with: those of the run the folder belongs to
 * (<run>/config.json next to <run>/memory), else `base`.
 */
async function retrievalSettings(memoryDir: string, base: PmdConfig): Promise<PmdConfig> {
  const file = path.join(memoryDir, '..', 'config.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return base;
  }
  try {
    return resolvePmdConfig(JSON.parse(text));
  } catch (e) {
    throw new FileArgumentError(`--memory ${memoryDir}: the run's ${file} is not a valid run config (${(e as Error).message})`);
  }
}

export async function run(args: Args): Promise<void> {
  const modelFlag = args.string('model');
  const tasksFlag = args.string('tasks');
  const adapterDir = args.string('adapter');
  const memoryDir = args.string('memory');
  const out = args.required('out');
  const split = args.string('split') ?? 'test';
  if (split !== 'test' && split !== 'train') throw new UsageError(`--split must be test or train, got "${split}"`);
  const world = !modelFlag && !tasksFlag;
  if (!world && (!modelFlag || !tasksFlag)) throw new UsageError('give both --model and --tasks, or neither (the embedded default world)');
  if (world) requireWorld();
  const base = resolvePmdConfig(world ? await worldRunConfig() : {});
  const n = args.integer('n', base.eval.n, 1, 1000);
  const k = args.integer('k', Math.min(base.eval.k, n), 1, 1000);
  if (k > n) throw new UsageError(`--k (${k}) must be at most --n (${n})`);
  const seed = args.integer('seed', base.seed, 0, 2 ** 32 - 1);
  const temperature = args.number('temperature', base.eval.temperature);
  if (!(temperature >= 0 && temperature <= 5)) throw new UsageError(`--temperature must be between 0 and 5, got ${temperature}`);
  const maxNewTokens = args.integer('max-new-tokens', base.rollout.maxNewTokens, 1, 100000);
  const maxProblems = args.integer('max-problems', 0, 0);
  const runner = runnerOptions(args);
  args.rejectUnknown();
  const modelDir = modelFlag ?? WORLD.model;
  const tasksFile = tasksFlag ?? WORLD.tasks;
  await checkOutputPath('out', out, 'file', { inputs: [tasksFile] });

  const suite = await loadSuite('tasks', tasksFile);
  const all = split === 'test' ? suite.ctx.testIds : suite.ctx.trainIds;
  const ids = maxProblems > 0 ? all.slice(0, maxProblems) : [...all];
  if (ids.length === 0) throw new FileArgumentError(`--tasks ${tasksFile}: has no ${split} problems`);
  const memory = memoryDir ? await readMemory(memoryDir) : null;
  const retrieval = memoryDir ? await retrievalSettings(memoryDir, base) : base;
  const setup = await setUpLoop(modelDir, suite.ctx, { ...base, reflector: { ...PMD_DEFAULTS.reflector } }, { adapterDir, runner });
  try {
    let prompt = (id: string) => suite.ctx.prompt(id);
    if (memory) {
      const vectors = await setup.services.embed(ids.map((id) => suite.ctx.prompt(id)));
      const query = new Map(ids.map((id, i) => [id, vectors[i]]));
      const opts = { levels: ['insight', 'behavior'], retrieveK: retrieval.behavior.retrieveK, maxBlockChars: retrieval.teacher.maxBlockChars, lexicalWeight: lexicalWeightOf(retrieval) };
      // Retrieval once per problem; its n samples share the prompt.
      const prompts = new Map(ids.map((id) => [id, memoryPrompt(memory, opts, suite.ctx.prompt(id), query.get(id))]));
      prompt = (id) => prompts.get(id) ?? suite.ctx.prompt(id);
    }
    const report = await evaluateProblems(setup.policy, setup.services.verify, {
      ids,
      prompt,
      n,
      k,
      temperature,
      maxNewTokens,
      seed,
      chunk: base.rollout.chunk,
      onProgress: (done, total) => process.stderr.isTTY && process.stderr.write(`\r\u001b[Kevaluating: ${done}/${total} samples`),
    });
    if (process.stderr.isTTY) process.stderr.write('\r\u001b[K');
    const result = {
      avg_at_n: report.avg_at_n,
      pass_at_k: report.pass_at_k,
      maj_at_k: report.maj_at_k,
      best_at_k: report.best_at_k,
      n,
      k,
      split,
      with_memory: memory !== null,
      model: path.basename(path.resolve(modelDir)),
      adapter: adapterDir ? path.basename(path.resolve(adapterDir)) : null,
      problems: report.problems.map((p) => ({ id: p.id, samples: p.samples.map((s) => ({ answer: s.answer, reward: s.reward, response: s.response })) })),
    };
    await writeFileAtomic(out, JSON.stringify(result, null, 2) + '\n');
    console.log(JSON.stringify({ avg_at_n: result.avg_at_n, pass_at_k: result.pass_at_k, maj_at_k: result.maj_at_k, best_at_k: result.best_at_k, n, k, problems: ids.length, with_memory: result.with_memory }));
  } finally {
    await setup.close();
  }
}
