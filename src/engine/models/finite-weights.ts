/**
 * Weights must be finite: one NaN or infinity in a weight or adapter tensor turns every logit
 * into NaN, which would otherwise show up only as `null` logits far from the file at fault.
 */

import { ModelFormatError } from './types';

/** Index of the first NaN or infinity (all exponent bits set) among fp32 bit patterns, or -1. */
export function firstNonFiniteBits(bits: Uint32Array): number {
  for (let i = 0; i < bits.length; i++) if ((bits[i] & 0x7f800000) === 0x7f800000) return i;
  return -1;
}

/** Throw, naming the file and tensor, if `data` holds a NaN or an infinity. */
export function checkFinite(data: Float32Array, file: string, tensor: string): void {
  const bad = firstNonFiniteBits(new Uint32Array(data.buffer, data.byteOffset, data.length));
  if (bad >= 0) throw nonFiniteWeight(file, tensor, bad, data[bad]);
}

/** The error for element `index` of a weight tensor holding `value`, a NaN or an infinity. */
export function nonFiniteWeight(file: string, tensor: string, index: number, value: number): ModelFormatError {
  return new ModelFormatError(file, `tensor "${tensor}": element ${index} is ${value}; weights must be finite (a NaN or infinite value makes every output NaN)`);
}
