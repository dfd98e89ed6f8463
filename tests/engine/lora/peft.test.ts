import { describe, expect, it } from 'vitest';
import { makeTinyConfig, makeTinyTokenizer } from '../../../scripts/tiny-model';
import { baseModelName, exportPeftAdapter, importPeftAdapter, makeLoraAdapter } from '../../../src/engine/lora/peft';
import { parseModelConfig } from '../../../src/engine/models/config';
import { bf16ToF32, f32ToBf16 } from '../../../src/engine/onnx/half';
import { parseSafetensorsHeader, readSafetensors, writeSafetensors } from '../../../src/engine/models/safetensors';
import { type LoraConfig, ModelFormatError } from '../../../src/engine/models/types';
import { jsonBytes, MemorySource, utf8 } from '../../support/memory-source';
import { ModelRunner } from '../../../src/engine/runtime/model-runner';
import { nodeCpuBackend } from '../../../src/engine/runtime/node-backend';

const cfg = parseModelConfig(makeTinyConfig({ family: 'qwen3', seed: 0 }, makeTinyTokenizer()));
const lora: LoraConfig = { r: 4, alpha: 8, targetModules: ['q_proj', 'v_proj', 'down_proj'], useRslora: false };

function exported(l: LoraConfig = lora, bScale = 0.01) {
  const adapter = makeLoraAdapter(cfg, l, 3, { bScale });
  const out = exportPeftAdapter(adapter, 'tiny/qwen3');
  const files = new Map<string, Uint8Array>([
    ['adapter_config.json', utf8(out['adapter_config.json'])],
    ['adapter_model.safetensors', out['adapter_model.safetensors']],
  ]);
  return { adapter, out, files };
}

async function expectImportError(files: Map<string, Uint8Array>, file: string, pattern: RegExp): Promise<void> {
  try {
    await importPeftAdapter(new MemorySource(files), cfg);
  } catch (e) {
    expect(e).toBeInstanceOf(ModelFormatError);
    expect((e as ModelFormatError).file).toBe(file);
    expect((e as Error).message).toMatch(pattern);
    return;
  }
  throw new Error('expected a ModelFormatError');
}

function editTensors(files: Map<string, Uint8Array>, edit: (t: Map<string, { dims: number[]; data: Float32Array }>) => void): void {
  const { tensors } = readSafetensors(files.get('adapter_model.safetensors')!, 'a');
  edit(tensors);
  files.set('adapter_model.safetensors', writeSafetensors(tensors, 'F32'));
}

function editConfig(files: Map<string, Uint8Array>, edit: (c: Record<string, unknown>) => void): void {
  const c = JSON.parse(new TextDecoder().decode(files.get('adapter_config.json')!));
  edit(c);
  files.set('adapter_config.json', jsonBytes(c));
}

describe('makeLoraAdapter', () => {
  it('is seeded, PEFT-shaped and initialised like PEFT', () => {
    const a = makeLoraAdapter(cfg, lora, 1);
    const b = makeLoraAdapter(cfg, lora, 1);
    const c = makeLoraAdapter(cfg, lora, 2);
    expect(a.modules.size).toBe(cfg.numLayers * 3);
    const m = a.modules.get('model.layers.1.mlp.down_proj')!;
    expect(m.A.dims).toEqual([4, 96]);
    expect(m.B.dims).toEqual([64, 4]);
    expect(m.B.data.every((v) => v === 0)).toBe(true);
    const bound = 1 / Math.sqrt(96);
    expect(m.A.data.every((v) => Math.abs(v) <= bound)).toBe(true);
    expect(Math.max(...m.A.data)).toBeGreaterThan(bound * 0.8);
    expect(b.modules.get('model.layers.1.mlp.down_proj')!.A.data).toEqual(m.A.data);
    expect(c.modules.get('model.layers.1.mlp.down_proj')!.A.data).not.toEqual(m.A.data);
    const withB = makeLoraAdapter(cfg, lora, 1, { bScale: 0.5 });
    expect(withB.modules.get('model.layers.0.self_attn.q_proj')!.B.data.some((v) => v !== 0)).toBe(true);
  });
  it('validates its config', () => {
    expect(() => makeLoraAdapter(cfg, { ...lora, r: 0 }, 1)).toThrow(/rank r must be a positive integer/);
    expect(() => makeLoraAdapter(cfg, { ...lora, alpha: 0 }, 1)).toThrow(/lora_alpha must be > 0/);
    expect(() => makeLoraAdapter(cfg, { ...lora, targetModules: [] }, 1)).toThrow(/target_modules is empty/);
  });
});

