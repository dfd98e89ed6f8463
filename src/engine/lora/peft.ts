/**
 * LoRA adapters in the PEFT on-disk format (adapter_config.json + adapter_model.safetensors),
 * so adapters trained here load with `PeftModel.from_pretrained` and vice versa.
 */

import { readSafetensors, writeSafetensors } from '../models/safetensors';
import {
  type FileSource,
  type HostTensor,
  LORA_TARGETS,
  type LoraAdapter,
  type LoraConfig,
  type LoraTarget,
  type ModelConfig,
  ModelFormatError,
  projectionPath,
  projectionShape,
} from '../models/types';
import { hashSeed, Prng } from '../../util/prng';
import { isRecord } from '../../util/records';

export const ADAPTER_CONFIG = 'adapter_config.json';
export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';
const PREFIX = 'base_model.model.';


function isTarget(t: unknown): t is LoraTarget {
  return typeof t === 'string' && (LORA_TARGETS as readonly string[]).includes(t);
}

/** Throws (plain Error, or ModelFormatError for `file`) when a LoRA config is unusable. */
export function checkLoraConfig(c: LoraConfig, file?: string): void {
  const fail = (msg: string): never => {
    throw file ? new ModelFormatError(file, msg) : new Error(msg);
  };
  if (!Number.isSafeInteger(c.r) || c.r <= 0) fail(`LoRA rank r must be a positive integer, got ${c.r}`);
  if (!Number.isFinite(c.alpha) || c.alpha <= 0) {
    fail(`lora_alpha must be > 0, got ${c.alpha} (PEFT would scale the update to nothing)`);
  }
  if (c.targetModules.length === 0) fail('target_modules is empty');
  for (const t of c.targetModules) if (!isTarget(t)) fail(`unknown target module ${JSON.stringify(t)}; known: ${LORA_TARGETS.join(', ')}`);
  if (new Set(c.targetModules).size !== c.targetModules.length) fail('target_modules lists a module twice');
}

/** Split `model.layers.3.self_attn.q_proj` into layer and target, checking the group. */
function parseModulePath(path: string): { layer: number; target: LoraTarget } | null {
  const m = /^model\.layers\.(\d+)\.(self_attn|mlp)\.(\w+)$/.exec(path);
  if (!m || !isTarget(m[3])) return null;
  const layer = Number(m[1]);
  return projectionPath(layer, m[3]) === path ? { layer, target: m[3] } : null;
}

export function exportPeftAdapter(
  adapter: LoraAdapter,
  baseModelName: string | null,
): { 'adapter_config.json': string; 'adapter_model.safetensors': Uint8Array } {
  const c = adapter.config;
  checkLoraConfig(c);
  const tensors = new Map<string, HostTensor>();
  for (const [path, { A, B }] of adapter.modules) {
    const parsed = parseModulePath(path);
    if (!parsed) throw new Error(`LoRA module "${path}" is not a model.layers.<i>.<self_attn|mlp>.<proj> path`);
    if (!c.targetModules.includes(parsed.target)) throw new Error(`LoRA module "${path}" is not among target_modules`);
    if (A.dims.length !== 2 || A.dims[0] !== c.r) throw new Error(`${path}: lora_A must be [r=${c.r}, in], got [${A.dims.join(', ')}]`);
    if (B.dims.length !== 2 || B.dims[1] !== c.r) throw new Error(`${path}: lora_B must be [out, r=${c.r}], got [${B.dims.join(', ')}]`);
    const base = `${PREFIX}${path}`;
    // PEFT only loads keys under base_model.model.; anything else would be dropped silently.
    if (!base.startsWith(PREFIX) || path.startsWith('base_model.')) throw new Error(`tensor name "${base}" must start with ${PREFIX}model.`);
    tensors.set(`${base}.lora_A.weight`, A);
    tensors.set(`${base}.lora_B.weight`, B);
  }
  if (tensors.size === 0) throw new Error('LoRA adapter has no modules');
  const config = {
    peft_type: 'LORA',
    task_type: 'CAUSAL_LM',
    base_model_name_or_path: baseModelName,
    r: c.r,
    lora_alpha: c.alpha,
    lora_dropout: 0,
    target_modules: [...c.targetModules],
    use_rslora: c.useRslora,
    use_dora: false,
    bias: 'none',
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    modules_to_save: null,
    rank_pattern: {},
    alpha_pattern: {},
  };
  return {
    [ADAPTER_CONFIG]: JSON.stringify(config, null, 2),
    [ADAPTER_WEIGHTS]: writeSafetensors(tensors, 'F32', { format: 'pt' }),
  };
}

