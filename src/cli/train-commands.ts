/**
 * Training commands of the pmd-lab CLI (onnxruntime-node on the CPU):
 *
 *   pmd-lab grad --model <dir> --adapter <peft-dir> --batch <batch.json> --out <dir>
 *                [--micro-batch <n>]
 *       Loss and gradients at the adapter's current values. Writes <dir>/loss.json
 *       {"loss": number} and <dir>/grads.safetensors (F32, the adapter's PEFT tensor names,
 *       each the gradient of the loss with respect to that tensor).
 *
 *   pmd-lab sft --model <dir> --data <file.jsonl> --out <peft-dir> [--steps <n>] [--rank <r>]
 *               [--lr <x>] [--alpha <a>] [--batch-size <n>] [--micro-batch <n>]
 *               [--targets q_proj,...] [--warmup <n>] [--seed <s>] [--no-progress]
 *       Trains a LoRA adapter on lines {"prompt": string, "response": string}; the loss covers
 *       the response tokens only. Writes the adapter in PEFT format.
 *
 * batch.json: {"loss": {"kind": "ce"} | {"kind": "distill", "alpha": a, "topk": k},
 *              "samples": [{"ids": [...], "response_start": n,
 *                           "teacher_ids": [...], "teacher_response_start": m}]}
 * The response is ids[response_start:] (== teacher_ids[teacher_response_start:]); the logit at
 * position p predicts token p + 1; the loss is the mean over all response tokens of the batch.
 * For distillation the teacher is the same model with the same adapter, scored under
 * teacher_ids, without gradient.
 *
 * Register in main.ts with `...trainCommands` in its `commands` table.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Args, UsageError } from './args';
import { NodeFolderSource } from '../engine/models/node-source';
import { openModel } from '../engine/models/open-model';
import { exportPeftAdapter, importPeftAdapter } from '../engine/lora/peft';
import { writeSafetensors } from '../engine/models/safetensors';
import { loadTokenizer } from '../engine/models/tokenizer';
import { LORA_TARGETS, ModelFormatError, type HostTensor, type LoraTarget } from '../engine/models/types';
import { nodeCpuBackend } from '../engine/runtime/node-backend';
import { initLoraState, loraStateFromAdapter, peftTensorName } from '../engine/train/lora-state';
import { checkLossSpec, Trainer, type LossSpec } from '../engine/train/trainer';
import type { TrainSample } from '../engine/train/batching';
import { InputFileError, parseSftJsonl, SftSchedule, tokenizeSft, type SftTokenizer } from '../engine/train/sft-data';
import { isRecord } from '../util/records';

type Command = (args: Args) => Promise<void>;

export const TRAIN_USAGE = `  grad      --model <dir> --adapter <peft-dir> --batch <batch.json> --out <dir> [--micro-batch <n>]
  sft       --model <dir> --data <file.jsonl> --out <peft-dir> [--steps <n>] [--rank <r>] [--lr <x>]
            [--alpha <a>] [--batch-size <n>] [--micro-batch <n>] [--targets q_proj,v_proj,...]
            [--warmup <n>] [--seed <s>] [--no-progress]`;


// ---------------------------------------------------------------------------------------------
// batch.json

export interface BatchFile {
  loss: LossSpec;
  samples: TrainSample[];
}

/** Parse and check batch.json (structure only; token ids are checked against the model later). */
export function parseBatchJson(text: string, file = 'batch.json'): BatchFile {
  const fail = (m: string): never => {
    throw new InputFileError(file, m);
  };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return fail(`not valid JSON (${(e as Error).message})`);
  }
  if (!isRecord(json)) return fail('must be a JSON object with "loss" and "samples"');
  for (const k of Object.keys(json)) if (k !== 'loss' && k !== 'samples') fail(`unknown field "${k}" (expected "loss" and "samples")`);
  const loss = json.loss;
  if (!isRecord(loss)) return fail('"loss" must be an object such as {"kind": "ce"} or {"kind": "distill", "alpha": 0.5, "topk": 20}');
  let spec: LossSpec;
  if (loss.kind === 'ce') {
    for (const k of Object.keys(loss)) if (k !== 'kind') fail(`"loss": unknown field "${k}" for kind "ce"`);
    spec = { kind: 'ce' };
  } else if (loss.kind === 'distill') {
    for (const k of Object.keys(loss)) if (!['kind', 'alpha', 'topk'].includes(k)) fail(`"loss": unknown field "${k}" for kind "distill"`);
    if (typeof loss.alpha !== 'number' || !(loss.alpha >= 0 && loss.alpha <= 1)) fail(`"loss.alpha" must be a number in [0, 1], got ${JSON.stringify(loss.alpha)}`);
    if (typeof loss.topk !== 'number' || !Number.isInteger(loss.topk) || loss.topk < 1) fail(`"loss.topk" must be a whole number >= 1, got ${JSON.stringify(loss.topk)}`);
    spec = { kind: 'distill', alpha: loss.alpha as number, topk: loss.topk as number };
  } else {
    return fail(`"loss.kind" must be "ce" or "distill", got ${JSON.stringify(loss.kind)}`);
  }
  if (!Array.isArray(json.samples) || json.samples.length === 0) return fail('"samples" must be a non-empty list');
  const samples: TrainSample[] = json.samples.map((s: unknown, i: number) => {
    const where = `samples[${i}]`;
    if (!isRecord(s)) return fail(`${where} must be an object`);
    const known = ['ids', 'response_start', 'teacher_ids', 'teacher_response_start'];
    for (const k of Object.keys(s)) if (!known.includes(k)) fail(`${where}: unknown field "${k}" (expected ${known.join(', ')})`);
    const ids = s.ids;
    if (!Array.isArray(ids) || ids.length === 0 || !ids.every((x) => Number.isInteger(x) && x >= 0)) {
      fail(`${where}.ids must be a non-empty list of token ids (whole numbers >= 0)`);
    }
    const out: TrainSample = { ids: ids as number[], response_start: s.response_start as number };
    if (s.teacher_ids !== undefined || s.teacher_response_start !== undefined) {
      out.teacher_ids = s.teacher_ids as number[];
      out.teacher_response_start = s.teacher_response_start as number;
    } else if (spec.kind === 'distill') {
      fail(`${where} needs "teacher_ids" and "teacher_response_start" for the distill loss`);
    }
    return out;
  });
  return { loss: spec, samples };
}

