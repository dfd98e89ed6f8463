import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importOnnxWeights, moduleFromOnnxName, moduleOfNode } from '../../../../src/engine/models/onnx-import/import';
import { expectedWeights } from '../../../../src/engine/models/weight-layout';
import { ModelFormatError, type ModelConfig, type WeightMap } from '../../../../src/engine/models/types';
import { attr } from '../../../../src/engine/onnx/graph';
import { ProtoWriter } from '../../../../src/engine/onnx/protobuf';
import { decodeModel, ProtoReader } from '../../../../src/engine/models/onnx-import/onnx-reader';
import { Graph } from '../../../../src/engine/onnx/graph';
import {
  concatBytes,
  matmulT,
  maxAbsDiff,
  randomWeights,
  roundF16,
  serialize,
  tinyConfig,
  writeGenaiStyle,
  withExternalData,
  writeOptimumStyle,
  type Writer,
} from './helpers';

function expectSameLayout(got: WeightMap, cfg: ModelConfig): void {
  const exp = expectedWeights(cfg);
  expect([...got.keys()].sort()).toEqual([...exp.keys()].sort());
  for (const [name, dims] of exp) expect(got.get(name)!.dims, name).toEqual(dims);
}

function expectWeightsEqual(got: WeightMap, want: WeightMap, cfg: ModelConfig, map: (name: string, v: Float32Array) => Float32Array = (_, v) => v): void {
  expectSameLayout(got, cfg);
  for (const name of expectedWeights(cfg).keys()) {
    expect(maxAbsDiff(got.get(name)!.data, map(name, want.get(name)!.data)), name).toBe(0);
  }
}

/** Expected weights of a quantized export: dequantized references for quantized modules. */
function dequantizedReference(wr: Writer, w: WeightMap, cfg: ModelConfig): (name: string, v: Float32Array) => Float32Array {
  const q = cfg.numHeads * cfg.headDim;
  const kv = cfg.numKvHeads * cfg.headDim;
  const H = cfg.hiddenSize;
  return (name, v) => {
    const m = /^(.*)\.weight$/.exec(name);
    if (!m) return v;
    const direct = wr.quantized.get(m[1]);
    if (direct) return direct.deq;
    const qkv = /^(.*)\.(q_proj|k_proj|v_proj)$/.exec(m[1]);
    const fused = qkv && wr.quantized.get(`${qkv[1]}.qkv_proj`);
    if (fused && qkv) {
      const [from, rows] = qkv[2] === 'q_proj' ? [0, q] : qkv[2] === 'k_proj' ? [q, kv] : [q + kv, kv];
      return fused.deq.slice(from * H, (from + rows) * H);
    }
    if (name === 'model.embed_tokens.weight' && cfg.tieWordEmbeddings && wr.quantized.get('lm_head')) return wr.quantized.get('lm_head')!.deq;
    return v;
  };
}

