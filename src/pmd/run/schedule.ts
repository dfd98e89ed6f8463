/**
 * Where a step's randomness comes from. Nothing random is carried in the state as a generator:
 * every draw is seeded from the run's seed and its position (step, purpose, index), so a resumed
 * run draws exactly what an uninterrupted one would.
 */
import { hashSeed, Prng } from '../../util/prng';

/** A 32-bit seed for one purpose at one position of the run. */
export function seedFor(seed: number, ...where: (string | number)[]): number {
  return hashSeed(seed, where.join('/'));
}

/** The ids in a seeded random order (Fisher-Yates). */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const out = [...items];
  const rng = new Prng(seed);
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * The B problems of step `step` (1-based): epochs walk through the train split in a fresh
 * seeded order each; a step that crosses an epoch's end continues in the next epoch's order.
 * Within one step the ids are distinct as long as B <= the split size.
 */
export function problemsForStep(trainIds: readonly string[], B: number, step: number, seed: number): string[] {
  const n = trainIds.length;
  if (n === 0) throw new Error('the task suite has no train problems');
  const out: string[] = [];
  const orders = new Map<number, string[]>();
  for (let j = 0; out.length < Math.min(B, n) && j < B * 4; j++) {
    const p = (step - 1) * Math.min(B, n) + j;
    const epoch = Math.floor(p / n);
    let order = orders.get(epoch);
    if (!order) orders.set(epoch, (order = shuffled(trainIds, seedFor(seed, 'epoch', epoch))));
    const id = order[p % n];
    if (!out.includes(id)) out.push(id);
  }
  return out;
}
