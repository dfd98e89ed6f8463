/**
 * The world: which made-up procedure names exist, which operation each stands for, which of
 * them the pretraining corpus teaches (shown with worked solutions) and which it never
 * teaches, and which ordered pairs of procedures ("a then b") belong to training and which
 * are held out. Everything is drawn from one seed.
 *
 * Besides the procedures there is a pool of throw-away names. The corpus binds a throw-away
 * name to a random operation for the length of one row, so a model learns to read what memory
 * says a name does instead of remembering names. The untaught procedure names belong to that
 * pool: they occur in the corpus, but only ever with random meanings, so a model knows them as
 * words (their tokens are trained) and never learns what they stand for.
 */
import { hashSeed, Prng } from '../../util/prng';
import { freshName } from './names';
import { operationById, type Operation } from './operations';

export interface Procedure {
  name: string;
  operation: Operation;
  /** Taught in pretraining (worked solutions, no memory needed); untaught names never appear there. */
  taught: boolean;
}

export type ComboKind = 'taught' | 'untaught';

export interface WorldOptions {
  /** Operations that get a taught name. */
  taughtOps: readonly string[];
  /** Operations that get an untaught name (an operation may have both kinds of name). */
  untaughtOps: readonly string[];
  /** Ordered pairs per kind (both names taught / at least one untaught) used for training. */
  trainCombos: Record<ComboKind, number>;
  /** Ordered pairs per kind held out for evaluation (never in training nor pretraining). */
  heldOutCombos: Record<ComboKind, number>;
  /** Throw-away names besides the untaught procedure names. */
  extraNames: number;
}

export const WORLD_DEFAULTS: WorldOptions = {
  taughtOps: ['reverse', 'rotate_left_1', 'rotate_left_2', 'rotate_right_1', 'swap_pairs', 'swap_ends', 'sort_up'],
  untaughtOps: ['rotate_right_2', 'sort_down', 'reverse', 'swap_pairs', 'rotate_left_2'],
  trainCombos: { taught: 6, untaught: 16 },
  heldOutCombos: { taught: 6, untaught: 10 },
  extraNames: 35,
};

export interface World {
  seed: number;
  options: WorldOptions;
  procedures: Procedure[];
  trainCombos: [string, string][];
  heldOutCombos: [string, string][];
  /** Names the corpus binds to random operations: the untaught procedure names and the extra names. */
  throwaway: string[];
}

/** Every name of the world (procedures first, then the extra throw-away names). */
export function worldNames(w: World): string[] {
  return [...new Set([...w.procedures.map((p) => p.name), ...w.throwaway])];
}

export function comboKind(w: World, names: readonly string[]): ComboKind {
  return names.every((n) => procedure(w, n).taught) ? 'taught' : 'untaught';
}

export function procedure(w: World, name: string): Procedure {
  const p = w.procedures.find((x) => x.name === name);
  if (!p) throw new Error(`the world has no procedure ${name}`);
  return p;
}

function shuffle<T>(xs: T[], rng: Prng): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

export function makeWorld(seed: number, options: Partial<WorldOptions> = {}): World {
  const o: WorldOptions = { ...WORLD_DEFAULTS, ...options };
  const rng = new Prng(hashSeed(seed, 'world'));
  const taken = new Set<string>();
  const procedures: Procedure[] = [
    ...o.taughtOps.map((id) => ({ name: freshName(rng, taken), operation: operationById(id), taught: true })),
    ...o.untaughtOps.map((id) => ({ name: freshName(rng, taken), operation: operationById(id), taught: false })),
  ];
  const pairs: Record<ComboKind, [string, string][]> = { taught: [], untaught: [] };
  for (const a of procedures) {
    for (const b of procedures) {
      if (a !== b) pairs[a.taught && b.taught ? 'taught' : 'untaught'].push([a.name, b.name]);
    }
  }
  const trainCombos: [string, string][] = [];
  const heldOutCombos: [string, string][] = [];
  for (const kind of ['taught', 'untaught'] as const) {
    const all = shuffle(pairs[kind], rng);
    const want = o.trainCombos[kind] + o.heldOutCombos[kind];
    if (want > all.length) throw new Error(`the world has ${all.length} ${kind} pairs, fewer than the ${want} asked for`);
    heldOutCombos.push(...all.slice(0, o.heldOutCombos[kind]));
    trainCombos.push(...all.slice(o.heldOutCombos[kind], want));
  }
  const throwaway = [...procedures.filter((p) => !p.taught).map((p) => p.name), ...Array.from({ length: o.extraNames }, () => freshName(rng, taken))];
  return { seed, options: o, procedures, trainCombos, heldOutCombos, throwaway };
}

/** Symbols per problem. One fixed length keeps every operation a fixed pattern of positions. */
export const SEQUENCE_LENGTH = 5;

/** Draw a sequence of distinct digits. */
export function randomSymbols(rng: Prng, length = SEQUENCE_LENGTH): number[] {
  return shuffle([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], rng).slice(0, length);
}