/** Runs the export in onnxruntime and checks every MatMulNBits output against x @ W^T with the imported W. */
async function checkAgainstOrt(wr: Writer, bytes: Uint8Array, got: WeightMap, cfg: ModelConfig): Promise<void> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const ids = [3, 17, 0, cfg.vocabSize - 1];
    const res = await session.run({ input_ids: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [1, ids.length]) });
    const qd = cfg.numHeads * cfg.headDim;
    const kvd = cfg.numKvHeads * cfg.headDim;
    let checked = 0;
    for (const [module, { x, y }] of wr.nbitsIO) {
      const xv = res[x].data as Float32Array;
      const yv = res[y].data as Float32Array;
      let W: Float32Array;
      let N: number;
      if (module.endsWith('.qkv_proj')) {
        const base = module.slice(0, -'qkv_proj'.length);
        W = concatBytesF32(got.get(`${base}q_proj.weight`)!.data, got.get(`${base}k_proj.weight`)!.data, got.get(`${base}v_proj.weight`)!.data);
        N = qd + 2 * kvd;
      } else if (module === 'lm_head' && cfg.tieWordEmbeddings) {
        W = got.get('model.embed_tokens.weight')!.data;
        N = cfg.vocabSize;
      } else {
        const t = got.get(`${module}.weight`)!;
        W = t.data;
        N = t.dims[0];
      }
      const K = W.length / N;
      const rows = xv.length / K;
      const want = matmulT(xv, rows, W, N, K);
      const scale = Math.max(1e-3, ...Array.from(want, Math.abs));
      expect(maxAbsDiff(yv, want) / scale, module).toBeLessThan(1e-5);
      checked++;
    }
    expect(checked).toBe(wr.nbitsIO.size);
    const gbq = [...Object.keys(res)].find((k) => k.includes('GatherBlockQuantized'));
    if (gbq) {
      const H = cfg.hiddenSize;
      const table = got.get('model.embed_tokens.weight')!.data;
      const want = ids.flatMap((i) => Array.from(table.subarray(i * H, (i + 1) * H)));
      expect(maxAbsDiff(res[gbq].data as Float32Array, want)).toBeLessThan(1e-6);
    }
  } finally {
    await session.release();
  }
}

