/** PmdConfig: defaults, variant presets, every problem reported with its path, plain JSON round trip. */
import { describe, expect, it } from 'vitest';
import { PMD_DEFAULTS, PMD_FIELDS, resolvePmdConfig, validatePmdConfig, variantDefaults, VARIANTS } from '../../src/pmd/config';
import { getPath } from '../../src/util/config-fields';

describe('PmdConfig', () => {
  it('every field has a default that validates, and each variant resolves', () => {
    expect(validatePmdConfig(PMD_DEFAULTS)).toEqual([]);
    for (const f of PMD_FIELDS) expect(getPath(PMD_DEFAULTS, f.path), f.path).not.toBeUndefined();
    for (const v of VARIANTS) expect(resolvePmdConfig({ variant: v }).variant).toBe(v);
    expect(variantDefaults('sdpo').memoryLevels).toEqual([]);
    expect(variantDefaults('sdpo').teacher.feedback).toBe('when-no-solution');
    expect(variantDefaults('frozen-policy').freeze.policy).toBe(true);
  });

  it('reports every problem with its field path', () => {
    const problems = validatePmdConfig({ ...PMD_DEFAULTS, steps: 0, rollout: { ...PMD_DEFAULTS.rollout, temperature: -1 }, bogus: 1, variant: 'sdpo', memoryLevels: ['insight'] });
    expect(problems.map((p) => p.path).sort()).toEqual(['bogus', 'rollout.temperature', 'steps']);
    expect(validatePmdConfig({ ...PMD_DEFAULTS, variant: 'sdpo', memoryLevels: ['insight'] }).map((p) => p.path)).toEqual(['memoryLevels']);
    expect(validatePmdConfig({ ...PMD_DEFAULTS, eval: { ...PMD_DEFAULTS.eval, k: 9, n: 2 } }).map((p) => p.path)).toEqual(['eval.k']);
    expect(() => resolvePmdConfig({ reflector: { kind: 'endpoint' } })).toThrow(/reflector.endpoint: needs an http\(s\) URL/);
    expect(() => resolvePmdConfig('nope')).toThrow(/must be a JSON object/);
  });

  it('a resolved config is plain JSON and resolves to itself', () => {
    const c = resolvePmdConfig({ variant: 'grpo', steps: 3, train: { optimizer: { lr: 0.01 } } });
    expect(resolvePmdConfig(JSON.parse(JSON.stringify(c)))).toEqual(c);
    expect(c.train.optimizer.lr).toBe(0.01);
    expect(c.train.optimizer.beta1).toBe(PMD_DEFAULTS.train.optimizer.beta1);
  });
});
