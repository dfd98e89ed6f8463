/**
 * Hugging Face module paths recovered from ONNX node and tensor names. Every exporter derives
 * its node names from the PyTorch module path (`/model/layers.0/self_attn/q_proj/MatMul`,
 * `/model/layers.0/attn/qkv_proj/MatMul`, `model.layers.0.attn.q_norm.layernorm.weight`), which
 * is what ties a weight-consuming node to the module it belongs to.
 */
import type { OnnxNode } from './onnx-reader';


/** Path segments below `model.layers.N` that name modules (anything else is an op name). */
const LAYER_MODULE_TOKENS = new Set([
  'self_attn',
  'attn',
  'mlp',
  'q_proj',
  'k_proj',
  'v_proj',
  'o_proj',
  'qkv_proj',
  'gate_proj',
  'up_proj',
  'down_proj',
  'gate_up_proj',
  'input_layernorm',
  'post_attention_layernorm',
  'post_feedforward_layernorm',
  'q_norm',
  'k_norm',
  'final_norm_layernorm',
]);

const LINEAR_SUFFIXES = [
  'self_attn.q_proj',
  'self_attn.k_proj',
  'self_attn.v_proj',
  'self_attn.o_proj',
  'self_attn.qkv_proj',
  'mlp.gate_proj',
  'mlp.up_proj',
  'mlp.down_proj',
  'mlp.gate_up_proj',
];

const NORM_SUFFIXES = ['input_layernorm', 'post_attention_layernorm', 'post_feedforward_layernorm', 'self_attn.q_norm', 'self_attn.k_norm'];

/**
 * The Hugging Face module path a node or tensor name refers to, e.g.
 * `/model/layers.0/attn/q_proj/MatMul_Q4` -> `model.layers.0.self_attn.q_proj`,
 * `/model/embed_tokens/Gather` -> `model.embed_tokens`, `/lm_head/MatMul` -> `lm_head`,
 * `/model/norm/Mul_1` and `/model/layers.28/final_norm_layernorm/SkipLayerNorm` -> `model.norm`.
 * Returns null when the name carries no module path.
 */
export function moduleFromOnnxName(name: string): string | null {
  const tokens = name.split(/[/.]/).filter((t) => t.length > 0);
  for (let i = 0; i + 1 < tokens.length; i++) {
    if (tokens[i] !== 'layers' || !/^\d+$/.test(tokens[i + 1])) continue;
    const parts: string[] = [];
    for (let j = i + 2; j < tokens.length && LAYER_MODULE_TOKENS.has(tokens[j]); j++) {
      parts.push(tokens[j] === 'attn' ? 'self_attn' : tokens[j]);
    }
    if (parts.includes('final_norm_layernorm')) return 'model.norm';
    if (parts.length === 0) return null;
    return `model.layers.${Number(tokens[i + 1])}.${parts.join('.')}`;
  }
  if (tokens.includes('embed_tokens')) return 'model.embed_tokens';
  if (tokens.includes('lm_head')) return 'lm_head';
  for (let i = 0; i + 1 < tokens.length; i++) {
    if (tokens[i] === 'model' && (tokens[i + 1] === 'norm' || tokens[i + 1] === 'final_layernorm')) return 'model.norm';
  }
  return null;
}

export function isLinearModule(m: string): boolean {
  return m === 'lm_head' || (m.startsWith('model.layers.') && LINEAR_SUFFIXES.some((s) => m.endsWith(`.${s}`)));
}

export function isNormModule(m: string): boolean {
  return m === 'model.norm' || (m.startsWith('model.layers.') && NORM_SUFFIXES.some((s) => m.endsWith(`.${s}`)));
}

/**
 * Module of a node: from its name, else its first output's name, else the module scopes that
 * torch's dynamo exporter records in the node's metadata (`pkg.torch.onnx.name_scopes`, a list
 * such as `['', 'model', 'model.layers.0', 'model.layers.0.self_attn.q_proj', 'linear']`).
 */
export function moduleOfNode(n: OnnxNode): string | null {
  const fromName = moduleFromOnnxName(n.name) ?? (n.outputs[0] ? moduleFromOnnxName(n.outputs[0]) : null);
  if (fromName) return fromName;
  const scopes = n.metadata['pkg.torch.onnx.name_scopes'];
  if (!scopes) return null;
  const list = [...scopes.matchAll(/'([^']*)'|"([^"]*)"/g)].map((m) => m[1] ?? m[2]);
  for (let i = list.length - 1; i >= 0; i--) {
    const m = moduleFromOnnxName(list[i]);
    if (m) return m;
  }
  return null;
}

/** The HF parameter name an initializer name maps to, for 1-D tensors and the embedding. */
export function hfNameFromInitializer(name: string): string | null {
  const module = moduleFromOnnxName(name);
  if (!module) return null;
  const last = name.split(/[/.]/).filter((t) => t.length > 0).pop() ?? '';
  if (last === 'weight' || last === 'bias') return `${module}.${last}`;
  return null;
}
