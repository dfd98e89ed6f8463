/**
 * The pretraining corpus of the embedded world model: {prompt, response} rows, where the
 * response is always a worked solution (step lines, then the answer line).
 *
 *  - plain rows: a problem with taught procedures only, no memory. This is where the model
 *    learns the taught names and how to chain procedures.
 *  - memory rows: the prompt is a teacher context (`buildTeacherContext`, the loop's own
 *    layout) whose strategies, lessons, behaviors, solution and feedback are written with the
 *    reflector's sentences. Most procedure slots get a throw-away name (world.throwaway) bound
 *    to a random operation for that row only, so the model cannot memorise a name and has to
 *    read what the memory says it does; distractor items about other names teach it to read
 *    the right one. A few rows leave a name unexplained (only exclusions), as real memory
 *    sometimes does.
 *
 * Untaught procedure names appear only as throw-away names (random meanings), and no problem
 * of the suite is ever a corpus problem.
 */
import { buildTeacherContext } from '../reprompt';
import type { Prng } from '../../util/prng';
import { OPERATIONS, applyOperation, type Operation } from './operations';
import { extractAnswer, problemText, solutionText } from './format';
import { checkTextAnswer } from './text-answer';
import {
  ANSWER_LINE_LESSON,
  GENERIC_BEHAVIORS,
  KEEP_LENGTH_LESSON,
  behaviorForFact,
  lessonOnlyFit,
  lessonRuledOut,
  strategyForFact,
  strategyForOrder,
  type BehaviorText,
  type TextItem,
} from './memory-text';
import { randomSymbols, type World } from './world';

export interface CorpusRow {
  prompt: string;
  response: string;
  kind: 'plain' | 'memory';
}

export interface CorpusOptions {
  /** Share of memory rows. */
  memoryShare: number;
  /** Share of problems that chain two procedures. */
  chainShare: number;
  /** In memory rows, chance that a procedure slot gets a throw-away name. */
  nonceShare: number;
  /** Chance that a row adds a strategy about some other name. */
  distractorStrategy: number;
  /** Chance of a behaviors block when no slot needs one. */
  behaviorsBlock: number;
  /** Chance of a solution block when no slot needs one. */
  solutionBlock: number;
  feedbackBlock: number;
  /** Chance per slot of lessons excluding wrong operations. */
  exclusionLessons: number;
  /**
   * Most strategies about other names a row adds (when it adds any, distractorStrategy), and
   * the chance of lessons about other names: retrieved memory is mostly about other problems'
   * procedures, and the model must read past it. 1 and 0 leave the row as the first builds drew it.
   */
  maxDistractors: number;
  distractorLessons: number;
}

export const CORPUS_DEFAULTS: CorpusOptions = {
  memoryShare: 0.5,
  chainShare: 0.4,
  nonceShare: 0.8,
  distractorStrategy: 0.25,
  behaviorsBlock: 0.35,
  solutionBlock: 0.12,
  feedbackBlock: 0.12,
  exclusionLessons: 0.2,
  maxDistractors: 1,
  distractorLessons: 0,
};

/** How a slot's procedure is explained in a memory row. */
type Source = 'strategy' | 'behavior' | 'only-fit' | 'solution' | 'none';

const SOURCE_WEIGHTS: [Source, number][] = [
  ['strategy', 0.5],
  ['behavior', 0.22],
  ['only-fit', 0.1],
  ['solution', 0.1],
  ['none', 0.08],
];

interface Slot {
  name: string;
  op: Operation;
  source: Source;
}

export interface CorpusContext {
  world: World;
  /** Problem texts of the suite (never generated here). */
  exclude: ReadonlySet<string>;
  options: CorpusOptions;
}

const chance = (rng: Prng, p: number) => rng.next() < p;
const choose = <T>(rng: Prng, xs: readonly T[]): T => xs[Math.floor(rng.next() * xs.length)];

function weighted<T>(rng: Prng, table: readonly [T, number][]): T {
  let u = rng.next() * table.reduce((a, [, w]) => a + w, 0);
  for (const [v, w] of table) if ((u -= w) < 0) return v;
  return table[table.length - 1][0];
}

