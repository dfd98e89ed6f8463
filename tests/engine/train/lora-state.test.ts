import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { emaUpdateInPlace, GraphEma, HostEma } from '../../../src/engine/train/ema';
import {
  cloneState,
  fullState,
  initLoraState,
  loraModules,
  loraStateFromAdapter,
  loraStateToAdapter,
  peftTensorName,
  stateFeeds,
} from '../../../src/engine/train/lora-state';
import { exportPeftAdapter, importPeftAdapter } from '../../../src/engine/lora/peft';
import { nodeCpuBackend } from '../../../src/engine/runtime/node-backend';
import { Prng } from '../../../src/util/prng';
import { tinyConfig, randomWeights } from '../../support/random-model';
import { MemorySource } from '../../support/memory-source';
import type { TensorMap } from '../../../src/engine/runtime/graph-session';

describe('EMA teacher', () => {
  it('host update is (1 - tau) teacher + tau student', () => {
    const t = Float32Array.of(1, -2, 3);
    emaUpdateInPlace(t, Float32Array.of(0, 0, 1), 0.05);
    expect(Array.from(t)).toEqual([0.95, -1.9, 2.9].map((x, i) => Math.fround(Math.fround([1, -2, 3][i] * Math.fround(0.95)) + Math.fround([0, 0, 1][i] * Math.fround(0.05)))));
    expect(t[0]).toBeCloseTo(0.95, 6);
    expect(t[2]).toBeCloseTo(2.9, 6);
    expect(() => emaUpdateInPlace(t, t, 1.5)).toThrow(/tau/);
  });

  it('graph EMA matches host EMA over several updates; tau = 1 copies, tau = 0 keeps', async () => {
    const backend = nodeCpuBackend();
    const specs = [{ name: 'x.lora_A', dims: [2, 6] }, { name: 'x.lora_B', dims: [5, 2] }];
    const rng = new Prng(4);
    const mk = () => {
      const m: TensorMap = {};
      for (const s of specs) m[s.name] = new ort.Tensor('float32', Float32Array.from({ length: s.dims[0] * s.dims[1] }, () => rng.normal()), s.dims);
      return m;
    };
    const host = new HostEma(backend, specs);
    const graph = new GraphEma(backend, specs);
    let th = mk();
    let tg: TensorMap = { ...th };
    let err = 0;
    for (let i = 0; i < 4; i++) {
      const student = mk();
      th = await host.update(th, student, 0.05);
      tg = await graph.update(tg, student, 0.05);
      for (const s of specs) {
        const a = th[s.name].data as Float32Array;
        const b = tg[s.name].data as Float32Array;
        for (let k = 0; k < a.length; k++) err = Math.max(err, Math.abs(a[k] - b[k]));
      }
    }
    expect(err).toBeLessThan(1e-7);
    const student = mk();
    const copied = await graph.update(tg, student, 1);
    const kept = await graph.update(tg, student, 0);
    for (const s of specs) {
      expect(Array.from(copied[s.name].data as Float32Array)).toEqual(Array.from(student[s.name].data as Float32Array));
      expect(Array.from(kept[s.name].data as Float32Array)).toEqual(Array.from(tg[s.name].data as Float32Array));
    }
    await graph.release();
  });
});

