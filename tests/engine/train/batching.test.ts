import { describe, expect, it } from 'vitest';
import { makeBatches, studentToTeacher, teacherToStudent, validateSample, type TrainSample } from '../../../src/engine/train/batching';
import { MASK_NEG } from '../../../src/engine/models/decoder-graph';

const num = (a: BigInt64Array) => Array.from(a, Number);

describe('batching', () => {
  const samples: TrainSample[] = [
    { ids: [10, 11, 12, 13, 14], response_start: 3 }, // predicts 13, 14 from positions 2, 3
    { ids: [20, 21, 22], response_start: 1 }, // predicts 21, 22 from positions 0, 1
  ];

  it('left-pads, shifts targets and masks exactly the positions that predict response tokens', () => {
    const { micro, tokenCount } = makeBatches(samples, { padId: 0 });
    expect(micro).toHaveLength(1);
    const m = micro[0];
    expect([m.batch, m.seq]).toEqual([2, 5]);
    expect(m.pad).toEqual([0, 2]);
    expect(num(m.ids)).toEqual([10, 11, 12, 13, 14, 0, 0, 20, 21, 22]);
    expect(num(m.positions)).toEqual([0, 1, 2, 3, 4, 0, 0, 0, 1, 2]);
    expect(num(m.targets)).toEqual([11, 12, 13, 14, 0, 0, 0, 21, 22, 0]);
    expect(Array.from(m.lossMask)).toEqual([0, 0, 1, 1, 0, 0, 0, 1, 1, 0]);
    expect(m.tokens).toBe(4);
    expect(tokenCount).toBe(4);
    // Padding columns are hidden from every query of the padded row.
    for (let i = 0; i < 5; i++) for (const j of [0, 1]) expect(m.mask[(1 * 5 + i) * 5 + j]).toBe(MASK_NEG);
    // Padding is never in the loss.
    for (let b = 0; b < m.batch; b++) for (let j = 0; j < m.pad[b]; j++) expect(m.lossMask[b * m.seq + j]).toBe(0);
  });

  it('micro-batches share the whole batch token_count (gradient accumulation)', () => {
    const more = [...samples, { ids: [1, 2, 3, 4], response_start: 2 }];
    const { micro, tokenCount } = makeBatches(more, { padId: 0, microBatchSize: 2 });
    expect(micro.map((m) => m.sampleIndex)).toEqual([[0, 1], [2]]);
    expect(micro.map((m) => m.tokens)).toEqual([4, 2]);
    expect(tokenCount).toBe(6);
    expect(micro[1].seq).toBe(4);
  });

  it('aligns teacher rows: same response tokens predicted at the mapped teacher columns', () => {
    const s: TrainSample[] = [
      { ids: [5, 6, 7, 8], response_start: 2, teacher_ids: [1, 2, 3, 5, 6, 7, 8], teacher_response_start: 5 },
      { ids: [9, 7, 8], response_start: 1, teacher_ids: [4, 7, 8], teacher_response_start: 1 },
    ];
    const m = makeBatches(s, { padId: 0, requireTeacher: true }).micro[0];
    const t = m.teacher!;
    expect([t.batch, t.seq]).toEqual([2, 7]);
    expect(t.pad).toEqual([0, 4]);
    for (let b = 0; b < 2; b++) {
      for (let j = 0; j < m.seq; j++) {
        const col = t.align[b * m.seq + j];
        expect(col >= 0).toBe(m.lossMask[b * m.seq + j] === 1);
        if (col >= 0) expect(t.targets[b * t.seq + col]).toBe(m.targets[b * m.seq + j]);
      }
    }
    // Round trip of per-position values through the teacher layout.
    const k = 2;
    const v = Float32Array.from({ length: m.batch * m.seq * k }, (_, i) => i + 1);
    const back = teacherToStudent(m, studentToTeacher(m, v, k, (n) => new Float32Array(n)), k);
    for (let i = 0; i < v.length; i++) expect(back[i]).toBe(m.lossMask[Math.floor(i / k)] ? v[i] : 0);
  });

  it('GRPO inputs: advantages per row and old log-probs at the loss positions', () => {
    const m = makeBatches([{ ids: [1, 2, 3], response_start: 2, advantage: -0.5, old_logp: [-1.5] }, { ids: [4, 5, 6, 7], response_start: 2, advantage: 2, old_logp: [-0.1, -0.2] }], { padId: 0 }).micro[0];
    expect(Array.from(m.advantages!)).toEqual([-0.5, 2]);
    expect(Array.from(m.oldLogp!).map((x) => Math.fround(x))).toEqual([0, 0, Math.fround(-1.5), 0, 0, Math.fround(-0.1), Math.fround(-0.2), 0]);
  });

  it('rejects unusable samples with the sample index and field', () => {
    expect(() => makeBatches([], { padId: 0 })).toThrow(/no samples/);
    expect(() => validateSample({ ids: [], response_start: 1 }, 2)).toThrow(/sample 2: "ids" must be a non-empty list/);
    expect(() => validateSample({ ids: [1, 2], response_start: 2 }, 0)).toThrow(/leaves no response tokens/);
    expect(() => validateSample({ ids: [1, 2], response_start: 0 }, 0)).toThrow(/must be >= 1/);
    expect(() => validateSample({ ids: [1, 500], response_start: 1 }, 0, { vocabSize: 100 })).toThrow(/ids\[1\] = 500 is outside the vocabulary \(size 100\)/);
    expect(() => validateSample({ ids: [1, 2, 3], response_start: 1 }, 0, { requireTeacher: true })).toThrow(/needs "teacher_ids"/);
    expect(() => validateSample({ ids: [1, 2, 3], response_start: 1, teacher_ids: [2, 3], teacher_response_start: 1 }, 0)).toThrow(/2 tokens after response_start but 1/);
    expect(() => validateSample({ ids: [1, 2, 3], response_start: 1, old_logp: [0] }, 0)).toThrow(/old_logp" must hold 2/);
    expect(() => makeBatches([{ ids: [1, 2], response_start: 1 }], { padId: 0, microBatchSize: 0 })).toThrow(/micro-batch size/);
  });
});
