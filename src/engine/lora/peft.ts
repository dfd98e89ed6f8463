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
  loraScale,
  type LoraConfig,
  type LoraTarget,
  type ModelConfig,
  ModelFormatError,
  projectionPath,
  projectionShape,
} from '../models/types';
import { checkRepoId } from '../models/sources/hub';
import { hashSeed, Prng } from '../../util/prng';
import { isRecord } from '../../util/records';

export const ADAPTER_CONFIG = 'adapter_config.json';
export const ADAPTER_WEIGHTS = 'adapter_model.safetensors';
const PREFIX = 'base_model.model.';


function isTarget(t: unknown): t is LoraTarget {
  return typeof t === 'string' && (LORA_TARGETS as readonly string[]).includes(t);
}

/** Largest rank accepted; beyond any projection width of the supported models. */
export const MAX_LORA_RANK = 65536;
/** Largest lora_alpha accepted; far above any trained adapter, far below an overflow of the update. */
export const MAX_LORA_ALPHA = 1e6;

/** Throws (plain Error, or ModelFormatError for `file`) when a LoRA config is unusable. */
export function checkLoraConfig(c: LoraConfig, file?: string): void {
  const fail = (msg: string): never => {
    throw file ? new ModelFormatError(file, msg) : new Error(msg);
  };
  if (!Number.isSafeInteger(c.r) || c.r <= 0) fail(`LoRA rank r must be a positive integer, got ${c.r}`);
  if (c.r > MAX_LORA_RANK) fail(`LoRA rank r must be at most ${MAX_LORA_RANK}, got ${c.r}`);
  if (!(c.alpha > 0)) fail(`lora_alpha must be > 0, got ${c.alpha} (PEFT would scale the update to nothing)`);
  if (!(c.alpha <= MAX_LORA_ALPHA)) {
    fail(`lora_alpha must be at most ${MAX_LORA_ALPHA}, got ${c.alpha} (the update would be scaled by ${loraScale(c)} and overflow)`);
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

/**
 * A name for `base_model_name_or_path` from a model source's label: a Hub repo id stays as it is
 * (without an `@revision`), anything else (a local folder, a URL) becomes its last path segment,
 * so an exported adapter never records a local absolute path.
 */
export function baseModelName(label: string): string {
  const trimmed = label.trim().replace(/[\\/]+$/, '');
  const local = /^([\\/~.]|[A-Za-z]:[\\/]|[A-Za-z][\w+.-]*:\/\/)/.test(trimmed);
  const repo = trimmed.replace(/@[^/@]+$/, '');
  if (!local && isRepoId(repo)) return repo;
  return trimmed.split(/[\\/]/).filter((p) => p !== '' && p !== '.' && p !== '..').at(-1) ?? '';
}

function isRepoId(s: string): boolean {
  try {
    checkRepoId(s);
    return true;
  } catch {
    return false;
  }
}

/** The two PEFT files; `baseModel` is recorded through baseModelName (null records none). */
export function exportPeftAdapter(
  adapter: LoraAdapter,
  baseModel: string | null,
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
    base_model_name_or_path: baseModel === null ? null : baseModelName(baseModel) || null,
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

const absent = (v: unknown): boolean => v === undefined || v === null;
const isOff = (v: unknown): boolean => absent(v) || v === false;
const isEmpty = (v: unknown): boolean =>
  absent(v) || v === '' || (Array.isArray(v) && v.length === 0) || (isRecord(v) && Object.keys(v).length === 0);

/**
 * adapter_config.json fields that change what the adapter computes. Each is refused unless it
 * holds its neutral value, so no adapter loads here with numbers PEFT would not produce.
 */
const UNSUPPORTED_FIELDS: { key: string; neutral(v: unknown): boolean; why: string }[] = [
  { key: 'use_dora', neutral: isOff, why: 'DoRA adapters rescale each weight by a learned magnitude' },
  { key: 'fan_in_fan_out', neutral: isOff, why: 'it stores weights transposed (GPT-2 Conv1D layers), which these models do not have' },
  { key: 'bias', neutral: (v) => absent(v) || v === 'none', why: 'values other than "none" train the base model\'s biases' },
  { key: 'lora_bias', neutral: isOff, why: 'it adds a trained bias to lora_B' },
  { key: 'rank_pattern', neutral: isEmpty, why: 'it gives modules ranks of their own' },
  { key: 'alpha_pattern', neutral: isEmpty, why: 'it gives modules alphas of their own' },
  { key: 'modules_to_save', neutral: isEmpty, why: 'it replaces whole modules with trained copies' },
  { key: 'layer_replication', neutral: isEmpty, why: 'it duplicates layers of the base model' },
  { key: 'exclude_modules', neutral: isEmpty, why: 'it takes modules out of target_modules' },
  { key: 'target_parameters', neutral: isEmpty, why: 'it puts LoRA on raw parameters (such as MoE experts)' },
  { key: 'trainable_token_indices', neutral: isEmpty, why: 'it trains rows of the token embeddings' },
  { key: 'use_qalora', neutral: isOff, why: 'QA-LoRA pools the input before lora_A' },
  { key: 'alora_invocation_tokens', neutral: isEmpty, why: 'activated LoRA applies only after its invocation tokens' },
  {
    key: 'init_lora_weights',
    neutral: (v) => absent(v) || typeof v === 'boolean' || v === 'gaussian',
    why: 'this initialisation (PiSSA, OLoRA, LoftQ, CorDA, ...) changes the base weights the adapter was trained on',
  },
];

/** The layers an adapter is limited to (`layers_to_transform`), sorted; null when it covers every layer. */
function parseLayers(json: Record<string, unknown>): number[] | null {
  const F = ADAPTER_CONFIG;
  const layers = json.layers_to_transform;
  const pattern = json.layers_pattern;
  if (absent(layers)) {
    if (!isEmpty(pattern)) throw new ModelFormatError(F, 'layers_pattern is set without layers_to_transform (PEFT refuses this too)');
    return null;
  }
  const list = typeof layers === 'number' ? [layers] : layers;
  if (!Array.isArray(list) || list.length === 0 || !list.every((l) => Number.isSafeInteger(l) && (l as number) >= 0)) {
    throw new ModelFormatError(F, `layers_to_transform must be a layer index or a non-empty list of them, got ${JSON.stringify(layers)}`);
  }
  // PEFT finds the layer index after one of these names; these models call their layers "layers".
  if (!isEmpty(pattern) && !(pattern === 'layers' || (Array.isArray(pattern) && pattern.includes('layers')))) {
    throw new ModelFormatError(F, `layers_pattern ${JSON.stringify(pattern)} matches no module of these models (their layers are model.layers.<i>)`);
  }
  return [...new Set(list as number[])].sort((a, b) => a - b);
}

function parseAdapterConfig(json: unknown): { lora: LoraConfig; layers: number[] | null } {
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
  for (const { key, neutral, why } of UNSUPPORTED_FIELDS) {
    if (!neutral(json[key])) fail(`${key} ${JSON.stringify(json[key])} is not supported: ${why}`);
  }
  const useRslora = json.use_rslora ?? false;
  if (typeof useRslora !== 'boolean') fail('"use_rslora" must be true or false');
  const lora: LoraConfig = {
    r: json.r as number,
    alpha: json.lora_alpha as number,
    targetModules: json.target_modules as LoraTarget[],
    useRslora: useRslora as boolean,
  };
  checkLoraConfig(lora, F);
  return { lora, layers: parseLayers(json) };
}

/**
 * Read a PEFT LoRA adapter. With the model's config every module is checked against the model's
 * shapes, and an adapter limited to some layers (`layers_to_transform`) gets zero weights (B = 0,
 * an update of exactly nothing) for the other layers, so it runs like PEFT's without any special
 * case downstream.
 */
export async function importPeftAdapter(src: FileSource, cfg?: ModelConfig): Promise<LoraAdapter> {
  const W = ADAPTER_WEIGHTS;
  if (!(await src.has(ADAPTER_CONFIG))) throw new ModelFormatError(ADAPTER_CONFIG, `missing from ${src.label}`);
  let json: unknown;
  try {
    json = JSON.parse(await src.text(ADAPTER_CONFIG));
  } catch (e) {
    throw new ModelFormatError(ADAPTER_CONFIG, `not valid JSON (${(e as Error).message})`);
  }
  const { lora: config, layers } = parseAdapterConfig(json);
  const baseModel = isRecord(json) && typeof json.base_model_name_or_path === 'string' ? json.base_model_name_or_path : null;
  if (cfg && layers && layers.at(-1)! >= cfg.numLayers) {
    throw new ModelFormatError(ADAPTER_CONFIG, `layers_to_transform [${layers.join(', ')}] names layer ${layers.at(-1)}, but the model has only ${cfg.numLayers} layers`);
  }
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
    if (layers && !layers.includes(parsed.layer)) {
      throw new ModelFormatError(W, `tensor ${name}: layer ${parsed.layer} is not in layers_to_transform [${layers.join(', ')}]`);
    }
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
    for (let i = 0; i < cfg.numLayers; i++) {
      for (const t of config.targetModules) {
        const path = projectionPath(i, t);
        if (modules.has(path)) continue;
        if (layers && !layers.includes(i)) {
          const { inF, outF } = projectionShape(cfg, t);
          modules.set(path, zeroModule(config.r, inF, outF));
        } else {
          throw new ModelFormatError(W, `missing LoRA weights for ${path}`);
        }
      }
    }
  }
  return { config, baseModel, modules };
}

/** A module whose update B A x is exactly zero: what PEFT's "no LoRA on this layer" computes. */
function zeroModule(r: number, inF: number, outF: number): { A: HostTensor; B: HostTensor } {
  return { A: { dims: [r, inF], data: new Float32Array(r * inF) }, B: { dims: [outF, r], data: new Float32Array(outF * r) } };
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
