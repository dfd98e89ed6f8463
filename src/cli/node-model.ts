/** Open a model folder (and optional PEFT adapter) on onnxruntime-node for the CLI. */
import { NodeFolderSource } from '../engine/models/node-source';
import { openModel } from '../engine/models/open-model';
import { importPeftAdapter } from '../engine/lora/peft';
import { ModelRunner } from '../engine/runtime/model-runner';
import { nodeCpuBackend } from '../engine/runtime/node-backend';
import type { ModelConfig } from '../engine/models/types';

export interface NodeModel {
  config: ModelConfig;
  runner: ModelRunner;
  padId: number;
  tokenizerJson: unknown | null;
  tokenizerConfig: unknown | null;
}

export async function openNodeModel(dir: string, adapterDir?: string): Promise<NodeModel> {
  const ckpt = await openModel(new NodeFolderSource(dir));
  const runner = new ModelRunner(ckpt.config, nodeCpuBackend());
  await runner.loadWeights(ckpt.weights);
  if (adapterDir) runner.setAdapter(await importPeftAdapter(new NodeFolderSource(adapterDir), ckpt.config));
  const padId = ckpt.config.padTokenId ?? ckpt.config.eosTokenIds[0] ?? 0;
  return { config: ckpt.config, runner, padId, tokenizerJson: ckpt.tokenizerJson, tokenizerConfig: ckpt.tokenizerConfig };
}