function concatBytesF32(...parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

describe('moduleFromOnnxName', () => {
  it('recovers HF module paths from the names each exporter writes', () => {
    expect(moduleFromOnnxName('/model/layers.0/self_attn/q_proj/MatMul')).toBe('model.layers.0.self_attn.q_proj');
    expect(moduleFromOnnxName('/model/layers.11/mlp/down_proj/MatMul_Q4')).toBe('model.layers.11.mlp.down_proj');
    expect(moduleFromOnnxName('/model/layers.3/attn/qkv_proj/MatMul')).toBe('model.layers.3.self_attn.qkv_proj');
    expect(moduleFromOnnxName('model.layers.0.attn.q_proj.MatMul.weight_Q4')).toBe('model.layers.0.self_attn.q_proj');
    expect(moduleFromOnnxName('/model/model/layers.2/self_attn/o_proj/MatMul')).toBe('model.layers.2.self_attn.o_proj');
    expect(moduleFromOnnxName('/model/layers.1/self_attn/q_proj/MatMul_output_0')).toBe('model.layers.1.self_attn.q_proj');
    expect(moduleFromOnnxName('/model/layers.0/self_attn/q_norm/Mul_1')).toBe('model.layers.0.self_attn.q_norm');
    expect(moduleFromOnnxName('model.layers.0.attn.k_norm.layernorm.weight')).toBe('model.layers.0.self_attn.k_norm');
    expect(moduleFromOnnxName('/model/layers.28/final_norm_layernorm/SkipLayerNorm')).toBe('model.norm');
    expect(moduleFromOnnxName('/model/norm/Mul_1')).toBe('model.norm');
    expect(moduleFromOnnxName('/model/embed_tokens/GatherBlockQuantized')).toBe('model.embed_tokens');
    expect(moduleFromOnnxName('/lm_head/MatMul_Q4')).toBe('lm_head');
    expect(moduleFromOnnxName('/model/layers.0/self_attn/MatMul')).toBe('model.layers.0.self_attn');
    expect(moduleFromOnnxName('/model/rotary_emb/MatMul')).toBeNull();
    expect(moduleFromOnnxName('onnx::MatMul_1234')).toBeNull();
  });

  it('falls back to the module scopes torch dynamo exports keep in node metadata', () => {
    const node = new ProtoWriter();
    node.string(1, 'x');
    node.string(1, 'p_model_layers_0_self_attn_q_proj_weight');
    node.string(2, 'val_7');
    node.string(3, 'node_MatMul_7');
    node.string(4, 'MatMul');
    const md = new ProtoWriter();
    md.string(1, 'pkg.torch.onnx.name_scopes');
    md.string(2, "['', 'model', 'model.layers.0', 'model.layers.0.self_attn', 'model.layers.0.self_attn.q_proj', 'linear']");
    node.message(9, md);
    const graph = new ProtoWriter();
    graph.message(1, node);
    const model = new ProtoWriter();
    model.int(1, 10);
    model.message(7, graph);
    const n = decodeModel(model.finish()).graph.nodes[0];
    expect(n.metadata['pkg.torch.onnx.name_scopes']).toContain('q_proj');
    expect(moduleOfNode(n)).toBe('model.layers.0.self_attn.q_proj');
  });
});

describe('importOnnxWeights: torch.onnx / Optimum layout (transformers.js model.onnx, model_fp16.onnx)', () => {
  it('qwen2 fp32: transposed onnx::MatMul_N initializers, bias Adds, decomposed RMSNorms', async () => {
    const cfg = tinyConfig('qwen2');
    const w = randomWeights(cfg, 11);
    const wr = writeOptimumStyle(cfg, w, { dtype: 'float32', linear: 'matmul' });
    expect(wr.g.initializers.some((i) => i.name.startsWith('onnx::MatMul_'))).toBe(true);
    const bytes = wr.finish();
    // The test file is a real, loadable ONNX model.
    await (await ort.InferenceSession.create(bytes)).release();
    const got = await importOnnxWeights(bytes, cfg);
    expectWeightsEqual(got, w, cfg);
  });

  it('qwen3 fp16 with q/k norms and tied embeddings (lm_head = MatMul over Transpose(embed))', async () => {
    const cfg = tinyConfig('qwen3', { tieWordEmbeddings: true });
    const w = randomWeights(cfg, 12);
    const wr = writeOptimumStyle(cfg, w, { dtype: 'float16', linear: 'matmul' }, { tiedVia: 'transpose' });
    const got = await importOnnxWeights(wr.finish(), cfg);
    expectWeightsEqual(got, w, cfg, (_, v) => roundF16(v));
    expect(got.has('lm_head.weight')).toBe(false);
  });

  it('olmo2 fp32: post-norms and full-width q/k norms; llama fp16 with a separate lm_head', async () => {
    const olmo = tinyConfig('olmo2');
    const w1 = randomWeights(olmo, 13);
    expectWeightsEqual(await importOnnxWeights(writeOptimumStyle(olmo, w1, { dtype: 'float32', linear: 'matmul' }).finish(), olmo), w1, olmo);
    const llama = tinyConfig('llama', { attentionBias: true, outputBias: true, mlpBias: true });
    const w2 = randomWeights(llama, 14);
    expectWeightsEqual(await importOnnxWeights(writeOptimumStyle(llama, w2, { dtype: 'float16', linear: 'matmul' }).finish(), llama), w2, llama, (_, v) => roundF16(v));
  });

  it('finds weights used inside If branches of a merged decoder (decoder_model_merged.onnx)', async () => {
    const cfg = tinyConfig('qwen2', { tieWordEmbeddings: true });
    const w = randomWeights(cfg, 16);
    const wr = writeOptimumStyle(cfg, w, { dtype: 'float32', linear: 'matmul' }, { tiedVia: 'transpose' });
    const inits = wr.g.initializers.splice(0, wr.g.initializers.length);
    // The branch body: the writer's graph without its initializers, as GraphProto bytes.
    const r = new ProtoReader(serialize(wr.g));
    let body: Uint8Array | null = null;
    while (!r.eof()) {
      const t = r.tag();
      if (t.field === 7) body = r.bytes();
      else r.skip(t.wire, t.field);
    }
    const outer = new Graph('merged');
    outer.input('use_cache_branch', 'bool', [1]);
    for (const i of inits) outer.initializer(i.name, i.tensor);
    const ifNode = new ProtoWriter();
    ifNode.string(1, 'use_cache_branch');
    ifNode.string(2, 'logits');
    ifNode.string(3, 'optimum::if');
    ifNode.string(4, 'If');
    for (const branch of ['then_branch', 'else_branch']) {
      const a = new ProtoWriter();
      a.string(1, branch);
      a.bytes(6, body!);
      a.int(20, 5);
      ifNode.message(5, a);
    }
    const extra = new ProtoWriter();
    extra.message(1, ifNode);
    const tail = new ProtoWriter();
    tail.message(7, extra);
    const got = await importOnnxWeights(concatBytes(serialize(outer), tail.finish()), cfg);
    expectWeightsEqual(got, w, cfg);
  });

  it('reads weights stored in an external data file (model.onnx + model.onnx_data)', async () => {
    const cfg = tinyConfig('llama', { tieWordEmbeddings: true });
    const w = randomWeights(cfg, 15);
    const wr = writeOptimumStyle(cfg, w, { dtype: 'float32', linear: 'matmul' }, { tiedVia: 'transpose' });
    // Move every initializer of 64+ elements into the data file.
    const { bytes, dataFile } = withExternalData(wr);

    // onnxruntime accepts the pair, so the fixture is a faithful external-data model.
    const dir = mkdtempSync(join(tmpdir(), 'onnx-ext-'));
    try {
      writeFileSync(join(dir, 'model.onnx'), bytes);
      writeFileSync(join(dir, 'model.onnx_data'), dataFile);
      await (await ort.InferenceSession.create(join(dir, 'model.onnx'))).release();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    const reads: string[] = [];
    const got = await importOnnxWeights(bytes, cfg, {
      externalData: async (location, off, len) => {
        reads.push(location);
        return dataFile.slice(off, off + len);
      },
    });
    expectWeightsEqual(got, w, cfg);
    expect(reads.length).toBeGreaterThan(0);
    expect(new Set(reads)).toEqual(new Set(['model.onnx_data']));

    await expect(importOnnxWeights(bytes, cfg, { fileName: 'onnx/model.onnx' })).rejects.toThrow(/onnx\/model\.onnx: .*external data file "model\.onnx_data"/);
    await expect(importOnnxWeights(bytes, cfg, { externalData: () => new Uint8Array(3) })).rejects.toThrow(/returned 3 bytes/);
  });
});

describe('importOnnxWeights: MatMulNBits exports (model_q4.onnx, model_q4f16.onnx)', () => {
  it('transformers.js q4 (symmetric, onnx::MatMul_N_Q4) matches onnxruntime, llama untied', async () => {
    const cfg = tinyConfig('llama');
    const w = randomWeights(cfg, 21);
    const wr = writeOptimumStyle(cfg, w, { dtype: 'float32', linear: 'nbits', zp: 'none', blockSize: 16 }, { debugOutputs: true });
    expect(wr.g.nodes.some((n) => n.opType === 'MatMulNBits' && n.name === '/model/layers.0/self_attn/q_proj/MatMul_Q4')).toBe(true);
    expect(wr.g.initializers.some((i) => /^onnx::MatMul_\d+_Q4$/.test(i.name))).toBe(true);
    const bytes = wr.finish();
    const got = await importOnnxWeights(bytes, cfg);
    expectWeightsEqual(got, w, cfg, dequantizedReference(wr, w, cfg));
    await checkAgainstOrt(wr, bytes, got, cfg);
  });

  it('q4f16-style (fp16 scales and weights, asymmetric zero points) for qwen3', async () => {
    const cfg = tinyConfig('qwen3');
    const w = randomWeights(cfg, 22);
    const wr = writeOptimumStyle(cfg, w, { dtype: 'float16', linear: 'nbits', zp: 'packed', blockSize: 32 });
    const got = await importOnnxWeights(wr.finish(), cfg);
    expectSameLayout(got, cfg);
    for (const [name] of expectedWeights(cfg)) {
      const m = /^(.*)\.weight$/.exec(name);
      const q = m && wr.quantized.get(m[1]);
      if (!q) {
        expect(maxAbsDiff(got.get(name)!.data, roundF16(w.get(name)!.data)), name).toBe(0);
        continue;
      }
      // Scales were stored as fp16: the codes are the same, each block's scale is rounded.
      const nb = Math.ceil(q.K / q.blockSize);
      const zpRow = Math.ceil(nb / 2);
      const scales = roundF16(q.scales);
      const want = new Float32Array(q.N * q.K);
      for (let n = 0; n < q.N; n++) {
        for (let k = 0; k < q.K; k++) {
          const blk = Math.floor(k / q.blockSize);
          const zpByte = (q.zp as Uint8Array)[n * zpRow + (blk >> 1)];
          const z = blk & 1 ? zpByte >> 4 : zpByte & 15;
          const byte = q.b[(n * nb + blk) * (q.blockSize / 2) + ((k % q.blockSize) >> 1)];
          const code = k % 2 ? byte >> 4 : byte & 15;
          want[n * q.K + k] = (code - z) * scales[n * nb + blk];
        }
      }
      expect(maxAbsDiff(got.get(name)!.data, want), name).toBe(0);
    }
  });

  it('onnxruntime-genai builder q4: fused qkv with packed bias, Skip/SimplifiedLayerNormalization, tied GatherBlockQuantized embedding (qwen2)', async () => {
    const cfg = tinyConfig('qwen2', { tieWordEmbeddings: true });
    const w = randomWeights(cfg, 31);
    const wr = writeGenaiStyle(cfg, w, { dtype: 'float32', linear: 'nbits', zp: 'packed', blockSize: 16 }, { debugOutputs: true });
    expect(wr.g.initializers.some((i) => i.name === 'model.layers.0.attn.qkv_proj.MatMul.weight_Q4')).toBe(true);
    const bytes = wr.finish();
    const got = await importOnnxWeights(bytes, cfg);
    expectWeightsEqual(got, w, cfg, dequantizedReference(wr, w, cfg));
    await checkAgainstOrt(wr, bytes, got, cfg);
  });

  it('onnxruntime-genai builder q4 for qwen3 (q/k norms via SimplifiedLayerNormalization), symmetric, untied', async () => {
    const cfg = tinyConfig('qwen3');
    const w = randomWeights(cfg, 32);
    const wr = writeGenaiStyle(cfg, w, { dtype: 'float32', linear: 'nbits', zp: 'none', blockSize: 32 }, { debugOutputs: true });
    const bytes = wr.finish();
    const got = await importOnnxWeights(bytes, cfg);
    expectWeightsEqual(got, w, cfg, dequantizedReference(wr, w, cfg));
    await checkAgainstOrt(wr, bytes, got, cfg);
  });

  it('onnxruntime-genai builder fp16 with fused GQA q/k norms (found by initializer name) and tied Transpose->Gather embedding', async () => {
    const cfg = tinyConfig('qwen3', { tieWordEmbeddings: true });
    const w = randomWeights(cfg, 33);
    const wr = writeGenaiStyle(cfg, w, { dtype: 'float16', linear: 'matmul' }, { qkNormVia: 'gqa-initializers' });
    const got = await importOnnxWeights(wr.finish(), cfg);
    expectWeightsEqual(got, w, cfg, (_, v) => roundF16(v));
  });
});

describe('importOnnxWeights: errors', () => {
  it('names the file and the missing tensors', async () => {
    const cfg = tinyConfig('llama');
    const w = randomWeights(cfg, 41);
    const wr = writeOptimumStyle(cfg, w, { dtype: 'float32', linear: 'matmul' });
    // Drop layer 1's down_proj (node and weight) and the final norm's weight.
    const down = wr.g.nodes.findIndex((n) => n.name === '/model/layers.1/mlp/down_proj/MatMul');
    const bName = wr.g.nodes[down].inputs[1];
    wr.g.nodes[down] = { ...wr.g.nodes[down], opType: 'Identity', inputs: [wr.g.nodes[down].inputs[0]] };
    wr.g.initializers.splice(wr.g.initializers.findIndex((i) => i.name === bName), 1);
    const normNode = wr.g.nodes.find((n) => n.name === '/model/norm/Mul_1')!;
    normNode.inputs[0] = '/model/norm/Mul_output_0';
    wr.g.initializers.splice(wr.g.initializers.findIndex((i) => i.name === 'model.norm.weight'), 1);
    const err = await importOnnxWeights(wr.finish(), cfg, { fileName: 'onnx/model.onnx' }).catch((e) => e);
    expect(err).toBeInstanceOf(ModelFormatError);
    expect(err.file).toBe('onnx/model.onnx');
    expect(err.message).toMatch(/^onnx\/model\.onnx: /);
    expect(err.message).toMatch(/missing 2 tensor\(s\) for llama: model\.layers\.1\.mlp\.down_proj\.weight; model\.norm\.weight/);
  });

  it('reports wrong shapes (config does not match the export)', async () => {
    const cfg = tinyConfig('llama');
    const w = randomWeights(cfg, 42);
    const bytes = writeOptimumStyle(cfg, w, { dtype: 'float32', linear: 'matmul' }).finish();
    const err = await importOnnxWeights(bytes, { ...cfg, intermediateSize: 48 }).catch((e) => e);
    expect(err).toBeInstanceOf(ModelFormatError);
    expect(err.message).toMatch(/wrong shape: model\.layers\.0\.mlp\.gate_proj\.weight: found \[64, 32\].*expected \[48, 32\]/);
  });

  it('rejects truncated files and non-ONNX bytes', async () => {
    const cfg = tinyConfig('llama');
    const bytes = writeOptimumStyle(cfg, randomWeights(cfg, 43), { dtype: 'float32', linear: 'matmul' }).finish();
    await expect(importOnnxWeights(bytes.subarray(0, bytes.length - 100), cfg)).rejects.toThrow(/model\.onnx: not a valid ONNX model: .*(truncated|runs past the end)/);
    await expect(importOnnxWeights(new TextEncoder().encode('version https://git-lfs.github.com/spec/v1'), cfg)).rejects.toBeInstanceOf(ModelFormatError);
  });

  it('explains unsupported weight formats (8-bit MatMulInteger) and MatMulNBits g_idx', async () => {
    const cfg = tinyConfig('llama');
    const w = randomWeights(cfg, 44);
    const wr = writeOptimumStyle(cfg, w, { dtype: 'float32', linear: 'matmul' });
    const q = wr.g.nodes.find((n) => n.name === '/model/layers.0/self_attn/q_proj/MatMul')!;
    q.name = '/model/layers.0/self_attn/q_proj/MatMul_quant';
    q.opType = 'MatMulInteger';
    const err = await importOnnxWeights(wr.finish(), cfg).catch((e) => e);
    expect(err).toBeInstanceOf(ModelFormatError);
    expect(err.message).toMatch(/missing 1 tensor\(s\).*q_proj\.weight.*unsupported weight formats: MatMulInteger node "\/model\/layers\.0\/self_attn\/q_proj\/MatMul_quant" \(8-bit dynamic quantization/);

    const wr2 = writeOptimumStyle(cfg, w, { dtype: 'float32', linear: 'nbits', blockSize: 16 });
    const nb = wr2.g.nodes.find((n) => n.opType === 'MatMulNBits')!;
    wr2.g.initializer('g_idx', { dtype: 'int32', dims: [32], data: new Int32Array(32) });
    nb.inputs.push('', 'g_idx');
    nb.attrs.accuracy_level = attr.int(4);
    await expect(importOnnxWeights(wr2.finish(), cfg)).rejects.toThrow(/MatMulNBits node "\/model\/layers\.0\/self_attn\/q_proj\/MatMul_Q4": MatMulNBits: the g_idx input/);
  });
});