describe('PEFT export', () => {
  it('writes the PEFT config and tensor names', () => {
    const { out } = exported({ ...lora, useRslora: true });
    const c = JSON.parse(out['adapter_config.json']);
    expect(c).toMatchObject({
      peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 4, lora_alpha: 8, target_modules: ['q_proj', 'v_proj', 'down_proj'],
      use_rslora: true, base_model_name_or_path: 'tiny/qwen3', lora_dropout: 0, bias: 'none', fan_in_fan_out: false,
      inference_mode: true,
    });
    const h = parseSafetensorsHeader(out['adapter_model.safetensors'], 'a');
    expect(h.tensors.get('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight')).toMatchObject({ dtype: 'F32', shape: [4, 64] });
    expect(h.tensors.get('base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight')).toMatchObject({ dtype: 'F32', shape: [32, 4] });
    expect(h.tensors.get('base_model.model.model.layers.1.mlp.down_proj.lora_A.weight')).toMatchObject({ shape: [4, 96] });
    for (const name of h.tensors.keys()) expect(name.startsWith('base_model.model.model.layers.')).toBe(true);
    expect(h.tensors.size).toBe(2 * 2 * 3);
  });
  it('guards against adapters PEFT would ignore or that scale to zero', () => {
    const { adapter } = exported();
    expect(() => exportPeftAdapter({ ...adapter, config: { ...adapter.config, alpha: 0 } }, null)).toThrow(/lora_alpha must be > 0/);
    expect(() => exportPeftAdapter({ ...adapter, config: { ...adapter.config, r: 0 } }, null)).toThrow(/positive integer/);
    const bad = new Map(adapter.modules);
    bad.set('base_model.model.model.layers.0.self_attn.q_proj', adapter.modules.get('model.layers.0.self_attn.q_proj')!);
    expect(() => exportPeftAdapter({ ...adapter, modules: bad }, null)).toThrow(/not a model\.layers/);
    const wrongGroup = new Map([['model.layers.0.mlp.q_proj', adapter.modules.get('model.layers.0.self_attn.q_proj')!]]);
    expect(() => exportPeftAdapter({ ...adapter, modules: wrongGroup }, null)).toThrow(/not a model\.layers/);
    const notTargeted = new Map([['model.layers.0.self_attn.k_proj', adapter.modules.get('model.layers.0.self_attn.v_proj')!]]);
    expect(() => exportPeftAdapter({ ...adapter, modules: notTargeted }, null)).toThrow(/not among target_modules/);
  });
});

