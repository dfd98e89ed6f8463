/**
 * batch.json for `pmd-lab grad`:
 *   {"loss": <LossSpec>, "samples": [{"ids": [...], "response_start": n,
 *        "teacher_ids": [...], "teacher_response_start": m,     (distill)
 *        "advantage": a, "old_logp": [...]}]}                   (grpo; old_logp optional)
 * The loss is checked by the engine's one LossSpec validation; sample fields here.
 */
import { validateLossSpec, type LossSpec } from '../engine/train/losses';
import type { TrainSample } from '../engine/train/batching';
import { InputFileError } from '../engine/train/sft-data';
import { isRecord } from '../util/records';

export interface BatchFile {
  loss: LossSpec;
  samples: TrainSample[];
}

const SAMPLE_FIELDS = ['ids', 'response_start', 'teacher_ids', 'teacher_response_start', 'advantage', 'old_logp'];

const isIdList = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every((x) => Number.isInteger(x) && x >= 0);

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
  const problems = validateLossSpec(json.loss);
  if (problems.length) fail(problems.map((p) => `"loss${p.path ? `.${p.path}` : ''}" ${p.message}`).join('; '));
  const loss = json.loss as LossSpec;
  if (!Array.isArray(json.samples) || json.samples.length === 0) return fail('"samples" must be a non-empty list');
  const samples: TrainSample[] = json.samples.map((s: unknown, i: number) => {
    const where = `samples[${i}]`;
    if (!isRecord(s)) return fail(`${where} must be an object`);
    for (const k of Object.keys(s)) if (!SAMPLE_FIELDS.includes(k)) fail(`${where}: unknown field "${k}" (expected ${SAMPLE_FIELDS.join(', ')})`);
    if (!isIdList(s.ids)) fail(`${where}.ids must be a non-empty list of token ids (whole numbers >= 0)`);
    const out: TrainSample = { ids: s.ids as number[], response_start: s.response_start as number };
    if (s.teacher_ids !== undefined || s.teacher_response_start !== undefined) {
      out.teacher_ids = s.teacher_ids as number[];
      out.teacher_response_start = s.teacher_response_start as number;
    } else if (loss.kind === 'distill') {
      fail(`${where} needs "teacher_ids" and "teacher_response_start" for the distill loss`);
    }
    if (loss.kind === 'grpo') {
      if (typeof s.advantage !== 'number' || !Number.isFinite(s.advantage)) fail(`${where}.advantage must be a finite number for the grpo loss`);
      out.advantage = s.advantage as number;
      if (s.old_logp !== undefined) {
        if (!Array.isArray(s.old_logp) || !s.old_logp.every((x) => typeof x === 'number' && Number.isFinite(x))) fail(`${where}.old_logp must be a list of finite numbers`);
        out.old_logp = s.old_logp as number[];
      }
    } else if (s.advantage !== undefined || s.old_logp !== undefined) {
      fail(`${where}: "advantage" and "old_logp" belong to the grpo loss, not "${loss.kind}"`);
    }
    return out;
  });
  return { loss, samples };
}
