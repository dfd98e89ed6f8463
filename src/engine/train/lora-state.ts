/**
 * Trainable state: the tensors an optimizer updates, named by the graph inputs they feed.
 *
 *  - LoRA: for every layer and target projection, `<module>.lora_A` [r, in] and
 *    `<module>.lora_B` [out, r] (the decoder graph's input names, `loraInputNames`), plus the
 *    fixed scalar `lora_scale` (alpha / r, or alpha / sqrt(r) with rsLoRA) that is fed but
 *    never trained. A fresh adapter is drawn by `makeLoraAdapter` (A kaiming-uniform as in
 *    PEFT, B zero), so training starts from the base model exactly.
 *  - Full fine-tuning: every weight of the checkpoint, by its Hugging Face name. Biases and
 *    norm weights are excluded from weight decay (the transformers Trainer convention);
 *    LoRA factors all decay.
 *
 * Everything here is host-side (fp32 Float32Arrays); the trainer uploads it once and keeps
 * the live copy on the device, reading it back only when asked (export, checkpoint).
 */
import { DECODER_INPUT, loraInputNames } from '../models/decoder-graph';
import { makeLoraAdapter } from '../lora/peft';
import {
  LORA_TARGETS,
  loraScale,
  projectionPath,
  projectionShape,
  type HostTensor,
  type LoraAdapter,
  type LoraConfig,
  type LoraTarget,
  type ModelConfig,
  type WeightMap,
} from '../models/types';
import { expectedWeights } from '../models/weight-layout';
import { loraScaleFeed } from '../runtime/decoder-session';
import type { OrtModule, OrtTensor } from '../runtime/ort-types';
import type { ParamSpec } from './adamw';

export interface TrainableState {
  kind: 'lora' | 'full';
  /** Trainable tensors in a fixed order (layer, then target, A before B; or the weight layout). */
  specs: ParamSpec[];
  /** Host copies, keyed by spec name. */
  tensors: Map<string, HostTensor>;
  /** LoRA hyper-parameters (null for full fine-tuning). */
  lora: LoraConfig | null;
  /** LoRA targets in LORA_TARGETS order ([] for full fine-tuning). */
  targets: LoraTarget[];
}

export interface LoraModuleNames {
  module: string;
  layer: number;
  target: LoraTarget;
  a: string;
  b: string;
}

/** Every (layer, target) module of a LoRA config with its graph input names. */
export function loraModules(cfg: ModelConfig, targets: readonly LoraTarget[]): LoraModuleNames[] {
  const out: LoraModuleNames[] = [];
  for (let layer = 0; layer < cfg.numLayers; layer++) {
    for (const target of LORA_TARGETS) {
      if (!targets.includes(target)) continue;
      const module = projectionPath(layer, target);
      out.push({ module, layer, target, ...loraInputNames(module) });
    }
  }
  return out;
}

function copy(t: HostTensor): HostTensor {
  return { dims: [...t.dims], data: Float32Array.from(t.data) };
}

/** Trainable LoRA state holding a copy of `adapter`, checked against the model's shapes. */
export function loraStateFromAdapter(cfg: ModelConfig, adapter: LoraAdapter): TrainableState {
  const lora = { ...adapter.config, targetModules: [...adapter.config.targetModules] };
  const targets = LORA_TARGETS.filter((t) => lora.targetModules.includes(t));
  const specs: ParamSpec[] = [];
  const tensors = new Map<string, HostTensor>();
  for (const m of loraModules(cfg, targets)) {
    const pair = adapter.modules.get(m.module);
    if (!pair) throw new Error(`LoRA adapter has no weights for ${m.module} (it targets ${m.target}); training needs every layer`);
    const { inF, outF } = projectionShape(cfg, m.target);
    const r = lora.r;
    if (pair.A.dims.join(',') !== `${r},${inF}`) throw new Error(`${m.module}.lora_A is [${pair.A.dims}], expected [${r}, ${inF}]`);
    if (pair.B.dims.join(',') !== `${outF},${r}`) throw new Error(`${m.module}.lora_B is [${pair.B.dims}], expected [${outF}, ${r}]`);
    specs.push({ name: m.a, dims: [r, inF], decay: true }, { name: m.b, dims: [outF, r], decay: true });
    tensors.set(m.a, copy(pair.A));
    tensors.set(m.b, copy(pair.B));
  }
  for (const path of adapter.modules.keys()) {
    if (!tensors.has(loraInputNames(path).a)) throw new Error(`LoRA adapter module ${path} is not a projection of this model`);
  }
  return { kind: 'lora', specs, tensors, lora, targets };
}