describe('PEFT import', () => {
  it('round-trips an exported adapter exactly', async () => {
    const { adapter, files } = exported({ ...lora, useRslora: true });
    const back = await importPeftAdapter(new MemorySource(files), cfg);
    expect(back.config).toEqual({ ...lora, useRslora: true });
    expect(back.baseModel).toBe('tiny/qwen3');
    expect([...back.modules.keys()].sort()).toEqual([...adapter.modules.keys()].sort());
    for (const [path, m] of adapter.modules) {
      expect(back.modules.get(path)!.A).toEqual(m.A);
      expect(back.modules.get(path)!.B).toEqual(m.B);
    }
    // Without a model config it still loads.
    expect((await importPeftAdapter(new MemorySource(files))).modules.size).toBe(adapter.modules.size);
  });
  it('reads BF16 weights and ".default" names', async () => {
    const { adapter, files } = exported();
    const { tensors } = readSafetensors(files.get('adapter_model.safetensors')!, 'a');
    const renamed = new Map([...tensors].map(([k, v]) => [k.replace(/\.lora_([AB])\.weight$/, '.lora_$1.default.weight'), v]));
    files.set('adapter_model.safetensors', writeSafetensors(renamed, 'BF16'));
    const back = await importPeftAdapter(new MemorySource(files), cfg);
    const q = back.modules.get('model.layers.0.self_attn.q_proj')!;
    const ref = adapter.modules.get('model.layers.0.self_attn.q_proj')!;
    expect(q.A.data[5]).toBe(bf16ToF32(f32ToBf16(ref.A.data[5])));
  });
  const C = 'adapter_config.json';
  const W = 'adapter_model.safetensors';
  it('rejects lora_alpha 0', async () => {
    const { files } = exported();
    editConfig(files, (c) => (c.lora_alpha = 0));
    await expectImportError(files, C, /lora_alpha must be > 0/);
  });
  it('rejects unknown target modules', async () => {
    const { files } = exported();
    editConfig(files, (c) => (c.target_modules = ['q_proj', 'lm_head']));
    await expectImportError(files, C, /unknown target module "lm_head"/);
    editConfig(files, (c) => (c.target_modules = 'all-linear'));
    await expectImportError(files, C, /"target_modules" must be a list/);
  });
  it('rejects tensors for modules outside target_modules', async () => {
    const { files } = exported();
    editConfig(files, (c) => (c.target_modules = ['q_proj', 'v_proj']));
    await expectImportError(files, W, /down_proj is not in target_modules/);
  });
  it('rejects a missing half of a pair', async () => {
    const { files } = exported();
    editTensors(files, (t) => t.delete('base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight'));
    await expectImportError(files, W, /model\.layers\.1\.self_attn\.v_proj has lora_A but no lora_B/);
  });
  it('rejects a rank mismatch', async () => {
    const { files } = exported();
    editConfig(files, (c) => (c.r = 8));
    await expectImportError(files, W, /rank 4 does not match r=8/);
  });
  it('rejects shapes that do not fit the model', async () => {
    const { files } = exported();
    editTensors(files, (t) => t.set('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight', { dims: [4, 32], data: new Float32Array(128) }));
    await expectImportError(files, W, /q_proj\.lora_A is \[4, 32\], expected \[4, 64\]/);
  });
  it('rejects missing modules when the model config is known', async () => {
    const { files } = exported();
    editTensors(files, (t) => {
      t.delete('base_model.model.model.layers.1.mlp.down_proj.lora_A.weight');
      t.delete('base_model.model.model.layers.1.mlp.down_proj.lora_B.weight');
    });
    await expectImportError(files, W, /missing LoRA weights for model\.layers\.1\.mlp\.down_proj/);
  });
  it('rejects names without the base_model.model. prefix', async () => {
    const { files } = exported();
    editTensors(files, (t) => {
      const k = 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight';
      t.set(k.replace('base_model.model.', ''), t.get(k)!);
      t.delete(k);
    });
    await expectImportError(files, W, /is not a base_model\.model\.<module>/);
  });
  it('rejects unsupported PEFT options and bad files', async () => {
    let { files } = exported();
    editConfig(files, (c) => (c.use_dora = true));
    await expectImportError(files, C, /DoRA/);
    ({ files } = exported());
    editConfig(files, (c) => (c.peft_type = 'IA3'));
    await expectImportError(files, C, /peft_type "IA3"/);
    ({ files } = exported());
    files.set(C, utf8('{oops'));
    await expectImportError(files, C, /not valid JSON/);
    ({ files } = exported());
    files.delete(W);
    files.set('adapter_model.bin', new Uint8Array(4));
    await expectImportError(files, W, /adapter_model\.bin is not supported/);
    ({ files } = exported());
    files.set(W, new Uint8Array(3));
    await expectImportError(files, W, /shorter than the 8-byte/);
  });
});

