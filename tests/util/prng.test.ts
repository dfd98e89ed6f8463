import { describe, expect, it } from 'vitest';
import { hashSeed, portableLog, Prng } from '../../src/util/prng';

describe('Prng', () => {
  it('is deterministic per seed and differs between seeds', () => {
    const a = new Prng(42);
    const b = new Prng(42);
    const c = new Prng(43);
    const xs = Array.from({ length: 8 }, () => a.next());
    expect(Array.from({ length: 8 }, () => b.next())).toEqual(xs);
    expect(Array.from({ length: 8 }, () => c.next())).not.toEqual(xs);
    for (const x of xs) expect(x >= 0 && x < 1).toBe(true);
  });
  it('matches mulberry32 reference values (computed independently)', () => {
    const p = new Prng(1);
    expect(p.nextUint32()).toBe(2693262067);
    expect(p.nextUint32()).toBe(11749833);
  });
  it('produces standard normals', () => {
    const p = new Prng(7);
    const n = 20000;
    let s = 0;
    let s2 = 0;
    for (let i = 0; i < n; i++) {
      const z = p.normal();
      s += z;
      s2 += z * z;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.03);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.05);
  });
  it('portableLog agrees with Math.log to within an ulp or two', () => {
    for (const x of [1e-300, 1e-10, 0.1, 0.5, 0.7071, 1, 1.5, 2, Math.E, 10, 12345.678, 1e300, 5e-324]) {
      expect(portableLog(x)).toBeCloseTo(Math.log(x), 12);
    }
    expect(portableLog(1)).toBe(0);
  });
  it('hashSeed separates names', () => {
    expect(hashSeed(1, 'a')).not.toBe(hashSeed(1, 'b'));
    expect(hashSeed(1, 'a')).not.toBe(hashSeed(2, 'a'));
    expect(hashSeed(1, 'a')).toBe(hashSeed(1, 'a'));
  });
});