describe('trainable LoRA state', () => {
  const cfg = tinyConfig('qwen3');

  it('initialises A like PEFT (uniform within 1/sqrt(in)), B zero, seeded', () => {
    const lora = { r: 4, alpha: 8, targetModules: ['q_proj', 'down_proj'] as ('q_proj' | 'down_proj')[], useRslora: false };
    const s = initLoraState(cfg, lora, 7);
    expect(s.specs.map((p) => p.name)).toEqual(loraModules(cfg, ['q_proj', 'down_proj']).flatMap((m) => [m.a, m.b]));
    expect(s.specs[0]).toEqual({ name: 'model.layers.0.self_attn.q_proj.lora_A', dims: [4, 32], decay: true });
    const A = s.tensors.get('model.layers.1.mlp.down_proj.lora_A')!;
    expect(A.dims).toEqual([4, 48]);
    const bound = 1 / Math.sqrt(48);
    expect(Math.max(...A.data.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...A.data.map(Math.abs))).toBeGreaterThan(0.8 * bound);
    expect(s.tensors.get('model.layers.1.mlp.down_proj.lora_B')!.data.every((x) => x === 0)).toBe(true);
    expect(initLoraState(cfg, lora, 7).tensors.get('model.layers.0.self_attn.q_proj.lora_A')!.data).toEqual(s.tensors.get('model.layers.0.self_attn.q_proj.lora_A')!.data);
    expect(initLoraState(cfg, lora, 8).tensors.get('model.layers.0.self_attn.q_proj.lora_A')!.data).not.toEqual(s.tensors.get('model.layers.0.self_attn.q_proj.lora_A')!.data);
  });

  it('round-trips through LoraAdapter and the PEFT files; feeds carry lora_scale', async () => {
    const lora = { r: 2, alpha: 6, targetModules: ['v_proj', 'up_proj'] as ('v_proj' | 'up_proj')[], useRslora: true };
    const s = initLoraState(cfg, lora, 1);
    s.tensors.get('model.layers.0.mlp.up_proj.lora_B')!.data[3] = 0.25;
    const files = exportPeftAdapter(loraStateToAdapter(s, 'tiny'), 'tiny');
    const back = loraStateFromAdapter(cfg, await importPeftAdapter(new MemorySource(new Map(Object.entries(files).map(([k, v]) => [k, typeof v === 'string' ? new TextEncoder().encode(v) : v]))), cfg));
    expect(back.specs).toEqual(s.specs);
    for (const [k, t] of s.tensors) expect(back.tensors.get(k)!.data).toEqual(t.data);
    const feeds = stateFeeds(ort.Tensor, s);
    expect((feeds.lora_scale.data as Float32Array)[0]).toBeCloseTo(6 / Math.sqrt(2), 6);
    expect(Object.keys(feeds)).toHaveLength(s.specs.length + 1);
    expect(peftTensorName('model.layers.0.self_attn.q_proj.lora_A')).toBe('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight');
    // a clone is independent
    const c = cloneState(s);
    c.tensors.get('model.layers.0.mlp.up_proj.lora_B')!.data[3] = 9;
    expect(s.tensors.get('model.layers.0.mlp.up_proj.lora_B')!.data[3]).toBe(0.25);
  });

  it('rejects adapters that do not fit the model', () => {
    const lora = { r: 2, alpha: 2, targetModules: ['q_proj'] as 'q_proj'[], useRslora: false };
    const a = loraStateToAdapter(initLoraState(cfg, lora, 1));
    a.modules.delete('model.layers.1.self_attn.q_proj');
    expect(() => loraStateFromAdapter(cfg, a)).toThrow(/model\.layers\.1\.self_attn\.q_proj/);
    const b = loraStateToAdapter(initLoraState(cfg, lora, 1));
    b.modules.get('model.layers.0.self_attn.q_proj')!.A.dims = [2, 31];
    expect(() => loraStateFromAdapter(cfg, b)).toThrow(/expected \[2, 32\]/);
  });

  it('full fine-tuning state covers every weight; norms and biases do not decay', () => {
    const c2 = tinyConfig('qwen2');
    const s = fullState(c2, randomWeights(c2, 1));
    expect(s.kind).toBe('full');
    const byName = new Map(s.specs.map((p) => [p.name, p]));
    expect(byName.get('model.layers.0.self_attn.q_proj.weight')!.decay).toBe(true);
    expect(byName.get('model.layers.0.self_attn.q_proj.bias')!.decay).toBe(false);
    expect(byName.get('model.norm.weight')!.decay).toBe(false);
    expect(byName.get('model.embed_tokens.weight')!.decay).toBe(true);
    expect(Object.keys(stateFeeds(ort.Tensor, s))).not.toContain('lora_scale');
  });
});