function shuffled<T>(rng: Prng, xs: readonly T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** A problem over `names` with an input that makes it no suite problem. */
function drawProblem(ctx: CorpusContext, rng: Prng, names: string[]): { problem: string; input: number[] } {
  for (;;) {
    const input = randomSymbols(rng);
    const problem = problemText(names, input);
    if (!ctx.exclude.has(problem)) return { problem, input };
  }
}

function solve(slots: readonly { name: string; op: Operation }[], input: readonly number[]): string {
  let cur = [...input];
  return solutionText(
    input,
    slots.map((s) => {
      cur = applyOperation(s.op, cur);
      return { name: s.name, operation: s.op, result: cur };
    }),
  );
}

function plainRow(ctx: CorpusContext, rng: Prng): CorpusRow {
  const taught = ctx.world.procedures.filter((p) => p.taught);
  const held = new Set(ctx.world.heldOutCombos.map((c) => c.join(' ')));
  let slots = [choose(rng, taught)];
  if (chance(rng, ctx.options.chainShare)) {
    do slots = [choose(rng, taught), choose(rng, taught)];
    while (slots[0] === slots[1] || held.has(`${slots[0].name} ${slots[1].name}`));
  }
  const s = slots.map((p) => ({ name: p.name, op: p.operation }));
  const { problem, input } = drawProblem(ctx, rng, s.map((x) => x.name));
  return { prompt: problem, response: solve(s, input), kind: 'plain' };
}

function memoryRow(ctx: CorpusContext, rng: Prng): CorpusRow {
  const o = ctx.options;
  const taken = new Set<string>();
  const throwaway = () => {
    let n: string;
    do n = choose(rng, ctx.world.throwaway);
    while (taken.has(n));
    taken.add(n);
    return n;
  };
  const taught = ctx.world.procedures.filter((p) => p.taught);
  const n = chance(rng, o.chainShare) ? 2 : 1;
  const slots: Slot[] = [];
  while (slots.length < n) {
    const nonce = chance(rng, o.nonceShare);
    const p = nonce ? { name: throwaway(), operation: choose(rng, OPERATIONS) } : choose(rng, taught);
    if (slots.some((s) => s.name === p.name)) continue;
    taken.add(p.name);
    slots.push({ name: p.name, op: p.operation, source: weighted(rng, SOURCE_WEIGHTS) });
  }
  const { problem, input } = drawProblem(ctx, rng, slots.map((s) => s.name));
  const response = solve(slots, input);
  const other = () => ({ name: throwaway(), op: choose(rng, OPERATIONS) });
  const wrongOps = (s: Slot) => shuffled(rng, OPERATIONS.filter((x) => x !== s.op));

  const strategies: TextItem[] = [];
  const lessons: TextItem[] = [];
  const relevant: BehaviorText[] = [];
  for (const s of slots) {
    if (s.source === 'strategy') strategies.push(strategyForFact(s.name, s.op));
    if (s.source === 'behavior') relevant.push(behaviorForFact(s.name, s.op));
    if (s.source === 'only-fit') lessons.push(lessonOnlyFit(s.name, s.op));
    if (s.source === 'none' || chance(rng, o.exclusionLessons)) {
      for (const w of wrongOps(s).slice(0, 1 + Math.floor(rng.next() * 2))) lessons.push(lessonRuledOut(s.name, w));
    }
  }
  if (n > 1 && chance(rng, 0.5)) strategies.push(strategyForOrder(slots[0].name, slots[1].name));
  if (chance(rng, o.distractorStrategy)) {
    const count = o.maxDistractors > 1 ? 1 + Math.floor(rng.next() * o.maxDistractors) : 1;
    for (let i = 0; i < count; i++) {
      const d = other();
      const item = o.maxDistractors > 1 && chance(rng, 0.3) ? strategyForOrder(d.name, other().name) : strategyForFact(d.name, d.op);
      strategies.splice(Math.floor(rng.next() * (strategies.length + 1)), 0, item);
    }
  }
  if (o.distractorLessons > 0 && chance(rng, o.distractorLessons)) {
    for (let i = 1 + Math.floor(rng.next() * 2); i > 0; i--) {
      const d = other();
      const item = chance(rng, 0.5) ? lessonOnlyFit(d.name, d.op) : lessonRuledOut(d.name, choose(rng, OPERATIONS.filter((x) => x !== d.op)));
      lessons.splice(Math.floor(rng.next() * (lessons.length + 1)), 0, item);
    }
  }
  if (chance(rng, 0.05)) lessons.push(chance(rng, 0.5) ? ANSWER_LINE_LESSON : KEEP_LENGTH_LESSON);

  let behaviors: BehaviorText[] = [];
  if (relevant.length || chance(rng, o.behaviorsBlock)) {
    behaviors = [...relevant];
    const generic = Object.values(GENERIC_BEHAVIORS);
    while (behaviors.length < 3) {
      const b = chance(rng, 0.6) ? (() => { const d = other(); return behaviorForFact(d.name, d.op); })() : choose(rng, generic);
      if (!behaviors.some((x) => x.name === b.name)) behaviors.push(b);
    }
    behaviors = shuffled(rng, behaviors);
  }
  const withSolution = slots.some((s) => s.source === 'solution') || chance(rng, o.solutionBlock);
  let feedback: string | null = null;
  if (chance(rng, o.feedbackBlock)) {
    const wrong = slots.map((s) => (chance(rng, 0.5) ? s : { ...s, op: choose(rng, wrongOps(s)) }));
    const fb = checkTextAnswer(extractAnswer(response)!, solve(wrong, input)).feedback;
    if (fb) feedback = fb;
  }
  const ctxText = buildTeacherContext({
    problem,
    strategies: strategies.map((x, i) => ({ id: `s${i}`, ...x })),
    lessons: lessons.map((x, i) => ({ id: `l${i}`, ...x })),
    behaviors,
    solution: withSolution ? { id: 'solution', text: response } : null,
    feedback: feedback ? { id: 'feedback', text: feedback } : null,
  }).text;
  return { prompt: ctxText, response, kind: 'memory' };
}

/** One row; its kind is drawn (memoryShare) unless given. */
export function corpusRow(ctx: CorpusContext, rng: Prng, kind?: CorpusRow['kind']): CorpusRow {
  const k = kind ?? (chance(rng, ctx.options.memoryShare) ? 'memory' : 'plain');
  return k === 'memory' ? memoryRow(ctx, rng) : plainRow(ctx, rng);
}
