/**
 * pmd-lab grad --model <dir> --adapter <peft-dir> --batch <batch.json> --out <dir> [--micro-batch <n>]
 *   Loss and gradients at the adapter's current values. Writes <dir>/loss.json {"loss": number}
 *   and <dir>/grads.safetensors (F32, the adapter's PEFT tensor names, each the gradient of the
 *   loss with respect to that tensor). The teacher of a distillation loss is the same model and
 *   adapter, scored under teacher_ids without gradient.
 */
import { writeSafetensors } from '../../engine/models/safetensors';
import type { HostTensor } from '../../engine/models/types';
import { nodeCpuBackend } from '../../engine/runtime/node-backend';
import { loraStateFromAdapter, peftTensorName } from '../../engine/train/lora-state';
import { InputFileError } from '../../engine/train/sft-data';
import { Trainer } from '../../engine/train/trainer';
import { Args } from '../args';
import { parseBatchJson } from '../batch-file';
import { readTextInput } from '../inputs';
import { openNodeCheckpoint, readAdapter } from '../node-model';
import { checkOutputPath, writeFolderAtomic } from '../outputs';

export const usage = 'grad      --model <dir> --adapter <peft-dir> --batch <batch.json> --out <dir> [--micro-batch <n>]';

const OUTPUTS = ['loss.json', 'grads.safetensors'];

export async function run(args: Args): Promise<void> {
  const modelDir = args.required('model');
  const adapterDir = args.required('adapter');
  const batchFile = args.required('batch');
  const outDir = args.required('out');
  const micro = args.has('micro-batch') ? args.integer('micro-batch', 1, 1) : undefined;
  args.rejectUnknown();
  await checkOutputPath('out', outDir, 'folder', { replaces: OUTPUTS, inputs: [batchFile] });
  const batch = parseBatchJson(await readTextInput('batch', batchFile), batchFile);
  const ckpt = await openNodeCheckpoint(modelDir);
  const adapter = await readAdapter(adapterDir, ckpt.config);
  const trainer = await Trainer.create({
    backend: nodeCpuBackend(),
    config: ckpt.config,
    weights: ckpt.weights,
    state: loraStateFromAdapter(ckpt.config, adapter),
    teacher: 'student',
    stateOn: 'host',
    microBatchSize: micro,
    padId: ckpt.padId,
  });
  try {
    let r;
    try {
      r = await trainer.evaluateGrad(batch.samples, batch.loss);
    } catch (e) {
      // Sample problems (ids outside the vocabulary, mismatched responses) name the sample.
      const msg = (e as Error).message;
      if (/^sample \d+:/.test(msg)) throw new InputFileError(batchFile, msg.replace(/^sample (\d+):/, 'samples[$1]:'));
      throw e;
    }
    const grads = new Map<string, HostTensor>();
    for (const [name, t] of r.grads) grads.set(peftTensorName(name), t);
    await writeFolderAtomic(outDir, {
      'loss.json': JSON.stringify({ loss: r.loss }) + '\n',
      'grads.safetensors': writeSafetensors(grads, 'F32', { format: 'pt' }),
    });
  } finally {
    await trainer.release();
  }
}
