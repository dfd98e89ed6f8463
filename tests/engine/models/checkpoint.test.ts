import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeTinyCheckpoint, makeTinyConfig, makeTinyTokenizer, makeTinyWeights, writeTinyCheckpoint } from '../../../scripts/tiny-model';
import { loadCheckpoint } from '../../../src/engine/models/checkpoint';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from '../../../src/engine/onnx/half';
import { NodeFolderSource } from '../../../src/engine/models/node-source';
import { readSafetensors, writeSafetensors } from '../../../src/engine/models/safetensors';
import { type Family, ModelFormatError } from '../../../src/engine/models/types';
import { expectedWeights } from '../../../src/engine/models/weight-layout';
import { parseModelConfig } from '../../../src/engine/models/config';
import { jsonBytes, MemorySource, parseJsonFile, utf8 } from '../../support/memory-source';

const FAMILIES: Family[] = ['qwen2', 'qwen3', 'llama', 'olmo2'];
const DTYPES = ['F32', 'F16', 'BF16'] as const;

const roundTo = (dtype: (typeof DTYPES)[number], v: number): number =>
  dtype === 'F32' ? Math.fround(v) : dtype === 'F16' ? f16ToF32(f32ToF16(v)) : bf16ToF32(f32ToBf16(v));

async function expectLoadError(src: MemorySource, file: string, pattern: RegExp, opts = {}): Promise<ModelFormatError> {
  try {
    await loadCheckpoint(src, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(ModelFormatError);
    expect((e as ModelFormatError).file).toBe(file);
    expect((e as Error).message).toMatch(pattern);
    return e as ModelFormatError;
  }
  throw new Error('expected a ModelFormatError');
}

/** Rewrite model.safetensors of a single-file fixture through `edit`. */
function editWeights(files: Map<string, Uint8Array>, edit: (t: Map<string, { dims: number[]; data: Float32Array }>) => void): void {
  const { tensors } = readSafetensors(files.get('model.safetensors')!, 'model.safetensors');
  edit(tensors);
  files.set('model.safetensors', writeSafetensors(tensors, 'F32'));
}

describe('loadCheckpoint over generated fixtures', () => {
  for (const family of FAMILIES) {
    for (const tied of [false, true]) {
      for (const dtype of DTYPES) {
        for (const shards of [1, 3]) {
          it(`${family} ${tied ? 'tied' : 'untied'} ${dtype} ${shards === 1 ? 'single file' : `${shards} shards`}`, async () => {
            const opts = { family, seed: 11, tied, dtype, shards, layout: shards === 1 ? ('classic' as const) : ('v5' as const) };
            const files = makeTinyCheckpoint(opts);
            const src = new MemorySource(files);
            const progress: [number, number, string][] = [];
            const ck = await loadCheckpoint(src, { onProgress: (d, t, f) => progress.push([d, t, f]) });

            const expected = expectedWeights(ck.config);
            expect([...ck.weights.keys()].sort()).toEqual([...expected.keys()].sort());
            expect(ck.weights.has('lm_head.weight')).toBe(!tied);
            const reference = makeTinyWeights(parseJsonFile(files, 'config.json'), 11);
            for (const [name, t] of ck.weights) {
              expect(t.dims, name).toEqual(expected.get(name));
              const ref = reference.get(name)!.data;
              for (let i = 0; i < ref.length; i += 37) expect(t.data[i]).toBe(roundTo(dtype, ref[i]));
            }
            expect(ck.config.family).toBe(family);
            expect(ck.config.tieWordEmbeddings).toBe(tied);
            const tok = makeTinyTokenizer();
            // generation_config.json adds <|endoftext|> to the config's <|im_end|>.
            expect(ck.config.eosTokenIds).toEqual([tok.ids.imEnd, tok.ids.endoftext]);
            expect(ck.tokenizerJson).toMatchObject({ model: { type: 'BPE' } });
            expect(ck.tokenizerConfig).toMatchObject({ eos_token: '<|im_end|>' });
            expect(ck.generationConfig).toMatchObject({ eos_token_id: [tok.ids.imEnd, tok.ids.endoftext] });
            expect(progress[0]).toEqual([0, shards, progress[1][2]]);
            expect(progress.at(-1)![0]).toBe(shards);
            // Each weight file is read once, byte for byte, through ranges: never whole.
            expect([...src.reads.keys()].sort()).toEqual([...files.keys()].filter((f) => f.endsWith('.safetensors')).sort());
            for (const name of src.reads.keys()) {
              expect(src.wholeReads.get(name) ?? 0, `${name} never read whole`).toBe(0);
              expect(src.bytesRead.get(name), `${name} read once`).toBe(files.get(name)!.length);
            }
          });
        }
      }
    }
  }

  it('loads llama with biases and llama3 rope scaling', async () => {
    const files = makeTinyCheckpoint({ family: 'llama', seed: 3, attentionBias: true, mlpBias: true, ropeScaling: true });
    const ck = await loadCheckpoint(new MemorySource(files));
    for (const n of ['q_proj', 'k_proj', 'v_proj', 'o_proj']) expect(ck.weights.has(`model.layers.1.self_attn.${n}.bias`)).toBe(true);
    expect(ck.weights.get('model.layers.0.mlp.down_proj.bias')!.dims).toEqual([64]);
    expect(ck.config.ropeScaling?.type).toBe('llama3');
  });

  it('loads from disk with NodeFolderSource (range reads included)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tiny-'));
    try {
      await writeTinyCheckpoint(dir, { family: 'qwen3', seed: 5, shards: 2 });
      const src = new NodeFolderSource(dir);
      expect(await src.has('config.json')).toBe(true);
      expect(await src.has('nope.json')).toBe(false);
      await expect(src.bytes('nope.json')).rejects.toThrow(/nope\.json/);
      await expect(src.bytes('../etc/passwd')).rejects.toThrow(/outside the model folder/);
      const whole = await src.bytes('config.json');
      expect(await src.range('config.json', 2, 10)).toEqual(whole.slice(2, 10));
      expect(await src.size('config.json')).toBe(whole.length);
      const ck = await loadCheckpoint(src);
      expect(ck.weights.size).toBe(expectedWeights(ck.config).size);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('is deterministic per seed', () => {
    const a = makeTinyCheckpoint({ family: 'olmo2', seed: 9 });
    const b = makeTinyCheckpoint({ family: 'olmo2', seed: 9 });
    const c = makeTinyCheckpoint({ family: 'olmo2', seed: 10 });
    const same = (x: Uint8Array, y: Uint8Array) => Buffer.from(x).equals(Buffer.from(y));
    expect(same(a.get('model.safetensors')!, b.get('model.safetensors')!)).toBe(true);
    expect(same(a.get('model.safetensors')!, c.get('model.safetensors')!)).toBe(false);
    expect(same(a.get('tokenizer.json')!, c.get('tokenizer.json')!)).toBe(true);
  });

  it('makes logits that are not flat (weights carry scale)', () => {
    const w = makeTinyWeights(makeTinyConfig({ family: 'qwen3', seed: 1 }, makeTinyTokenizer()), 1);
    const q = w.get('model.layers.0.self_attn.q_proj.weight')!.data;
    const std = Math.sqrt(q.reduce((s, v) => s + v * v, 0) / q.length);
    expect(std).toBeGreaterThan(0.1);
    expect(std).toBeLessThan(0.2);
  });
});

describe('loadCheckpoint errors', () => {
  const fresh = (opts: Partial<Parameters<typeof makeTinyCheckpoint>[0]> = {}) =>
    makeTinyCheckpoint({ family: 'qwen3', seed: 2, ...opts });
  const Q = 'model.layers.1.self_attn.q_proj.weight';

  it('missing tensor', async () => {
    const files = fresh();
    editWeights(files, (t) => t.delete(Q));
    await expectLoadError(new MemorySource(files), 'model.safetensors', new RegExp(`missing tensor ${Q.replace(/\./g, '\\.')}`));
  });
  it('mis-shaped tensor', async () => {
    const files = fresh();
    editWeights(files, (t) => t.set(Q, { dims: [32, 64], data: new Float32Array(32 * 64) }));
    await expectLoadError(new MemorySource(files), 'model.safetensors', /tensor model\.layers\.1\.self_attn\.q_proj\.weight has shape \[32, 64\], expected \[64, 64\]/);
  });
  it('unexpected extra tensor', async () => {
    const files = fresh();
    editWeights(files, (t) => t.set('model.layers.0.mlp.extra.weight', { dims: [1], data: new Float32Array(1) }));
    await expectLoadError(new MemorySource(files), 'model.safetensors', /unexpected tensor model\.layers\.0\.mlp\.extra\.weight/);
  });
  it('a bias the config does not call for is unexpected', async () => {
    const files = fresh({ family: 'llama' });
    editWeights(files, (t) => t.set('model.layers.0.self_attn.q_proj.bias', { dims: [64], data: new Float32Array(64) }));
    await expectLoadError(new MemorySource(files), 'model.safetensors', /unexpected tensor model\.layers\.0\.self_attn\.q_proj\.bias/);
  });
  it('harmless extras: rotary inv_freq buffers and lm_head when tied', async () => {
    const files = fresh({ tied: true });
    editWeights(files, (t) => {
      t.set('model.layers.0.self_attn.rotary_emb.inv_freq', { dims: [8], data: new Float32Array(8) });
      t.set('model.rotary_emb.inv_freq', { dims: [8], data: new Float32Array(8) });
      t.set('lm_head.weight', { ...t.get('model.embed_tokens.weight')! });
    });
    const ck = await loadCheckpoint(new MemorySource(files));
    expect(ck.weights.has('lm_head.weight')).toBe(false);
    expect(ck.weights.has('model.rotary_emb.inv_freq')).toBe(false);
  });
  it('unsupported dtype on a needed tensor', async () => {
    const files = fresh();
    const { tensors } = readSafetensors(files.get('model.safetensors')!, 'model.safetensors');
    const buf = writeSafetensors(tensors, 'F32');
    // Relabel the (8-byte aligned) header in place: F32 -> I32 keeps the byte count.
    const n = new DataView(buf.buffer).getUint32(0, true);
    const header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + n)));
    header['model.norm.weight'].dtype = 'I32';
    const text = JSON.stringify(header).padEnd(n, ' ');
    buf.set(utf8(text), 8);
    files.set('model.safetensors', buf);
    await expectLoadError(new MemorySource(files), 'model.safetensors', /tensor "model\.norm\.weight": dtype I32 is not supported/);
  });
  it('tensor larger than the device binding limit', async () => {
    const files = fresh();
    const src = new MemorySource(files);
    // embed_tokens is 384 x 64 fp32 = 98304 bytes; the layer matrices are far smaller.
    const e = await expectLoadError(src, 'config.json', /tensor model\.embed_tokens\.weight \[384, 64\] takes 98304 bytes .* limit of 65536 bytes/, { maxTensorBytes: 65536 });
    expect(e.message).toMatch(/lm_head|embed_tokens/);
    expect(src.reads.has('model.safetensors')).toBe(false); // rejected before any weights were read
    await loadCheckpoint(new MemorySource(fresh()), { maxTensorBytes: 98304 });
  });
  it('NaN or infinite weights are refused, naming the file and tensor', async () => {
    for (const [dtype, bad] of [['F32', NaN], ['BF16', Infinity], ['F16', -Infinity]] as const) {
      const files = fresh({ dtype });
      const { tensors } = readSafetensors(files.get('model.safetensors')!, 'model.safetensors');
      tensors.get(Q)!.data[7] = bad;
      files.set('model.safetensors', writeSafetensors(tensors, dtype));
      await expectLoadError(new MemorySource(files), 'model.safetensors', new RegExp(`tensor "${Q.replace(/\./g, '\\.')}": element 7 is ${bad}; weights must be finite`));
    }
  });
  it('a config with 10^6 or 10^7 layers is refused from config.json alone, naming the field and the estimate', async () => {
    for (const layers of [1e6, 1e7]) {
      const files = fresh();
      files.set('config.json', jsonBytes({ ...parseJsonFile(files, 'config.json'), num_hidden_layers: layers }));
      const src = new MemorySource(files);
      const t0 = performance.now();
      const e = await expectLoadError(src, 'config.json', new RegExp(`num_hidden_layers ${layers} x`));
      expect(performance.now() - t0).toBeLessThan(1000);
      expect(src.reads.size).toBe(0); // no weight file touched
      expect(e.message).toMatch(/this config implies \d+ bytes \([\d.]+ (GiB|TiB)\) of fp32 weights \(num_hidden_layers \d+ x 123520 bytes \(120\.6 KiB\) per layer, plus .* \(vocab_size 384 x hidden_size 64\)\), more than the limit of 68719476736 bytes \(64\.0 GiB\) \(maxWeightBytes\); nothing was read or allocated/);
    }
    // Within the byte cap, the tensor count still has a cap of its own.
    const files = fresh();
    files.set('config.json', jsonBytes({ ...parseJsonFile(files, 'config.json'), num_hidden_layers: 1e6 }));
    await expectLoadError(
      new MemorySource(files),
      'config.json',
      /num_hidden_layers 1000000 implies 11000003 weight tensors, more than the limit of 100000 \(maxTensors\)/,
      { limits: { maxWeightBytes: 2 ** 40 } },
    );
    // And a small cap refuses even the tiny model, before any weights are read.
    await expectLoadError(new MemorySource(fresh()), 'config.json', /more than the limit of 1000 bytes/, { limits: { maxWeightBytes: 1000 } });
  });
  it('no weights at all', async () => {
    const files = fresh();
    files.delete('model.safetensors');
    await expectLoadError(new MemorySource(files), 'model.safetensors', /no model\.safetensors or model\.safetensors\.index\.json/);
  });
  it('missing config.json', async () => {
    const files = fresh();
    files.delete('config.json');
    await expectLoadError(new MemorySource(files), 'config.json', /missing from memory/);
  });
  it('JSON errors name the file', async () => {
    for (const name of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json']) {
      const files = fresh();
      files.set(name, utf8('{ not json'));
      await expectLoadError(new MemorySource(files), name, /not valid JSON/);
    }
  });
  it('generation_config eos out of range', async () => {
    const files = fresh();
    files.set('generation_config.json', jsonBytes({ eos_token_id: [100000] }));
    await expectLoadError(new MemorySource(files), 'generation_config.json', /eos_token_id/);
  });
  it('bad config surfaces as config.json error', async () => {
    const files = fresh();
    files.set('config.json', jsonBytes({ ...parseJsonFile(files, 'config.json'), model_type: 'mistral' }));
    await expectLoadError(new MemorySource(files), 'config.json', /unsupported model_type "mistral"/);
  });

  describe('sharded', () => {
    const I = 'model.safetensors.index.json';
    const index = (files: Map<string, Uint8Array>) => parseJsonFile(files, I) as { weight_map: Record<string, string> };

    it('tensor missing from weight_map', async () => {
      const files = fresh({ shards: 2 });
      const idx = index(files);
      delete idx.weight_map[Q];
      files.set(I, jsonBytes(idx));
      await expectLoadError(new MemorySource(files), I, /missing tensor model\.layers\.1\.self_attn\.q_proj\.weight in weight_map/);
    });
    it('shard file missing', async () => {
      const files = fresh({ shards: 2 });
      files.delete('model-00002-of-00002.safetensors');
      await expectLoadError(new MemorySource(files), 'model-00002-of-00002.safetensors', /shard listed in .* is missing/);
    });
    it('index points at the wrong shard', async () => {
      const files = fresh({ shards: 2 });
      const idx = index(files);
      const first = Object.keys(idx.weight_map).sort()[0];
      idx.weight_map[first] = 'model-00002-of-00002.safetensors';
      files.set(I, jsonBytes(idx));
      await expectLoadError(new MemorySource(files), 'model-00001-of-00002.safetensors', new RegExp(`tensor ${first.replace(/\./g, '\\.')} is listed in`));
    });
    it('unexpected tensor in weight_map', async () => {
      const files = fresh({ shards: 2 });
      const idx = index(files);
      idx.weight_map['model.layers.9.mlp.up_proj.weight'] = 'model-00001-of-00002.safetensors';
      files.set(I, jsonBytes(idx));
      await expectLoadError(new MemorySource(files), I, /unexpected tensor model\.layers\.9\.mlp\.up_proj\.weight/);
    });
    it('unsafe shard name', async () => {
      const files = fresh({ shards: 2 });
      const idx = index(files);
      idx.weight_map[Q] = '../x.safetensors';
      files.set(I, jsonBytes(idx));
      await expectLoadError(new MemorySource(files), I, /not a plain \.safetensors file name/);
    });
    it('mis-shaped tensor in a shard names the shard', async () => {
      const files = fresh({ shards: 2 });
      const shard = index(files).weight_map[Q];
      const { tensors } = readSafetensors(files.get(shard)!, shard);
      tensors.set(Q, { dims: [64, 63], data: new Float32Array(64 * 63) });
      files.set(shard, writeSafetensors(tensors, 'F32'));
      await expectLoadError(new MemorySource(files), shard, /q_proj\.weight has shape \[64, 63\]/);
    });
  });
});

