import { describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import {
  buildAdamWGraph,
  clipScaleFor,
  GraphAdamW,
  HostAdamW,
  resolveAdamWConfig,
  scheduledLr,
  type AdamWConfig,
  type ParamSpec,
} from '../../../src/engine/train/adamw';
import type { TensorMap } from '../../../src/engine/runtime/graph-session';
import { nodeCpuBackend } from '../../../src/engine/runtime/node-backend';
import { serializeGraph } from '../../../src/engine/onnx/serialize';
import { Prng } from '../../../src/util/prng';

const specs: ParamSpec[] = [
  { name: 'a', dims: [3, 5] },
  { name: 'b', dims: [7] },
  { name: 'norm', dims: [4], decay: false },
];

const numel = (d: number[]) => d.reduce((x, y) => x * y, 1);

function randomArrays(rng: Prng, scale: number): Map<string, Float32Array> {
  return new Map(specs.map((s) => [s.name, Float32Array.from({ length: numel(s.dims) }, () => scale * rng.normal())]));
}

/** Textbook AdamW (Loshchilov & Hutter, as torch documents it) in float64, with clip_grad_norm_. */
class PlainAdamW {
  m = new Map<string, Float64Array>();
  v = new Map<string, Float64Array>();
  t = 0;
  constructor(readonly c: AdamWConfig) {}
  step(p: Map<string, Float64Array>, g0: Map<string, Float32Array>): { norm: number; coef: number } {
    let sq = 0;
    for (const g of g0.values()) for (const x of g) sq += x * x;
    const norm = Math.sqrt(sq);
    const coef = this.c.maxGradNorm === null ? 1 : Math.min(1, this.c.maxGradNorm / (norm + 1e-6));
    this.t++;
    const lr = this.c.warmupSteps > 0 ? this.c.lr * Math.min(1, this.t / this.c.warmupSteps) : this.c.lr;
    for (const s of specs) {
      const w = p.get(s.name)!;
      const g = g0.get(s.name)!;
      const m = this.m.get(s.name) ?? new Float64Array(w.length);
      const v = this.v.get(s.name) ?? new Float64Array(w.length);
      for (let i = 0; i < w.length; i++) {
        const gi = g[i] * coef;
        if (s.decay !== false) w[i] -= lr * this.c.weightDecay * w[i];
        m[i] = this.c.beta1 * m[i] + (1 - this.c.beta1) * gi;
        v[i] = this.c.beta2 * v[i] + (1 - this.c.beta2) * gi * gi;
        const mh = m[i] / (1 - this.c.beta1 ** this.t);
        const vh = v[i] / (1 - this.c.beta2 ** this.t);
        w[i] -= (lr * mh) / (Math.sqrt(vh) + this.c.eps);
      }
      this.m.set(s.name, m);
      this.v.set(s.name, v);
    }
    return { norm, coef };
  }
}


/**
 * Golden values from torch 2.13.0 (CPU wheel), produced by:
 *   sizes = [6, 4, 3]
 *   params = [Parameter(tensor([sin(1.7*i + j) for i in range(n)])) for j, n in enumerate(sizes)]
 *   opt = AdamW([{'params': params[:2]}, {'params': params[2:], 'weight_decay': 0.0}], lr=0.01, weight_decay=0.1)
 *   sched = LambdaLR(opt, lambda s: min(1.0, (s + 1) / 3))
 *   for step in 1..5: p.grad = tensor([scale * cos(0.9*i*step + j) ...]) with scale 0.01 on step 4
 *   else 3.0; norm = clip_grad_norm_(params, 1.0); opt.step(); sched.step()
 * Each entry: [total norm, params after the step].
 */
const TORCH_GOLDEN: [number, number[][]][] = [[7.851203441619873, [[-0.0033333334140479565, 0.9880009889602661, -0.2521226108074188, -0.9221727848052979, 0.4972819983959198, 0.8015543222427368], [0.8378571271896362, 0.4305707514286041, -0.94795161485672, -0.17876845598220825], [0.9126307368278503, -0.526502788066864, -0.7694311738014221]]], [7.958709716796875, [[-0.009995261207222939, 0.9848237633705139, -0.24603872001171112, -0.9207116365432739, 0.4979022443294525, 0.8068694472312927], [0.8306344151496887, 0.43643635511398315, -0.942304253578186, -0.17947819828987122], [0.9192948937416077, -0.5199128985404968, -0.7696711421012878]]], [7.307102203369141, [[-0.020004015415906906, 0.9874810576438904, -0.24412056803703308, -0.9173563718795776, 0.4997023940086365, 0.8080001473426819], [0.8197849988937378, 0.44557470083236694, -0.942276656627655, -0.17610548436641693], [0.9293136596679688, -0.5122040510177612, -0.7724430561065674]]], [0.023192906752228737, [[-0.028275933116674423, 0.9895924925804138, -0.2425881177186966, -0.914418637752533, 0.5011211037635803, 0.8086895942687988], [0.8106732964515686, 0.45298489928245544, -0.9420474767684937, -0.17338037490844727], [0.9376055598258972, -0.5059850811958313, -0.7745891213417053]]], [7.456840991973877, [[-0.03706090897321701, 0.9921903014183044, -0.23799777030944824, -0.9146586656570435, 0.4990697503089905, 0.8123182058334351], [0.8010493516921997, 0.4556780457496643, -0.9387447237968445, -0.1698981523513794], [0.946418821811676, -0.5054098963737488, -0.7764242887496948]]]];

describe('AdamW', () => {
  it('schedule: constant, or linear warm-up from step 1 then constant', () => {
    const c = resolveAdamWConfig({ lr: 1e-3, warmupSteps: 4 });
    expect([1, 2, 3, 4, 5, 100].map((t) => scheduledLr(c, t))).toEqual([2.5e-4, 5e-4, 7.5e-4, 1e-3, 1e-3, 1e-3]);
    expect(scheduledLr(resolveAdamWConfig({ lr: 3e-4 }), 1)).toBe(3e-4);
    expect(clipScaleFor(10, 1)).toBeCloseTo(1 / (10 + 1e-6), 7);
    expect(clipScaleFor(0.5, 1)).toBe(1);
    expect(clipScaleFor(5, null)).toBe(1);
    expect(() => resolveAdamWConfig({ beta2: 1 })).toThrow(/beta2/);
    expect(() => resolveAdamWConfig({ warmupSteps: 1.5 })).toThrow(/warmupSteps/);
  });


  it('host AdamW + clipping reproduce torch.optim.AdamW + clip_grad_norm_ (golden values) to 1 ulp', () => {
    const sizes = [6, 4, 3];
    const sp = sizes.map((n, j) => ({ name: `p${j}`, dims: [n], decay: j < 2 }));
    const opt = new HostAdamW(sp, { lr: 0.01, weightDecay: 0.1, warmupSteps: 3 });
    const p = new Map(sizes.map((n, j) => [`p${j}`, Float32Array.from({ length: n }, (_, i) => Math.sin(1.7 * i + j))]));
    const bits = new Int32Array(2);
    const f = new Float32Array(bits.buffer);
    let maxUlp = 0;
    let clipped = 0;
    for (let step = 1; step <= 5; step++) {
      const scale = step === 4 ? 0.01 : 3.0;
      const g = new Map(sizes.map((n, j) => [`p${j}`, Float32Array.from({ length: n }, (_, i) => scale * Math.cos(0.9 * i * step + j))]));
      const info = opt.stepArrays(p, g);
      const [norm, params] = TORCH_GOLDEN[step - 1];
      expect(info.gradNorm).toBeCloseTo(norm, 5);
      if (info.clipScale < 1) clipped++;
      sizes.forEach((n, j) => {
        for (let i = 0; i < n; i++) {
          f[0] = p.get(`p${j}`)![i];
          f[1] = params[j][i];
          maxUlp = Math.max(maxUlp, Math.abs(bits[0] - bits[1]));
        }
      });
    }
    expect(clipped).toBe(4);
    expect(maxUlp).toBeLessThanOrEqual(1);
  });

  it('host AdamW matches a plain float64 AdamW over 6 steps with clipping active', () => {
    const cfg = resolveAdamWConfig({ lr: 0.01, weightDecay: 0.1, warmupSteps: 3, maxGradNorm: 1.0 });
    const rng = new Prng(3);
    const p32 = randomArrays(rng, 1);
    const p64 = new Map([...p32].map(([k, a]) => [k, Float64Array.from(a)]));
    const host = new HostAdamW(specs, cfg);
    const plain = new PlainAdamW(cfg);
    let clipped = 0;
    for (let step = 1; step <= 6; step++) {
      // Large gradients (norm ~ 5-15) so clipping is active on most steps; step 4 is small.
      const g = randomArrays(rng, step === 4 ? 0.02 : 2);
      const ref = plain.step(p64, g);
      const info = host.stepArrays(p32, new Map([...g].map(([k, a]) => [k, a.slice()])));
      expect(info.step).toBe(step);
      expect(info.gradNorm).toBeCloseTo(ref.norm, 5);
      expect(info.clipScale).toBeCloseTo(ref.coef, 6);
      if (info.clipScale < 1) clipped++;
      let err = 0;
      for (const s of specs) {
        const a = p32.get(s.name)!;
        const b = p64.get(s.name)!;
        for (let i = 0; i < a.length; i++) err = Math.max(err, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
      }
      expect(err).toBeLessThan(2e-6);
    }
    expect(clipped).toBe(5);
  });

  it('graph AdamW on onnxruntime-node matches host AdamW to 1e-6 (params, m, v)', async () => {
    const backend = nodeCpuBackend();
    const cfg = { lr: 0.02, weightDecay: 0.05, warmupSteps: 2 };
    const host = new HostAdamW(specs, cfg, ort.Tensor);
    const graph = new GraphAdamW(backend, specs, cfg);
    const rng = new Prng(9);
    const start = randomArrays(rng, 1);
    let hp: TensorMap = {};
    let gp: TensorMap = {};
    for (const s of specs) {
      hp[s.name] = new ort.Tensor('float32', start.get(s.name)!.slice(), s.dims);
      gp[s.name] = new ort.Tensor('float32', start.get(s.name)!.slice(), s.dims);
    }
    let maxErr = 0;
    for (let step = 1; step <= 5; step++) {
      const g = randomArrays(rng, step % 2 ? 3 : 0.01);
      const grads: TensorMap = {};
      for (const s of specs) grads[s.name] = new ort.Tensor('float32', g.get(s.name)!, s.dims);
      const h = await host.update(hp, grads);
      const d = await graph.update(gp, grads);
      expect(d.info.gradNorm).toBeCloseTo(h.info.gradNorm, 4);
      expect(d.info.clipScale).toBeCloseTo(h.info.clipScale, 6);
      expect(d.info.lr).toBe(h.info.lr);
      hp = h.params;
      gp = d.params;
      const hs = await host.exportState();
      const gs = await graph.exportState();
      for (const s of specs) {
        const pairs: [ArrayLike<number>, ArrayLike<number>][] = [
          [hp[s.name].data as Float32Array, gp[s.name].data as Float32Array],
          [hs.m.get(s.name)!, gs.m.get(s.name)!],
          [hs.v.get(s.name)!, gs.v.get(s.name)!],
        ];
        for (const [a, b] of pairs) for (let i = 0; i < a.length; i++) maxErr = Math.max(maxErr, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(a[i])));
      }
    }
    console.log(`graph AdamW vs host AdamW, 5 steps: max relative difference ${maxErr.toExponential(2)}`);
    expect(maxErr).toBeLessThan(1e-6);
    await graph.release();
  });

  it('grad-norm and accumulate graphs agree with the host', async () => {
    const backend = nodeCpuBackend();
    const host = new HostAdamW(specs, {}, ort.Tensor);
    const graph = new GraphAdamW(backend, specs, {});
    const rng = new Prng(1);
    const a = randomArrays(rng, 1);
    const b = randomArrays(rng, 1);
    const ta: TensorMap = {};
    const tb: TensorMap = {};
    for (const s of specs) {
      ta[s.name] = new ort.Tensor('float32', a.get(s.name)!, s.dims);
      tb[s.name] = new ort.Tensor('float32', b.get(s.name)!, s.dims);
    }
    expect(await graph.gradNorm(ta)).toBeCloseTo(await host.gradNorm(ta), 5);
    const sg = await graph.accumulate(ta, tb);
    const sh = await host.accumulate(ta, tb);
    for (const s of specs) expect(Array.from(sg[s.name].data as Float32Array)).toEqual(Array.from(sh[s.name].data as Float32Array));
    await graph.release();
  });

  it('a tensor with decay: false gets no weight decay (zero gradient leaves it unchanged)', () => {
    const host = new HostAdamW(specs, { lr: 0.1, weightDecay: 0.5 });
    const p = randomArrays(new Prng(2), 1);
    const before = new Map([...p].map(([k, v]) => [k, v.slice()]));
    host.stepArrays(p, new Map(specs.map((s) => [s.name, new Float32Array(numel(s.dims))])));
    expect(Array.from(p.get('norm')!)).toEqual(Array.from(before.get('norm')!));
    expect(p.get('a')![0]).toBeCloseTo(Math.fround(before.get('a')![0] * Math.fround(1 - 0.05)), 7);
  });

  it('the graph is well-formed opset-17 ONNX with the documented inputs and outputs', () => {
    const g = buildAdamWGraph(specs);
    expect(g.inputs.map((i) => i.name).slice(0, 4)).toEqual(['decay', 'neg_step_size', 'bc2_sqrt', 'clip_scale']);
    expect(g.outputs.map((o) => o.name)).toContain('new_param.a');
    expect(serializeGraph(g).length).toBeGreaterThan(100);
  });
});
