/**
 * The task suite of a world: task lines {id, split, domain, problem, answer, meta}.
 *
 * Families are single procedures ("zovik") and ordered pairs ("zovik then tamel"). The train
 * split holds instances of every single procedure and of the training pairs. The test split
 * holds other instances of those families (held-out kind "instance") and instances of the
 * held-out pairs, which appear in no training data at all (held-out kind "combination").
 * No problem text appears twice in the suite.
 */
import { hashSeed, Prng } from '../../util/prng';
import { applyChain } from './operations';
import { formatSymbols, problemText } from './format';
import type { TextAnswer } from './text-answer';
import { comboKind, procedure, randomSymbols, type ComboKind, type World } from './world';

export const WORLD_DOMAIN = 'procedures';
/** The name the world's rule reflector is registered under (every task's meta.reflector). */
export const WORLD_REFLECTOR = 'procedures-world';

export type HeldOutKind = 'none' | 'instance' | 'combination';

export interface WorldTaskMeta {
  /** The family: the procedure names joined by "+". */
  family: string;
  procedures: string[];
  /** 'taught' when every procedure was taught in pretraining, else 'untaught'. */
  kind: ComboKind;
  heldOut: HeldOutKind;
  /** Which rule reflector reflects on this task (WORLD_REFLECTOR). */
  reflector: string;
}

export interface WorldTask {
  id: string;
  split: 'train' | 'test';
  domain: string;
  problem: string;
  answer: TextAnswer;
  meta: WorldTaskMeta;
}

/** The one place that lays out a task line's fields. */
export function worldTaskLine(f: { id: string; split: 'train' | 'test'; problem: string; answer: string; meta: WorldTaskMeta }): WorldTask {
  return { id: f.id, split: f.split, domain: WORLD_DOMAIN, problem: f.problem, answer: { kind: 'text', value: f.answer }, meta: f.meta };
}

export interface SuiteOptions {
  /** Train instances of each single procedure, by kind. */
  singleTrain: Record<ComboKind, number>;
  /** Test instances of each single procedure, by kind. */
  singleTest: Record<ComboKind, number>;
  /** Train instances of each training pair. */
  comboTrain: number;
  /** Test instances of each training pair. */
  comboTest: number;
  /** Test instances of each held-out pair. */
  heldOutTest: number;
}

export const SUITE_DEFAULTS: SuiteOptions = {
  singleTrain: { taught: 3, untaught: 10 },
  singleTest: { taught: 2, untaught: 6 },
  comboTrain: 3,
  comboTest: 1,
  heldOutTest: 2,
};

export function generateSuite(world: World, options: Partial<SuiteOptions> = {}): WorldTask[] {
  const o: SuiteOptions = { ...SUITE_DEFAULTS, ...options };
  const rng = new Prng(hashSeed(world.seed, 'suite'));
  const seen = new Set<string>();
  const plan: { split: 'train' | 'test'; names: string[]; heldOut: HeldOutKind }[] = [];
  const add = (split: 'train' | 'test', names: string[], heldOut: HeldOutKind, n: number) => {
    for (let i = 0; i < n; i++) plan.push({ split, names, heldOut });
  };
  for (const p of world.procedures) {
    const kind = p.taught ? 'taught' : 'untaught';
    add('train', [p.name], 'none', o.singleTrain[kind]);
    add('test', [p.name], 'instance', o.singleTest[kind]);
  }
  for (const c of world.trainCombos) {
    add('train', c, 'none', o.comboTrain);
    add('test', c, 'instance', o.comboTest);
  }
  for (const c of world.heldOutCombos) add('test', c, 'combination', o.heldOutTest);

  const tasks: WorldTask[] = [];
  const counters = { train: 0, test: 0 };
  for (const split of ['train', 'test'] as const) {
    for (const item of plan.filter((x) => x.split === split)) {
      const ops = item.names.map((n) => procedure(world, n).operation);
      let input: number[];
      let problem: string;
      do {
        input = randomSymbols(rng);
        problem = problemText(item.names, input);
      } while (seen.has(problem));
      seen.add(problem);
      tasks.push(
        worldTaskLine({
          id: `w${world.seed}-${split}-${String(counters[split]++).padStart(4, '0')}`,
          split,
          problem,
          answer: formatSymbols(applyChain(ops, input)),
          meta: { family: item.names.join('+'), procedures: [...item.names], kind: comboKind(world, item.names), heldOut: item.heldOut, reflector: WORLD_REFLECTOR },
        }),
      );
    }
  }
  return tasks;
}

/** The suite as JSON lines (one task per line, trailing newline). */
export function suiteJsonl(tasks: readonly WorldTask[]): string {
  return tasks.map((t) => JSON.stringify(t)).join('\n') + '\n';
}