function parseAdapterConfig(json: unknown): LoraConfig {
  const F = ADAPTER_CONFIG;
  if (!isRecord(json)) throw new ModelFormatError(F, 'not a JSON object');
  const fail = (msg: string): never => {
    throw new ModelFormatError(F, msg);
  };
  if (json.peft_type !== undefined && json.peft_type !== 'LORA') fail(`peft_type ${JSON.stringify(json.peft_type)} is not LORA`);
  if (typeof json.r !== 'number') fail(`"r" must be a number, got ${JSON.stringify(json.r)}`);
  if (typeof json.lora_alpha !== 'number') fail(`"lora_alpha" must be a number, got ${JSON.stringify(json.lora_alpha)}`);
  if (!Array.isArray(json.target_modules)) {
    fail(`"target_modules" must be a list of module names, got ${JSON.stringify(json.target_modules)}`);
  }
  if (json.use_dora === true) fail('DoRA adapters (use_dora: true) are not supported');
  if (json.fan_in_fan_out === true) fail('fan_in_fan_out adapters are not supported');
  if (json.bias !== undefined && json.bias !== 'none') fail(`bias ${JSON.stringify(json.bias)} is not supported; only "none"`);
  for (const k of ['rank_pattern', 'alpha_pattern'] as const) {
    if (isRecord(json[k]) && Object.keys(json[k] as object).length > 0) fail(`per-module ${k} is not supported`);
  }
  if (Array.isArray(json.modules_to_save) && json.modules_to_save.length > 0) fail('modules_to_save is not supported');
  const useRslora = json.use_rslora ?? false;
  if (typeof useRslora !== 'boolean') fail('"use_rslora" must be true or false');
  const cfg: LoraConfig = {
    r: json.r as number,
    alpha: json.lora_alpha as number,
    targetModules: json.target_modules as LoraTarget[],
    useRslora: useRslora as boolean,
  };
  checkLoraConfig(cfg, F);
  return cfg;
}