describe('adapters that would give silent wrong results', () => {
  const C = 'adapter_config.json';
  const W = 'adapter_model.safetensors';
  const Q0 = 'base_model.model.model.layers.0.self_attn.q_proj';

  it('refuses infinite or NaN LoRA weights, naming the file and tensor', async () => {
    for (const [half, bad] of [['B', Infinity], ['A', NaN], ['B', -Infinity]] as const) {
      const { files } = exported();
      editTensors(files, (t) => (t.get(`${Q0}.lora_${half}.weight`)!.data[5] = bad));
      await expectImportError(files, W, new RegExp(`tensor "${Q0.replace(/\./g, '\\.')}\\.lora_${half}\\.weight": element 5 is ${bad}; weights must be finite`));
    }
  });

  it('refuses lora_alpha and r outside sane finite ranges', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ lora_alpha: 1e300 }, /lora_alpha must be at most 1000000, got 1e\+300 \(the update would be scaled by 2\.5e\+299 and overflow\)/],
      [{ lora_alpha: -2 }, /lora_alpha must be > 0, got -2/],
      [{ r: 1e9 }, /LoRA rank r must be at most 65536, got 1000000000/],
      [{ r: 2.5 }, /LoRA rank r must be a positive integer, got 2\.5/],
    ];
    for (const [edit, pattern] of cases) {
      const { files } = exported();
      editConfig(files, (c) => Object.assign(c, edit));
      await expectImportError(files, C, pattern);
    }
    // 1e400 parses to Infinity.
    const { files } = exported();
    files.set(C, utf8(new TextDecoder().decode(files.get(C)!).replace('"lora_alpha": 8', '"lora_alpha": 1e400')));
    await expectImportError(files, C, /lora_alpha must be at most 1000000, got Infinity/);
    expect(() => makeLoraAdapter(cfg, { ...lora, alpha: 1e300 }, 1)).toThrow(/lora_alpha must be at most/);
  });

  it('refuses every adapter_config field that changes the numbers, and accepts their neutral values', async () => {
    const refused: [string, unknown, RegExp][] = [
      ['use_dora', true, /use_dora true is not supported: DoRA/],
      ['fan_in_fan_out', true, /fan_in_fan_out true is not supported/],
      ['bias', 'all', /bias "all" is not supported: values other than "none" train the base model's biases/],
      ['lora_bias', true, /lora_bias true is not supported/],
      ['rank_pattern', { q_proj: 8 }, /rank_pattern \{"q_proj":8\} is not supported: it gives modules ranks of their own/],
      ['alpha_pattern', { 'model.layers.0.self_attn.q_proj': 2 }, /alpha_pattern .* is not supported: it gives modules alphas of their own/],
      ['modules_to_save', ['lm_head'], /modules_to_save \["lm_head"\] is not supported/],
      ['layer_replication', [[0, 2], [1, 2]], /layer_replication .* is not supported/],
      ['exclude_modules', ['model.layers.0.self_attn.q_proj'], /exclude_modules .* is not supported/],
      ['target_parameters', ['mlp.experts.down_proj'], /target_parameters .* is not supported/],
      ['trainable_token_indices', [5, 6], /trainable_token_indices .* is not supported/],
      ['use_qalora', true, /use_qalora true is not supported/],
      ['alora_invocation_tokens', [1, 2], /alora_invocation_tokens .* is not supported/],
      ['init_lora_weights', 'pissa', /init_lora_weights "pissa" is not supported: .*changes the base weights/],
      ['init_lora_weights', 'olora', /init_lora_weights "olora" is not supported/],
    ];
    for (const [key, value, pattern] of refused) {
      const { files } = exported();
      editConfig(files, (c) => (c[key] = value));
      await expectImportError(files, C, pattern);
    }
    const { files } = exported();
    editConfig(files, (c) =>
      Object.assign(c, {
        use_dora: false, fan_in_fan_out: false, bias: 'none', lora_bias: false, rank_pattern: {}, alpha_pattern: {},
        modules_to_save: null, layer_replication: null, exclude_modules: null, target_parameters: [],
        trainable_token_indices: null, use_qalora: false, alora_invocation_tokens: null, init_lora_weights: 'gaussian',
      }),
    );
    expect((await importPeftAdapter(new MemorySource(files), cfg)).modules.size).toBe(2 * 3);
  });

  it('supports layers_to_transform as PEFT does: other layers get no LoRA', async () => {
    const { adapter, files } = exported();
    editConfig(files, (c) => Object.assign(c, { layers_to_transform: [1], layers_pattern: 'layers' }));
    editTensors(files, (t) => {
      for (const name of [...t.keys()]) if (name.includes('.layers.0.')) t.delete(name);
    });
    const back = await importPeftAdapter(new MemorySource(files), cfg);
    for (const target of ['self_attn.q_proj', 'self_attn.v_proj', 'mlp.down_proj']) {
      const kept = back.modules.get(`model.layers.1.${target}`)!;
      expect(kept.B.data).toEqual(adapter.modules.get(`model.layers.1.${target}`)!.B.data);
      const none = back.modules.get(`model.layers.0.${target}`)!;
      expect(none.A.dims).toEqual(adapter.modules.get(`model.layers.0.${target}`)!.A.dims);
      expect(none.B.data.every((v) => v === 0)).toBe(true); // B = 0: the update B A x is exactly zero
    }
    // The runtime takes it as is: every layer has a module, the excluded ones add nothing.
    expect(() => new ModelRunner(cfg, nodeCpuBackend()).setAdapter(back)).not.toThrow();
    // A plain index works too.
    editConfig(files, (c) => (c.layers_to_transform = 1));
    expect((await importPeftAdapter(new MemorySource(files), cfg)).modules.size).toBe(2 * 3);
  });

  it('refuses layers_to_transform that does not fit the tensors or the model', async () => {
    let { files } = exported();
    editConfig(files, (c) => (c.layers_to_transform = [1]));
    await expectImportError(files, W, /tensor base_model\.model\.model\.layers\.0\.\S+ layer 0 is not in layers_to_transform \[1\]/);
    ({ files } = exported());
    editConfig(files, (c) => (c.layers_to_transform = [0, 5]));
    await expectImportError(files, C, /layers_to_transform \[0, 5\] names layer 5, but the model has only 2 layers/);
    ({ files } = exported());
    editConfig(files, (c) => (c.layers_to_transform = [1, 'x']));
    await expectImportError(files, C, /layers_to_transform must be a layer index or a non-empty list of them/);
    ({ files } = exported());
    editConfig(files, (c) => Object.assign(c, { layers_to_transform: [0, 1], layers_pattern: 'h' }));
    await expectImportError(files, C, /layers_pattern "h" matches no module of these models/);
    ({ files } = exported());
    editConfig(files, (c) => (c.layers_pattern = 'layers'));
    await expectImportError(files, C, /layers_pattern is set without layers_to_transform/);
    ({ files } = exported());
    editConfig(files, (c) => (c.layers_to_transform = [0, 1]));
    editTensors(files, (t) => {
      t.delete(`${Q0}.lora_A.weight`);
      t.delete(`${Q0}.lora_B.weight`);
    });
    await expectImportError(files, W, /missing LoRA weights for model\.layers\.0\.self_attn\.q_proj/);
  });
});

