/**
 * Weights must be finite: one NaN or infinity in a weight or adapter tensor turns every logit
 * into NaN, which would otherwise show up only as `null` logits far from the file at fault.
 */

import { ModelFormatError } from './types';

/** Throw, naming the file and tensor, if `data[from..to)` holds a NaN or an infinity. */
export function checkFinite(data: Float32Array, file: string, tensor: string, from = 0, to = data.length): void {
  const bits = new Uint32Array(data.buffer, data.byteOffset, data.length);
  for (let i = from; i < to; i++) {
    // All exponent bits set: an infinity or a NaN.
    if ((bits[i] & 0x7f800000) === 0x7f800000) {
      throw new ModelFormatError(
        file,
        `tensor "${tensor}": element ${i} is ${data[i]}; weights must be finite (a NaN or infinite value makes every output NaN)`,
      );
    }
  }
}
