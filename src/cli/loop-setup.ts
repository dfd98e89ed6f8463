/**
 * What `pmd-lab run` and `pmd-lab eval` both set up in Node: the task suite, the model with its
 * tokenizer and a Policy, and the loop's services (verifier with a Node sandbox, embeddings,
 * reflector). Everything opened here is closed by `close()`.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createSentenceEmbedder, type SentenceEmbedder } from '../engine/models/sentence-embedder';
import type { LoraAdapter } from '../engine/models/types';
import { createPolicy, type Policy } from '../engine/policy';
import type { TextTokenizer } from '../engine/models/tokenizer';
import { trainConfigOf, type PmdConfig } from '../pmd/config';
import { buildServices } from '../pmd/run/build-services';
import type { LoopServices } from '../pmd/run/services';
import { suiteContext, type SuiteContext } from '../pmd/run/suite';
import { createNodeSandbox } from '../pmd/sandbox/node-host';
import type { Sandbox } from '../pmd/sandbox/protocol';
import { LineProblemsError } from '../pmd/tasks/problems';
import { parseTaskSuite } from '../pmd/tasks/validate';
import type { Task } from '../pmd/tasks/types';
import '../pmd/world/register';
import { readTextInput } from './inputs';
import { checkpointTokenizer, openNodeModel, readAdapter, type NodeModel, type RunnerOptions } from './node-model';

/** The suite in a task file: every bad line is an error naming it. */
export async function loadSuite(flag: string, file: string): Promise<{ text: string; tasks: Task[]; ctx: SuiteContext }> {
  const text = await readTextInput(flag, file);
  const suite = parseTaskSuite(text);
  if (suite.problems.length) throw new LineProblemsError(file, suite.problems);
  return { text, tasks: suite.tasks, ctx: suiteContext(suite.tasks) };
}

export interface LoopSetup {
  model: NodeModel;
  tokenizer: TextTokenizer;
  policy: Policy;
  services: LoopServices;
  close(): Promise<void>;
}

export async function setUpLoop(modelDir: string, ctx: SuiteContext, config: PmdConfig, opts: { adapterDir?: string; runner?: RunnerOptions } = {}): Promise<LoopSetup> {
  const model = await openNodeModel(modelDir, undefined, opts.runner);
  let tokenizer: TextTokenizer | null = null;
  let policy: Policy | null = null;
  let sandbox: Sandbox | null = null;
  let embedder: SentenceEmbedder | null = null;
  const close = async () => {
    await embedder?.dispose();
    await policy?.release();
    await tokenizer?.dispose();
    await model.runner.release();
    await (sandbox as { close?: () => Promise<void> } | null)?.close?.();
  };
  try {
    tokenizer = await checkpointTokenizer(model, 'the PMD loop');
    const adapter: LoraAdapter | undefined = opts.adapterDir ? await readAdapter(opts.adapterDir, model.config) : undefined;
    const train = trainConfigOf(config);
    if (adapter) train.lora = { rank: adapter.config.r, alpha: adapter.config.alpha, targets: [...adapter.config.targetModules], useRslora: adapter.config.useRslora };
    policy = await createPolicy({ runner: model.runner, tokenizer, label: path.basename(path.resolve(modelDir)), train, adapter });
    if (config.embedder.kind === 'transformers') {
      // A folder on disk loads locally; anything else is a Hub repo id.
      const dir = path.resolve(config.embedder.model);
      embedder = existsSync(path.join(dir, 'config.json'))
        ? await createSentenceEmbedder({ model: path.basename(dir), localRoot: path.dirname(dir) })
        : await createSentenceEmbedder({ model: config.embedder.model });
    }
    const services = buildServices({
      policy,
      tasks: ctx.tasks,
      config,
      sandbox: async () => {
        const s = createNodeSandbox();
        sandbox = s;
        return s;
      },
      fetch: (url, init) => fetch(url, init),
      apiKey: process.env.PMD_LAB_REFLECTOR_KEY,
      embed: embedder ? (texts) => embedder!.embed(texts) : undefined,
    });
    return { model, tokenizer, policy, services, close };
  } catch (e) {
    await close();
    throw e;
  }
}
