/** The three memory levels' update rules: bounds, novelty gates, eviction, append-only insights, behavior actions. */
import { describe, expect, it } from 'vitest';
import { addExperience, type ExperienceCandidate } from '../../../src/pmd/memory/experience';
import { mergeInsights } from '../../../src/pmd/memory/insight';
import { applyBehaviorActions, behaviorName } from '../../../src/pmd/memory/behavior';
import type { Behavior, ProblemMemory } from '../../../src/pmd/memory/types';

const unit = (v: number[]) => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};
const cand = (id: string, kind: 'success' | 'failure', e: number[]): ExperienceCandidate => ({ id, kind, response: id, reward: kind === 'success' ? 1 : 0, feedback: kind === 'failure' ? 'no' : '', embedding: unit(e) });
const empty = (): ProblemMemory => ({ experience: [], insights: [] });

describe('experience memory', () => {
  it('rejects near-duplicates of the same kind only, keeps distinct ones', () => {
    const { memory, events } = addExperience(empty(), [cand('a', 'success', [1, 0, 0]), cand('b', 'success', [1, 0.001, 0]), cand('c', 'failure', [1, 0, 0]), cand('d', 'success', [0, 1, 0])], { maxSuccesses: 5, maxFailures: 3, novelty: 0.99 }, { step: 1 }, 'p');
    expect(memory.experience.map((x) => x.id)).toEqual(['a', 'c', 'd']);
    expect(events.filter((e) => e.op === 'reject').map((e) => e.item)).toEqual(['b']);
  });

  it('over its bound, evicts the stored item most redundant with the others', () => {
    // a and b are close to each other; c is far. Bound 2: adding d evicts a or b (the redundant pair), never c.
    let pm = empty();
    const b = { maxSuccesses: 2, maxFailures: 3, novelty: 0.9999 };
    pm = addExperience(pm, [cand('a', 'success', [1, 0.1, 0]), cand('c', 'success', [0, 0, 1])], b, { step: 1 }, 'p').memory;
    const r = addExperience(pm, [cand('b', 'success', [1, 0.12, 0])], b, { step: 2 }, 'p');
    expect(r.memory.experience.map((x) => x.id).sort()).toEqual(['b', 'c']);
    expect(r.events.find((e) => e.op === 'evict')).toMatchObject({ item: 'a', before: { id: 'a' } });
    // Bounds hold for many adds.
    let m = empty();
    for (let i = 0; i < 20; i++) m = addExperience(m, [cand(`s${i}`, 'success', [Math.cos(i), Math.sin(i), i / 10]), cand(`f${i}`, 'failure', [Math.sin(i), Math.cos(i), i / 7])], { maxSuccesses: 5, maxFailures: 3, novelty: 0.999 }, { step: i }, 'p').memory;
    expect(m.experience.filter((x) => x.kind === 'success').length).toBeLessThanOrEqual(5);
    expect(m.experience.filter((x) => x.kind === 'failure').length).toBeLessThanOrEqual(3);
  });
});

describe('insight memory', () => {
  const src = { step: 1, rollouts: ['r1'], reflection: 'r1-p', reflector: 'policy' as const };
  it('appends novel items, never overwrites, rejects near-duplicates and items beyond the cap', () => {
    const reply = { strategies: [{ title: 'A', content: 'x' }, { title: 'B', content: 'y' }, { title: 'C', content: 'z' }], lessons: [{ title: 'L', content: 'w' }] };
    const emb = { 'r-s0': unit([1, 0]), 'r-s1': unit([1, 0.0001]), 'r-s2': unit([0, 1]), 'r-l0': unit([1, 0]) };
    const { memory, events } = mergeInsights(empty(), reply, emb, { novelty: 0.999, maxPerKind: 2 }, src, 'r', 'p');
    expect(memory.insights.map((x) => x.id)).toEqual(['r-s0', 'r-s2', 'r-l0']);
    expect(events.filter((e) => e.op === 'reject').map((e) => e.item)).toEqual(['r-s1']);
    const again = mergeInsights(memory, { strategies: [{ title: 'D', content: 'v' }], lessons: [] }, { 'q-s0': unit([1, 1]) }, { novelty: 0.999, maxPerKind: 2 }, src, 'q', 'p');
    expect(again.memory.insights.slice(0, 3)).toEqual(memory.insights);
    expect(again.events[0]).toMatchObject({ op: 'reject', cause: { reason: expect.stringMatching(/already keeps 2 strategies/) } });
  });
});

describe('behavior bank', () => {
  const src = { step: 3, rollouts: [], reflection: 'r3-c0', reflector: 'policy' as const };
  const base: Behavior[] = [{ name: 'behavior_check_units', instruction: 'old', cluster: 0, problems: ['p1'], embedding: unit([1, 0, 0]), source: src, history: [] }];
  it('applies new, update and remove actions with normalised names, and rejects what it must', () => {
    const actions = [
      { action: 'new' as const, name: 'Try Small Cases', instruction: 'Start small.' },
      { action: 'update' as const, name: 'behavior_check_units', instruction: 'Check units twice.' },
      { action: 'remove' as const, name: 'behavior_unknown' },
      { action: 'new' as const, name: 'near dup', instruction: 'Almost the units one.' },
      { action: 'update' as const, name: 'behavior_missing', instruction: 'x' },
    ];
    const emb = {
      'new:behavior_try_small_cases': unit([0, 1, 0]),
      'update:behavior_check_units': unit([1, 0.1, 0]),
      'new:behavior_near_dup': unit([1, 0.1, 0.0001]),
      'update:behavior_missing': unit([0, 0, 1]),
    };
    const { bank, events } = applyBehaviorActions(base, actions, emb, { maxBank: 500, novelty: 0.999 }, { index: 2, problems: ['p2'] }, src);
    expect(bank.map((b) => b.name)).toEqual(['behavior_check_units', 'behavior_try_small_cases']);
    expect(bank[0]).toMatchObject({ instruction: 'Check units twice.', problems: ['p1', 'p2'], history: [{ op: 'update', step: 3 }] });
    expect(events.map((e) => `${e.op}:${e.item}`)).toEqual(['add:behavior_try_small_cases', 'update:behavior_check_units', 'reject:behavior_unknown', 'reject:behavior_near_dup', 'reject:behavior_missing']);
    const removed = applyBehaviorActions(bank, [{ action: 'remove', name: 'behavior_check_units' }], {}, { maxBank: 500, novelty: 0.999 }, { index: 0, problems: [] }, src);
    expect(removed.bank.map((b) => b.name)).toEqual(['behavior_try_small_cases']);
    const full = applyBehaviorActions(bank, [{ action: 'new', name: 'x', instruction: 'y' }], { 'new:behavior_x': unit([0, 0, 1]) }, { maxBank: 2, novelty: 0.999 }, { index: 0, problems: [] }, src);
    expect(full.events[0]).toMatchObject({ op: 'reject', cause: { reason: expect.stringMatching(/full/) } });
    expect(behaviorName('  Behavior: Split the Work! ')).toBe('behavior_split_the_work');
    expect(behaviorName('!!!')).toBeNull();
  });
});
