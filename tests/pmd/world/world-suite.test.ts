/** The world's generator: determinism, splits, held-out combinations and the task line layout. */
import { describe, expect, it } from 'vitest';
import { generateSuite, suiteJsonl, WORLD_DOMAIN } from '../../../src/pmd/world/suite';
import { makeWorld, procedure } from '../../../src/pmd/world/world';
import { applyChain, applyOperation, describeOperation, operationFromPhrase, OPERATIONS } from '../../../src/pmd/world/operations';
import { parseProblem, parseSymbols } from '../../../src/pmd/world/format';

describe('operations', () => {
  it('keep the length, and every description reads back as its operation', () => {
    const s = [3, 8, 1, 5, 0];
    for (const o of OPERATIONS) {
      expect([...applyOperation(o, s)].sort()).toEqual([...s].sort());
      expect(applyOperation(o, s)).toHaveLength(s.length);
      expect(operationFromPhrase(describeOperation(o))).toBe(o);
    }
    expect(new Set(OPERATIONS.map(describeOperation)).size).toBe(OPERATIONS.length);
  });

  it('do what their descriptions say', () => {
    const s = [3, 8, 1, 5, 0];
    const run = (id: string) => applyOperation(OPERATIONS.find((o) => o.id === id)!, s);
    expect(run('reverse')).toEqual([0, 5, 1, 8, 3]);
    expect(run('rotate_left_1')).toEqual([8, 1, 5, 0, 3]);
    expect(run('rotate_left_2')).toEqual([1, 5, 0, 3, 8]);
    expect(run('rotate_right_1')).toEqual([0, 3, 8, 1, 5]);
    expect(run('rotate_right_2')).toEqual([5, 0, 3, 8, 1]);
    expect(run('swap_pairs')).toEqual([8, 3, 5, 1, 0]);
    expect(run('swap_ends')).toEqual([0, 8, 1, 5, 3]);
    expect(run('sort_up')).toEqual([0, 1, 3, 5, 8]);
    expect(run('sort_down')).toEqual([8, 5, 3, 1, 0]);
  });
});

describe('world suite', () => {
  it('is the same for the same seed and differs for another seed', () => {
    expect(suiteJsonl(generateSuite(makeWorld(7)))).toBe(suiteJsonl(generateSuite(makeWorld(7))));
    expect(suiteJsonl(generateSuite(makeWorld(8)))).not.toBe(suiteJsonl(generateSuite(makeWorld(7))));
    expect(makeWorld(8).procedures.map((p) => p.name)).not.toEqual(makeWorld(7).procedures.map((p) => p.name));
  });

  const world = makeWorld(3);
  const suite = generateSuite(world);
  const train = suite.filter((t) => t.split === 'train');
  const test = suite.filter((t) => t.split === 'test');

  it('lays out every line the same way, with answers that solve the problems', () => {
    for (const t of suite) {
      expect(Object.keys(t)).toEqual(['id', 'split', 'domain', 'problem', 'answer', 'meta']);
      expect(t.domain).toBe(WORLD_DOMAIN);
      expect(t.answer.kind).toBe('text');
      const p = parseProblem(t.problem)!;
      expect(p.names).toEqual(t.meta.procedures);
      expect(t.meta.family).toBe(p.names.join('+'));
      expect(parseSymbols(t.answer.value)).toEqual(applyChain(p.names.map((n) => procedure(world, n).operation), p.input));
      expect(t.meta.kind).toBe(p.names.every((n) => procedure(world, n).taught) ? 'taught' : 'untaught');
    }
    expect(new Set(suite.map((t) => t.id)).size).toBe(suite.length);
    expect(new Set(suite.map((t) => t.problem)).size).toBe(suite.length);
  });

  it('holds out instances of training families and whole combinations', () => {
    const trainFamilies = new Set(train.map((t) => t.meta.family));
    expect(train.every((t) => t.meta.heldOut === 'none')).toBe(true);
    for (const t of test) {
      if (t.meta.heldOut === 'instance') expect(trainFamilies.has(t.meta.family)).toBe(true);
      else expect(t.meta.heldOut).toBe('combination');
      if (t.meta.heldOut === 'combination') {
        expect(trainFamilies.has(t.meta.family)).toBe(false);
        expect(world.heldOutCombos.map((c) => c.join('+'))).toContain(t.meta.family);
        // Each of its procedures is trained on its own.
        for (const n of t.meta.procedures) expect(trainFamilies.has(n)).toBe(true);
      }
    }
    const kinds = new Set(test.map((t) => `${t.meta.heldOut}/${t.meta.kind}/${t.meta.procedures.length}`));
    expect([...kinds].sort()).toEqual(['combination/taught/2', 'combination/untaught/2', 'instance/taught/1', 'instance/taught/2', 'instance/untaught/1', 'instance/untaught/2']);
  });

  it('gives every operation kind a name, taught and untaught names, and distinct names', () => {
    const names = world.procedures.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
    expect(world.procedures.some((p) => p.taught) && world.procedures.some((p) => !p.taught)).toBe(true);
    for (const n of names) expect(n).toMatch(/^[a-z]+$/);
  });
});