describe('base model names', () => {
  it('keeps Hub repo ids and reduces paths and URLs to their last segment', () => {
    expect(baseModelName('Qwen/Qwen2.5-1.5B')).toBe('Qwen/Qwen2.5-1.5B');
    expect(baseModelName('Qwen/Qwen3-0.6B@0123abc')).toBe('Qwen/Qwen3-0.6B');
    expect(baseModelName('/home/me/models/Qwen2.5-1.5B/')).toBe('Qwen2.5-1.5B');
    expect(baseModelName('C:\\models\\tiny-qwen3')).toBe('tiny-qwen3');
    expect(baseModelName('./models/tiny-qwen3')).toBe('tiny-qwen3');
    expect(baseModelName('~/m/x')).toBe('x');
    expect(baseModelName('http://127.0.0.1:5173/models/tiny-qwen3/')).toBe('tiny-qwen3');
    expect(baseModelName('tiny-qwen3')).toBe('tiny-qwen3');
  });
  it('exportPeftAdapter never records a local absolute path', () => {
    const adapter = makeLoraAdapter(cfg, lora, 3);
    const name = (base: string | null) => JSON.parse(exportPeftAdapter(adapter, base)['adapter_config.json']).base_model_name_or_path;
    expect(name('/tmp/work/tiny-qwen3')).toBe('tiny-qwen3');
    expect(name('Qwen/Qwen3-0.6B')).toBe('Qwen/Qwen3-0.6B');
    expect(name(null)).toBeNull();
    expect(name('/')).toBeNull();
  });
});
