/**
 * Made-up procedure names ("zovik", "tamel"): two syllables, consonant-vowel then
 * consonant-vowel-consonant, drawn with a seeded generator.
 */
import type { Prng } from '../../util/prng';

const ONSETS = 'bdfgklmnprstvz';
const VOWELS = 'aeiou';
const CODAS = 'klmnrst';

const pick = (rng: Prng, s: string) => s[Math.floor(rng.next() * s.length)];

export function randomName(rng: Prng): string {
  return pick(rng, ONSETS) + pick(rng, VOWELS) + pick(rng, ONSETS) + pick(rng, VOWELS) + pick(rng, CODAS);
}

/** A name not in `taken` (which it is then added to). */
export function freshName(rng: Prng, taken: Set<string>): string {
  for (let i = 0; i < 10_000; i++) {
    const n = randomName(rng);
    if (!taken.has(n)) {
      taken.add(n);
      return n;
    }
  }
  throw new Error('ran out of fresh names');
}
