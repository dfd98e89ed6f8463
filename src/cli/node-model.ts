/** Open a model folder (with its tokenizer and an optional PEFT adapter) on onnxruntime-node for the CLI. */
import { NodeFolderSource } from '../engine/models/node-source';
import { openModel } from '../engine/models/open-model';
import { importPeftAdapter } from '../engine/lora/peft';
import type { TextTokenizer } from '../engine/models/tokenizer';
import { ModelRunner } from '../engine/runtime/model-runner';
import { nodeCpuBackend } from '../engine/runtime/node-backend';
import { ModelFormatError, padTokenIdOf, type LoraAdapter, type ModelConfig, type WeightMap } from '../engine/models/types';

export interface NodeCheckpoint {
  dir: string;
  config: ModelConfig;
  weights: WeightMap;
  padId: number;
  tokenizerJson: unknown | null;
  tokenizerConfig: unknown | null;
}

export async function openNodeCheckpoint(dir: string): Promise<NodeCheckpoint> {
  const ckpt = await openModel(new NodeFolderSource(dir));
  return { dir, config: ckpt.config, weights: ckpt.weights, padId: padTokenIdOf(ckpt.config), tokenizerJson: ckpt.tokenizerJson, tokenizerConfig: ckpt.tokenizerConfig };
}

/**
 * The checkpoint's tokenizer, run in a worker thread with time limits (an untrusted template or
 * pre-tokenizer pattern cannot hang the CLI); `why` says which command needs it when the folder
 * has none. Dispose it when done.
 */
export async function checkpointTokenizer(c: NodeCheckpoint, why: string): Promise<TextTokenizer> {
  if (!c.tokenizerJson) throw new ModelFormatError('tokenizer.json', `missing from ${c.dir}: ${why} needs a tokenizer`);
  // Imported here: the tokenizer brings transformers.js, which commands given token ids never need.
  const { loadTokenizerInWorker } = await import('../engine/models/tokenizer-node');
  return loadTokenizerInWorker(c.tokenizerJson, c.tokenizerConfig, { vocabSize: c.config.vocabSize });
}

export function readAdapter(dir: string, config: ModelConfig): Promise<LoraAdapter> {
  return importPeftAdapter(new NodeFolderSource(dir), config);
}

export interface NodeModel extends NodeCheckpoint {
  runner: ModelRunner;
}

/** How a command runs its model (speed settings that do not change any result). */
export interface RunnerOptions {
  /** `--constant-weights`: generate with the weights as pre-packed constants (node-backend.ts). */
  constantWeights?: boolean;
}

/** The `--constant-weights` flag of the commands that generate. */
export const CONSTANT_WEIGHTS_USAGE = '[--constant-weights]';
export function runnerOptions(args: { has(name: string): boolean }): RunnerOptions {
  return { constantWeights: args.has('constant-weights') };
}

/** A checkpoint uploaded to a ModelRunner (with the adapter applied when given). */
export async function openNodeModel(dir: string, adapterDir?: string, opts: RunnerOptions = {}): Promise<NodeModel> {
  const c = await openNodeCheckpoint(dir);
  const runner = new ModelRunner(c.config, nodeCpuBackend({ constantWeights: opts.constantWeights }));
  await runner.loadWeights(c.weights);
  if (adapterDir) runner.setAdapter(await readAdapter(adapterDir, c.config));
  return { ...c, runner };
}

/** Run `fn` with an opened model and release its sessions afterwards. */
export async function withNodeModel<T>(dir: string, adapterDir: string | undefined, fn: (m: NodeModel) => Promise<T>, opts: RunnerOptions = {}): Promise<T> {
  const m = await openNodeModel(dir, adapterDir, opts);
  try {
    return await fn(m);
  } finally {
    await m.runner.release();
  }
}