export async function importPeftAdapter(src: FileSource, cfg?: ModelConfig): Promise<LoraAdapter> {
  const W = ADAPTER_WEIGHTS;
  if (!(await src.has(ADAPTER_CONFIG))) throw new ModelFormatError(ADAPTER_CONFIG, `missing from ${src.label}`);
  let json: unknown;
  try {
    json = JSON.parse(await src.text(ADAPTER_CONFIG));
  } catch (e) {
    throw new ModelFormatError(ADAPTER_CONFIG, `not valid JSON (${(e as Error).message})`);
  }
  const config = parseAdapterConfig(json);
  const baseModel = isRecord(json) && typeof json.base_model_name_or_path === 'string' ? json.base_model_name_or_path : null;
  if (!(await src.has(W))) {
    const hint = (await src.has('adapter_model.bin')) ? ' (adapter_model.bin is not supported; save with safetensors)' : '';
    throw new ModelFormatError(W, `missing from ${src.label}${hint}`);
  }
  const { tensors } = readSafetensors(await src.bytes(W), W);

  const halves = new Map<string, { A?: HostTensor; B?: HostTensor }>();
  for (const [name, t] of tensors) {
    const m = /^base_model\.model\.(.+)\.lora_([AB])(?:\.default)?\.weight$/.exec(name);
    if (!m) throw new ModelFormatError(W, `tensor ${name} is not a base_model.model.<module>.lora_A/lora_B weight`);
    const [, path, half] = m;
    const parsed = parseModulePath(path);
    if (!parsed) throw new ModelFormatError(W, `tensor ${name}: unknown module ${path}`);
    if (!config.targetModules.includes(parsed.target)) {
      throw new ModelFormatError(W, `tensor ${name}: ${parsed.target} is not in target_modules [${config.targetModules.join(', ')}]`);
    }
    if (cfg && parsed.layer >= cfg.numLayers) throw new ModelFormatError(W, `tensor ${name}: the model has only ${cfg.numLayers} layers`);
    const entry = halves.get(path) ?? {};
    if (entry[half as 'A' | 'B']) throw new ModelFormatError(W, `tensor ${name}: lora_${half} given twice`);
    entry[half as 'A' | 'B'] = t;
    halves.set(path, entry);
  }
  if (halves.size === 0) throw new ModelFormatError(W, 'holds no LoRA tensors');

  const modules: LoraAdapter['modules'] = new Map();
  for (const [path, { A, B }] of halves) {
    if (!A || !B) throw new ModelFormatError(W, `${path} has lora_${A ? 'A' : 'B'} but no lora_${A ? 'B' : 'A'}`);
    const { target } = parseModulePath(path)!;
    const r = config.r;
    if (A.dims.length !== 2 || A.dims[0] !== r) {
      throw new ModelFormatError(W, `${path}.lora_A has shape [${A.dims.join(', ')}], rank ${A.dims[0]} does not match r=${r}`);
    }
    if (B.dims.length !== 2 || B.dims[1] !== r) {
      throw new ModelFormatError(W, `${path}.lora_B has shape [${B.dims.join(', ')}], rank ${B.dims[1]} does not match r=${r}`);
    }
    if (cfg) {
      const { inF, outF } = projectionShape(cfg, target);
      if (A.dims[1] !== inF) throw new ModelFormatError(W, `${path}.lora_A is [${A.dims.join(', ')}], expected [${r}, ${inF}]`);
      if (B.dims[0] !== outF) throw new ModelFormatError(W, `${path}.lora_B is [${B.dims.join(', ')}], expected [${outF}, ${r}]`);
    } else if (modules.size > 0) {
      // Without a model config at least keep every layer's copy of a projection consistent.
      for (const [p2, other] of modules) {
        if (parseModulePath(p2)!.target === target && (other.A.dims[1] !== A.dims[1] || other.B.dims[0] !== B.dims[0])) {
          throw new ModelFormatError(W, `${path} and ${p2} disagree on their shapes`);
        }
      }
    }
    modules.set(path, { A, B });
  }
  if (cfg) {
    const layers = isRecord(json) ? json.layers_to_transform : undefined;
    if (layers === undefined || layers === null) {
      for (let i = 0; i < cfg.numLayers; i++) {
        for (const t of config.targetModules) {
          if (!modules.has(projectionPath(i, t))) throw new ModelFormatError(W, `missing LoRA weights for ${projectionPath(i, t)}`);
        }
      }
    }
  }
  return { config, baseModel, modules };
}

/**
 * A fresh adapter for `cfg`: A drawn like PEFT's default (kaiming-uniform with a = sqrt(5),
 * i.e. U(-1/sqrt(in), 1/sqrt(in))), B zero, or normal * bScale when given.
 */
export function makeLoraAdapter(cfg: ModelConfig, lora: LoraConfig, seed: number, opts: { bScale?: number } = {}): LoraAdapter {
  checkLoraConfig(lora);
  const modules: LoraAdapter['modules'] = new Map();
  for (let i = 0; i < cfg.numLayers; i++) {
    for (const target of LORA_TARGETS) {
      if (!lora.targetModules.includes(target)) continue;
      const path = projectionPath(i, target);
      const { inF, outF } = projectionShape(cfg, target);
      const rng = new Prng(hashSeed(seed, path));
      const bound = 1 / Math.sqrt(inF);
      const A = new Float32Array(lora.r * inF);
      for (let k = 0; k < A.length; k++) A[k] = rng.uniform(-bound, bound);
      const B = new Float32Array(outF * lora.r);
      if (opts.bScale) for (let k = 0; k < B.length; k++) B[k] = rng.normal() * opts.bScale;
      modules.set(path, { A: { dims: [lora.r, inF], data: A }, B: { dims: [outF, lora.r], data: B } });
    }
  }
  return { config: { ...lora, targetModules: [...lora.targetModules] }, baseModel: null, modules };
}