describe('expectedWeights', () => {
  const tok = makeTinyTokenizer();
  const cfg = (family: Family, extra: object = {}) => parseModelConfig(makeTinyConfig({ family, seed: 0, ...extra }, tok));
  it('family-specific tensors', () => {
    const q2 = expectedWeights(cfg('qwen2'));
    expect(q2.get('model.layers.0.self_attn.k_proj.bias')).toEqual([32]);
    expect(q2.has('model.layers.0.self_attn.o_proj.bias')).toBe(false);
    expect(q2.has('model.layers.0.self_attn.q_norm.weight')).toBe(false);
    const q3 = expectedWeights(cfg('qwen3'));
    expect(q3.get('model.layers.0.self_attn.q_norm.weight')).toEqual([16]);
    expect(q3.get('model.layers.0.self_attn.k_norm.weight')).toEqual([16]);
    const o2 = expectedWeights(cfg('olmo2'));
    expect(o2.has('model.layers.0.input_layernorm.weight')).toBe(false);
    expect(o2.get('model.layers.0.post_feedforward_layernorm.weight')).toEqual([64]);
    expect(o2.get('model.layers.0.post_attention_layernorm.weight')).toEqual([64]);
    expect(o2.get('model.layers.0.self_attn.q_norm.weight')).toEqual([64]);
    expect(o2.get('model.layers.0.self_attn.k_norm.weight')).toEqual([32]);
    const ll = expectedWeights(cfg('llama', { tied: true }));
    expect(ll.has('lm_head.weight')).toBe(false);
    expect(ll.get('model.layers.1.mlp.down_proj.weight')).toEqual([64, 96]);
    expect(ll.get('model.layers.1.self_attn.o_proj.weight')).toEqual([64, 64]);
    expect(ll.get('model.layers.1.self_attn.v_proj.weight')).toEqual([32, 64]);
    // 2 layers x (2 norms + 4 attn + 3 mlp) + embed + final norm
    expect(ll.size).toBe(2 * 9 + 2);
  });
});
