/**
 * Self-distillation with an EMA teacher that sees a context the student does not (a fixed
 * "hint" prefix before the prompt): training on some prompts lowers the teacher-student
 * divergence on HELD-OUT prompts. The divergence is measured independently of the engine:
 * full-vocabulary KL(teacher || student) over the response positions, from the float64
 * reference forward pass with the adapters the trainer exports.
 */
import { describe, expect, it } from 'vitest';
import { makeTinyConfig, makeTinyTokenizer, makeTinyWeights } from '../../../scripts/tiny-model';
import { parseModelConfig } from '../../../src/engine/models/config';
import { LORA_TARGETS, type LoraAdapter } from '../../../src/engine/models/types';
import { nodeCpuBackend } from '../../../src/engine/runtime/node-backend';
import { Trainer } from '../../../src/engine/train/trainer';
import { initLoraState } from '../../../src/engine/train/lora-state';
import type { TrainSample } from '../../../src/engine/train/batching';
import { Prng } from '../../../src/util/prng';
import { responseLogp } from '../../reference/losses';

const STEPS = 40;

describe('distillation', () => {
  it(`lowers the teacher-student KL on held-out prompts (${STEPS} steps, EMA teacher with a hint context)`, async () => {
    const raw = makeTinyConfig({ family: 'qwen3', seed: 5 }, makeTinyTokenizer());
    const cfg = parseModelConfig(raw);
    const weights = makeTinyWeights(raw, 5);
    const rng = new Prng(11);
    const rand = (n: number) => Array.from({ length: n }, () => Math.floor(rng.next() * 320));
    const hint = rand(5);
    const make = (): TrainSample => {
      const p = rand(3 + Math.floor(rng.next() * 4));
      const r = rand(6);
      return { ids: [...p, ...r], response_start: p.length, teacher_ids: [...hint, ...p, ...r], teacher_response_start: hint.length + p.length };
    };
    const train = Array.from({ length: 16 }, make);
    const held = Array.from({ length: 6 }, make);

    const trainer = await Trainer.create({
      backend: nodeCpuBackend(),
      config: cfg,
      weights,
      state: initLoraState(cfg, { r: 8, alpha: 16, targetModules: [...LORA_TARGETS], useRslora: false }, 1),
      padId: cfg.padTokenId ?? 0,
      optimizer: { lr: 5e-3 },
      emaTau: 0.05,
      microBatchSize: 4,
    });

    /** Mean over response positions of KL(T||S), T = teacher adapter under the hint, S = student without. */
    const kl = (student: LoraAdapter, teacher: LoraAdapter, set: TrainSample[]): number => {
      let sum = 0;
      let n = 0;
      for (const s of set) {
        const S = responseLogp(cfg, weights, s.ids, s.response_start, student);
        const T = responseLogp(cfg, weights, s.teacher_ids!, s.teacher_response_start!, teacher);
        S.forEach((ls, i) => {
          const lt = T[i];
          for (let v = 0; v < ls.length; v++) sum += Math.exp(lt[v]) * (lt[v] - ls[v]);
          n++;
        });
      }
      return sum / n;
    };

    const s0 = await trainer.exportAdapter();
    const t0 = await trainer.exportTeacherAdapter();
    const heldBefore = kl(s0, t0, held);
    const trainBefore = kl(s0, t0, train);
    const losses: number[] = [];
    for (let i = 0; i < STEPS; i++) {
      const batch = Array.from({ length: 8 }, (_, j) => train[(i * 8 + j) % train.length]);
      losses.push((await trainer.step(batch, { kind: 'distill', alpha: 0.5, topk: 32 })).loss);
    }
    const s1 = await trainer.exportAdapter();
    const t1 = await trainer.exportTeacherAdapter();
    const heldAfter = kl(s1, t1, held);
    const heldVsInitialTeacher = kl(s1, t0, held);
    const trainAfter = kl(s1, t1, train);
    console.log(
      `distill: KL(T||S) held-out ${heldBefore.toFixed(4)} -> ${heldAfter.toFixed(4)} (vs the initial teacher ${heldVsInitialTeacher.toFixed(4)}), ` +
        `train ${trainBefore.toFixed(4)} -> ${trainAfter.toFixed(4)}; step loss ${losses[0].toFixed(4)} -> ${losses[STEPS - 1].toFixed(4)}`,
    );
    expect(heldAfter).toBeLessThan(0.8 * heldBefore);
    expect(heldVsInitialTeacher).toBeLessThan(0.9 * heldBefore);
    expect(trainAfter).toBeLessThan(0.5 * trainBefore);
    expect(losses[STEPS - 1]).toBeLessThan(losses[0]);
    await trainer.release();
  });
});
