/**
 * Seeded pseudo-random numbers that come out bit-identical on every JS engine and platform.
 *
 * Uniforms come from mulberry32 (32-bit integer arithmetic only). Normals use the Marsaglia
 * polar method; its logarithm is computed here from +, -, *, / (all correctly rounded by
 * IEEE 754) and Math.sqrt (also correctly rounded), because Math.log is only
 * "implementation-approximated" by the spec and may differ by an ulp between engines.
 */

const TWO_POW_32 = 4294967296;
const LN2 = 0.6931471805599453;
const SQRT1_2 = 0.7071067811865476;

const scratch = new DataView(new ArrayBuffer(8));

/** Natural log of a positive, finite, normal number using only exactly-rounded operations. */
export function portableLog(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) return x === 0 ? -Infinity : x === Infinity ? Infinity : NaN;
  // Split x into m * 2^e with m in [1, 2) by reading the IEEE exponent field.
  scratch.setFloat64(0, x);
  const hi = scratch.getUint32(0);
  let e = ((hi >>> 20) & 0x7ff) - 1023;
  if (e === -1023) {
    // Subnormal input: scale into the normal range first.
    return portableLog(x * 2 ** 64) - 64 * LN2;
  }
  scratch.setUint32(0, (hi & 0x800fffff) | (1023 << 20));
  let m = scratch.getFloat64(0);
  // Centre m around 1 so the series argument stays small: m in [sqrt(1/2), sqrt(2)).
  if (m >= 2 * SQRT1_2) {
    m /= 2;
    e += 1;
  }
  // ln(m) = 2 atanh(z), z = (m-1)/(m+1), |z| <= 0.1716; 12 odd terms reach double precision.
  const z = (m - 1) / (m + 1);
  const z2 = z * z;
  let term = z;
  let sum = 0;
  for (let k = 1; k <= 25; k += 2) {
    sum += term / k;
    term *= z2;
  }
  return 2 * sum + e * LN2;
}

export class Prng {
  private state: number;
  private spare: number | null = null;

  constructor(seed: number) {
    // Fold any number (negative, fractional, large) into a 32-bit state deterministically.
    const s = Number.isFinite(seed) ? seed : 0;
    const lo = s >>> 0;
    const hi = Math.floor(s / TWO_POW_32) >>> 0;
    this.state = (lo ^ Math.imul(hi, 0x9e3779b1)) >>> 0;
  }

  /** Next raw 32-bit unsigned integer. */
  nextUint32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / TWO_POW_32;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Standard normal sample (mean 0, variance 1). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    for (;;) {
      const u = 2 * this.next() - 1;
      const v = 2 * this.next() - 1;
      const s = u * u + v * v;
      if (s > 0 && s < 1) {
        const f = Math.sqrt((-2 * portableLog(s)) / s);
        this.spare = v * f;
        return u * f;
      }
    }
  }
}

/** FNV-1a hash of a string mixed with a seed; handy to give each tensor its own stream. */
export function hashSeed(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ (seed >>> 0)) >>> 0;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}