// ---------------------------------------------------------------------------------------------
// Progress

/** A one-line progress bar on stderr (redrawn on a TTY, every ~5% otherwise). */
export function progressBar(total: number, enabled: boolean) {
  const tty = Boolean(process.stderr.isTTY);
  const every = Math.max(1, Math.ceil(total / 20));
  const started = Date.now();
  return {
    update(done: number, text: string): void {
      if (!enabled) return;
      const width = 24;
      const fill = Math.round((width * done) / total);
      const secs = (Date.now() - started) / 1000;
      const line = `[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${done}/${total} ${text} ${secs.toFixed(1)}s`;
      if (tty) process.stderr.write(`\r${line}\u001b[K`);
      else if (done % every === 0 || done === total) process.stderr.write(`${line}\n`);
    },
    end(): void {
      if (enabled && tty) process.stderr.write('\n');
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Commands

function padIdOf(cfg: { padTokenId: number | null; eosTokenIds: number[] }): number {
  return cfg.padTokenId ?? cfg.eosTokenIds[0] ?? 0;
}

function parseTargets(text: string | undefined): LoraTarget[] {
  if (text === undefined) return [...LORA_TARGETS];
  const list = text.split(',').map((t) => t.trim()).filter(Boolean);
  for (const t of list) {
    if (!(LORA_TARGETS as readonly string[]).includes(t)) throw new UsageError(`--targets: unknown module "${t}"; known: ${LORA_TARGETS.join(', ')}`);
  }
  if (list.length === 0) throw new UsageError('--targets is empty');
  return [...new Set(list)] as LoraTarget[];
}

async function readInput(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new InputFileError(file, `cannot read the ${what}: ${(e as Error).message}`);
  }
}

async function cmdGrad(args: Args): Promise<void> {
  const modelDir = args.required('model');
  const adapterDir = args.required('adapter');
  const batchFile = args.required('batch');
  const outDir = args.required('out');
  const micro = args.has('micro-batch') ? args.integer('micro-batch', 1, 1) : undefined;
  args.rejectUnknown();
  const batch = parseBatchJson(await readInput(batchFile, 'batch file'), batchFile);
  checkLossSpec(batch.loss);
  const ckpt = await openModel(new NodeFolderSource(modelDir));
  const adapter = await importPeftAdapter(new NodeFolderSource(adapterDir), ckpt.config);
  const trainer = await Trainer.create({
    backend: nodeCpuBackend(),
    config: ckpt.config,
    weights: ckpt.weights,
    state: loraStateFromAdapter(ckpt.config, adapter),
    teacher: 'student',
    stateOn: 'host',
    microBatchSize: micro,
    padId: padIdOf(ckpt.config),
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
    await mkdir(outDir, { recursive: true });
    await writeFile(path.join(outDir, 'loss.json'), JSON.stringify({ loss: r.loss }) + '\n');
    await writeFile(path.join(outDir, 'grads.safetensors'), writeSafetensors(grads, 'F32', { format: 'pt' }));
  } finally {
    await trainer.release();
  }
}

async function cmdSft(args: Args): Promise<void> {
  const modelDir = args.required('model');
  const dataFile = args.required('data');
  const outDir = args.required('out');
  const steps = args.integer('steps', 100, 1);
  const rank = args.integer('rank', 8, 1);
  const alpha = args.number('alpha', 2 * rank);
  if (!(alpha > 0)) throw new UsageError(`--alpha must be > 0, got ${alpha}`);
  const lr = args.number('lr', 2e-4);
  if (!(lr > 0)) throw new UsageError(`--lr must be > 0, got ${lr}`);
  const batchSizeArg = args.has('batch-size') ? args.integer('batch-size', 8, 1) : null;
  const micro = args.has('micro-batch') ? args.integer('micro-batch', 1, 1) : undefined;
  const warmup = args.integer('warmup', 0, 0);
  const seed = args.integer('seed', 0, 0);
  const targets = parseTargets(args.string('targets'));
  const showProgress = !args.has('no-progress');
  args.rejectUnknown();

  const rows = parseSftJsonl(await readInput(dataFile, 'data file'), dataFile);
  const ckpt = await openModel(new NodeFolderSource(modelDir));
  if (!ckpt.tokenizerJson) throw new ModelFormatError('tokenizer.json', `missing from ${modelDir}: sft needs a tokenizer`);
  const tok = loadTokenizer(ckpt.tokenizerJson, ckpt.tokenizerConfig, ckpt.config.vocabSize) as unknown as SftTokenizer;
  const samples = tokenizeSft(tok, rows, dataFile);
  const batchSize = Math.min(batchSizeArg ?? 8, samples.length);

  const lora = { r: rank, alpha, targetModules: targets, useRslora: false };
  const trainer = await Trainer.create({
    backend: nodeCpuBackend(),
    config: ckpt.config,
    weights: ckpt.weights,
    state: initLoraState(ckpt.config, lora, seed),
    teacher: 'student',
    optimizer: { lr, warmupSteps: warmup },
    microBatchSize: micro,
    padId: padIdOf(ckpt.config),
  });
  const bar = progressBar(steps, showProgress);
  try {
    const schedule = new SftSchedule(samples, batchSize, seed);
    let last = NaN;
    for (let step = 1; step <= steps; step++) {
      const batch = schedule.next();
      const r = await trainer.step(batch, { kind: 'ce' });
      last = r.loss;
      bar.update(step, `loss ${r.loss.toFixed(4)} |g| ${r.gradNorm.toFixed(3)}`);
    }
    bar.end();
    const adapter = await trainer.exportAdapter(modelDir);
    const files = exportPeftAdapter(adapter, modelDir);
    await mkdir(outDir, { recursive: true });
    for (const [name, data] of Object.entries(files)) await writeFile(path.join(outDir, name), data);
    if (showProgress) process.stderr.write(`wrote LoRA adapter (r=${rank}, ${targets.length} targets, final loss ${last.toFixed(4)}) to ${outDir}\n`);
  } finally {
    await trainer.release();
  }
}

export const trainCommands: Record<string, Command> = {
  grad: cmdGrad,
  sft: cmdSft,
};
