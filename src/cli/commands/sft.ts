/**
 * pmd-lab sft --model <dir> --data <file.jsonl> --out <peft-dir> [training flags]
 *   Trains a LoRA adapter on lines {"prompt": string, "response": string}; the loss covers the
 *   response tokens only. The flags and their defaults are TrainConfig's (engine/train/config.ts).
 *   Writes the adapter in PEFT format, replacing <peft-dir> whole or not at all.
 */
import path from 'node:path';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, exportPeftAdapter } from '../../engine/lora/peft';
import { nodeCpuBackend } from '../../engine/runtime/node-backend';
import { resolveTrainConfig, TRAIN_DEFAULTS, TRAIN_FIELDS } from '../../engine/train/config';
import { createTrainer, runSft } from '../../engine/train/sft';
import { parseSftJsonl, tokenizeSft } from '../../engine/train/sft-data';
import { ConfigError } from '../../util/config-fields';
import { Args, configFlagHelp, UsageError } from '../args';
import { readTextInput } from '../inputs';
import { checkpointTokenizer, openNodeCheckpoint } from '../node-model';
import { checkOutputPath, writeFolderAtomic } from '../outputs';
import { progressBar } from '../progress';

export const usage = `sft       --model <dir> --data <file.jsonl> --out <peft-dir> [--no-progress] [training flags]
${configFlagHelp(TRAIN_FIELDS, TRAIN_DEFAULTS)}`;

export async function run(args: Args): Promise<void> {
  const modelDir = args.required('model');
  const dataFile = args.required('data');
  const outDir = args.required('out');
  const showProgress = !args.has('no-progress');
  let config;
  try {
    config = resolveTrainConfig(args.config(TRAIN_FIELDS, TRAIN_DEFAULTS));
  } catch (e) {
    if (e instanceof ConfigError) throw new UsageError(e.problems.map((p) => `${flagOf(p.path)} ${p.message}`).join('; '));
    throw e;
  }
  args.rejectUnknown();
  await checkOutputPath('out', outDir, 'folder', { replaces: [ADAPTER_CONFIG, ADAPTER_WEIGHTS] });

  const rows = parseSftJsonl(await readTextInput('data', dataFile), dataFile);
  const ckpt = await openNodeCheckpoint(modelDir);
  const tok = await checkpointTokenizer(ckpt, 'sft');
  const samples = await tokenizeSft(tok, rows, dataFile).finally(() => tok.dispose());
  const trainer = await createTrainer({ backend: nodeCpuBackend(), config: ckpt.config, weights: ckpt.weights, padId: ckpt.padId }, config);
  const bar = progressBar(config.steps, showProgress);
  try {
    const r = await runSft(trainer, samples, config, { onStep: (s, step) => bar.update(step, `loss ${s.loss.toFixed(4)} |g| ${s.gradNorm.toFixed(3)}`) });
    bar.end();
    const baseModel = path.basename(path.resolve(modelDir));
    const adapter = await trainer.exportAdapter(baseModel);
    await writeFolderAtomic(outDir, exportPeftAdapter(adapter, baseModel));
    const last = r.steps.at(-1)?.loss ?? NaN;
    if (showProgress) process.stderr.write(`wrote LoRA adapter (r=${config.lora.rank}, ${config.lora.targets.length} targets, final loss ${last.toFixed(4)}) to ${outDir}\n`);
  } finally {
    await trainer.release();
  }
}

function flagOf(configPath: string): string {
  const f = TRAIN_FIELDS.find((x) => x.path === configPath);
  return f?.flag ? `--${f.flag}` : configPath;
}
