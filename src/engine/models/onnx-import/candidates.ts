/**
 * Candidate tensors for each Hugging Face weight name, gathered from the graph by the layout
 * readers; the importer keeps the first candidate of the expected shape.
 */
import type { ModelConfig } from '../types';

export interface Candidate {
  dims: number[];
  /** How it was found, for error messages. */
  source: string;
  load: () => Promise<Float32Array>;
}

export class Candidates {
  readonly byName = new Map<string, Candidate[]>();

  add(name: string, c: Candidate): void {
    const list = this.byName.get(name);
    if (list) list.push(c);
    else this.byName.set(name, [c]);
  }

  addValue(name: string, dims: number[], data: Float32Array, source: string): void {
    this.add(name, { dims, source, load: async () => data });
  }
}

export function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Splits fused qkv_proj / gate_up_proj weights and biases into their HF parts (rows). */
export function splitFused(cands: Candidates, cfg: ModelConfig): void {
  const q = cfg.numHeads * cfg.headDim;
  const kv = cfg.numKvHeads * cfg.headDim;
  const I = cfg.intermediateSize;
  for (const [name, list] of [...cands.byName]) {
    const m = /^(.*)\.(qkv_proj|gate_up_proj)\.(weight|bias)$/.exec(name);
    if (!m) continue;
    const [, prefix, kind, param] = m;
    const parts: [string, number][] = kind === 'qkv_proj' ? [['q_proj', q], ['k_proj', kv], ['v_proj', kv]] : [['gate_proj', I], ['up_proj', I]];
    const rows = parts.reduce((a, [, r]) => a + r, 0);
    for (const c of list) {
      if (c.dims[0] !== rows || (param === 'weight' && c.dims.length !== 2) || (param === 'bias' && c.dims.length !== 1)) {
        for (const [part] of parts) {
          cands.add(`${prefix}.${part}.${param}`, { dims: c.dims, source: `${c.source} (fused ${kind}; expected ${rows} rows to split)`, load: c.load });
        }
        continue;
      }
      const width = param === 'weight' ? c.dims[1] : 1;
      let start = 0;
      for (const [part, r] of parts) {
        const from = start;
        cands.add(`${prefix}.${part}.${param}`, {
          dims: param === 'weight' ? [r, width] : [r],
          source: `${c.source} (split from ${kind})`,
          load: async () => (await c.load()).slice(from * width, (from + r) * width),
        });
        start += r;
      }
    }
  }
}

/** Tied embeddings: the table may only exist as the lm_head weight. */
export function addTiedEmbedding(cands: Candidates, cfg: ModelConfig): void {
  const V = cfg.vocabSize;
  const H = cfg.hiddenSize;
  const embedCands = cands.byName.get('model.embed_tokens.weight') ?? [];
  const headCands = cands.byName.get('lm_head.weight') ?? [];
  if (cfg.tieWordEmbeddings && !embedCands.some((c) => sameDims(c.dims, [V, H]))) {
    for (const c of headCands) cands.add('model.embed_tokens.weight', { ...c, source: `${c.source} (tied lm_head)` });
  }
}
