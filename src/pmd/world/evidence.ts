/**
 * What a problem's verified rollouts say about its procedures, inferred without the hidden
 * answer: every assignment of operations to the problem's procedure names is a hypothesis,
 * and each rollout keeps only the hypotheses that agree with it.
 *   - A success: the hypothesis must produce its final answer (and, when the response's step
 *     lines name the procedures in order, its intermediate results too, as long as some
 *     hypothesis still fits).
 *   - A failure with position feedback: the hypothesis's answer must equal the failed answer
 *     exactly at the positions the feedback calls right and differ at the ones it calls wrong.
 * Operations a failed response applied (read from its step lines, or from its answer for a
 * single procedure) that no surviving hypothesis gives that name are "ruled out".
 */
import { OPERATIONS, applyChain, applyOperation, type Operation } from './operations';
import { extractAnswer, parseProblem, parseSteps, parseSymbols } from './format';
import { parseFeedback } from './text-answer';

export interface ProblemEvidence {
  /** The problem text as posed. */
  problem: string;
  successes: readonly { response: string }[];
  failures: readonly { response: string; feedback: string }[];
}

export interface Inference {
  names: string[];
  input: number[];
  /** Operation assignments (one per name, in order) that agree with every rollout. */
  consistent: Operation[][];
  /** Per name: the operations it can still stand for. */
  candidates: Map<string, Operation[]>;
  /** Per name: operations failed responses applied and the evidence excludes. */
  ruledOut: Map<string, Operation[]>;
  /** Failures without an answer line / with a wrong number of symbols. */
  missingAnswer: boolean;
  wrongLength: boolean;
}

function allAssignments(k: number): Operation[][] {
  let out: Operation[][] = [[]];
  for (let i = 0; i < k; i++) out = out.flatMap((h) => OPERATIONS.map((o) => [...h, o]));
  return out;
}

/** Intermediate results of a hypothesis (one per name). */
function trace(h: readonly Operation[], input: readonly number[]): number[][] {
  const out: number[][] = [];
  let cur = [...input];
  for (const o of h) {
    cur = applyOperation(o, cur);
    out.push(cur);
  }
  return out;
}

const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** The response's step results when its step lines name exactly the problem's procedures in order. */
function orderedSteps(response: string, names: readonly string[]): number[][] | null {
  const steps = parseSteps(response);
  if (steps.length !== names.length || !steps.every((s, i) => s.name === names[i])) return null;
  return steps.map((s) => s.symbols);
}

/** Which operations a failed response applied to each name (from its step lines, or its answer for one procedure). */
function appliedOperations(response: string, names: readonly string[], input: readonly number[]): (Operation[] | null)[] {
  let results = orderedSteps(response, names);
  if (!results && names.length === 1) {
    const ans = parseSymbols(extractAnswer(response) ?? '');
    if (ans) results = [ans];
  }
  if (!results) return names.map(() => null);
  let prev: readonly number[] = input;
  return results.map((r) => {
    const fits = OPERATIONS.filter((o) => same(applyOperation(o, prev), r));
    prev = r;
    return fits;
  });
}

export function inferFromEvidence(e: ProblemEvidence): Inference | null {
  const parsed = parseProblem(e.problem);
  if (!parsed) return null;
  const { names, input } = parsed;
  let hyps = allAssignments(names.length);
  let missingAnswer = false;
  let wrongLength = false;

  for (const s of e.successes) {
    const ans = extractAnswer(s.response);
    const want = ans === null ? null : parseSymbols(ans);
    if (!want) continue;
    const byAnswer = hyps.filter((h) => same(applyChain(h, input), want));
    const steps = orderedSteps(s.response, names);
    const bySteps = steps ? byAnswer.filter((h) => trace(h, input).every((r, i) => same(r, steps[i]))) : [];
    hyps = bySteps.length ? bySteps : byAnswer;
  }
  for (const f of e.failures) {
    const fb = parseFeedback(f.feedback);
    if (fb.kind === 'no-answer') missingAnswer = true;
    if (fb.kind === 'length') wrongLength = true;
    if (fb.kind !== 'positions') continue;
    const got = (extractAnswer(f.response) ?? '').trim().split(/\s+/);
    const wrong = new Set(fb.wrong);
    hyps = hyps.filter((h) => {
      const out = applyChain(h, input);
      return out.length === got.length && out.every((d, i) => (String(d) === got[i]) !== wrong.has(i + 1));
    });
  }

  const candidates = new Map<string, Operation[]>();
  names.forEach((n, i) => candidates.set(n, OPERATIONS.filter((o) => hyps.some((h) => h[i] === o))));
  const ruledOut = new Map<string, Operation[]>(names.map((n) => [n, []]));
  if (hyps.length) {
    for (const f of e.failures) {
      appliedOperations(f.response, names, input).forEach((ops, i) => {
        const excluded = (ops ?? []).filter((o) => !candidates.get(names[i])!.includes(o));
        const list = ruledOut.get(names[i])!;
        // A step several operations explain is evidence against all of them only when all are excluded.
        if (ops && ops.length && excluded.length === ops.length && !list.includes(excluded[0])) list.push(excluded[0]);
      });
    }
  }
  return { names, input, consistent: hyps, candidates, ruledOut, missingAnswer, wrongLength };
}

/** The one operation a name can stand for, or null when the evidence leaves several (or none). */
export function uniqueCandidate(inf: Inference, name: string): Operation | null {
  const c = inf.candidates.get(name) ?? [];
  return c.length === 1 ? c[0] : null;
}