/** Throws when the rank is larger than a targeted projection can use (checked before anything is allocated). */
export function checkLoraRank(cfg: ModelConfig, lora: LoraConfig): void {
  for (const t of lora.targetModules) {
    const { inF, outF } = projectionShape(cfg, t);
    const width = Math.min(inF, outF);
    if (lora.r > width) throw new Error(`LoRA rank ${lora.r} is larger than ${t} can use (its smaller side is ${width}); choose a rank of at most ${width}`);
  }
}

/** A fresh, seeded LoRA state: A kaiming-uniform (PEFT's default), B zero. */
export function initLoraState(cfg: ModelConfig, lora: LoraConfig, seed: number): TrainableState {
  checkLoraRank(cfg, lora);
  return loraStateFromAdapter(cfg, makeLoraAdapter(cfg, lora, seed));
}

/** The state as a LoraAdapter (copies), ready for exportPeftAdapter or ModelRunner.setAdapter. */
export function loraStateToAdapter(state: TrainableState, baseModel: string | null = null): LoraAdapter {
  if (state.kind !== 'lora' || !state.lora) throw new Error('not a LoRA state');
  const modules: LoraAdapter['modules'] = new Map();
  for (let i = 0; i < state.specs.length; i += 2) {
    const a = state.specs[i].name;
    const b = state.specs[i + 1].name;
    const module = a.slice(0, -'.lora_A'.length);
    modules.set(module, { A: copy(state.tensors.get(a)!), B: copy(state.tensors.get(b)!) });
  }
  return { config: { ...state.lora, targetModules: [...state.lora.targetModules] }, baseModel, modules };
}

/** Full fine-tuning state over every weight (copies the host weights). */
export function fullState(cfg: ModelConfig, weights: WeightMap): TrainableState {
  const specs: ParamSpec[] = [];
  const tensors = new Map<string, HostTensor>();
  for (const [name, dims] of expectedWeights(cfg)) {
    const t = weights.get(name);
    if (!t) throw new Error(`weight ${name} is missing`);
    if (t.dims.join(',') !== dims.join(',')) throw new Error(`weight ${name} has shape [${t.dims}], expected [${dims}]`);
    specs.push({ name, dims: [...dims], decay: !(name.endsWith('.bias') || /norm\.weight$/.test(name)) });
    tensors.set(name, copy(t));
  }
  return { kind: 'full', specs, tensors, lora: null, targets: [] };
}

/** A deep copy (e.g. the EMA teacher's starting point). */
export function cloneState(s: TrainableState): TrainableState {
  return {
    kind: s.kind,
    specs: s.specs.map((p) => ({ ...p, dims: [...p.dims] })),
    tensors: new Map([...s.tensors].map(([k, t]) => [k, copy(t)])),
    lora: s.lora ? { ...s.lora, targetModules: [...s.lora.targetModules] } : null,
    targets: [...s.targets],
  };
}

/** Host tensors of the state as ORT tensors keyed by graph input name (no lora_scale). */
export function stateTensors(T: OrtModule['Tensor'], s: TrainableState): Record<string, OrtTensor> {
  const out: Record<string, OrtTensor> = {};
  for (const p of s.specs) {
    const t = s.tensors.get(p.name)!;
    out[p.name] = new T('float32', t.data, t.dims);
  }
  return out;
}

/**
 * Feeds a decoder / train graph takes for this state: the LoRA factors and `lora_scale`, or,
 * for full fine-tuning, the weights.
 */
export function stateFeeds(T: OrtModule['Tensor'], s: TrainableState): Record<string, OrtTensor> {
  const out = stateTensors(T, s);
  if (s.kind === 'lora') out[DECODER_INPUT.loraScale] = loraScaleFeed(T, s.lora!);
  return out;
}

/** Copy device/host tensors back into the state's host copies. */
export async function readBackState(s: TrainableState, tensors: Record<string, OrtTensor>): Promise<void> {
  for (const p of s.specs) {
    const t = tensors[p.name];
    if (!t) throw new Error(`trainable tensor ${p.name} is missing`);
    const data = (await t.getData()) as Float32Array;
    s.tensors.set(p.name, { dims: [...p.dims], data: Float32Array.from(data) });
  }
}

/**
 * PEFT tensor name of a LoRA graph input: `model.layers.0.self_attn.q_proj.lora_A` ->
 * `base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight`.
 */
export function peftTensorName(inputName: string): string {
  const m = /^(.+)\.lora_([AB])$/.exec(inputName);
  if (!m) throw new Error(`${inputName} is not a LoRA input name`);
  return `base_model.model.${m[1]}.lora_${m[2]}.weight`;
}
