/** The world's rule-based reflector: reply shapes, the spec's item rules, and inference from evidence only. */
import { describe, expect, it } from 'vitest';
import { reflectInsights } from '../../../src/pmd/world/insight-reflector';
import { reflectBehaviorsCold, reflectBehaviorsEvolve, type ClusterProblem } from '../../../src/pmd/world/behavior-reflector';
import { inferFromEvidence } from '../../../src/pmd/world/evidence';
import { checkTextAnswer } from '../../../src/pmd/world/text-answer';
import { applyChain, operationById, OPERATIONS, type Operation } from '../../../src/pmd/world/operations';
import { formatSymbols, problemText, solutionText } from '../../../src/pmd/world/format';
import { behaviorForFact, readFacts } from '../../../src/pmd/world/memory-text';
import type { InsightReply } from '../../../src/pmd/memory/types';

/** A response that applies `ops` to `input` with step lines. */
function respond(names: string[], ops: Operation[], input: number[]): string {
  let cur = input;
  return solutionText(input, names.map((name, i) => ({ name, operation: ops[i], result: (cur = applyChain([ops[i]], cur)) })));
}

/** Successes and failures of a problem whose hidden truth is `truth`, from responses applying `tries`. */
function evidence(names: string[], truth: Operation[], input: number[], tries: Operation[][]) {
  const value = formatSymbols(applyChain(truth, input));
  const successes: { response: string }[] = [];
  const failures: { response: string; feedback: string }[] = [];
  for (const t of tries) {
    const response = respond(names, t, input);
    const c = checkTextAnswer(value, response);
    if (c.reward === 1) successes.push({ response });
    else failures.push({ response, feedback: c.feedback });
  }
  return { problem: problemText(names, input), successes, failures };
}

const op = operationById;

function checkItemRules(reply: InsightReply): void {
  for (const item of [...reply.strategies, ...reply.lessons]) {
    expect(item.title.trim().split(/\s+/).length).toBeLessThanOrEqual(10);
    const sentences = item.content.split(/(?<=\.)\s+/).filter((s) => s.trim());
    expect(sentences.length).toBeGreaterThanOrEqual(2);
    expect(sentences.length).toBeLessThanOrEqual(4);
    expect(`${item.title} ${item.content}`).not.toMatch(/attempt|model|option|letter|guess|rollout/i);
  }
}

describe('insight reflector', () => {
  it('infers the operation from a success and writes it as a strategy', () => {
    const e = evidence(['zovik'], [op('rotate_left_2')], [3, 8, 1, 5, 0], [[op('rotate_left_2')], [op('reverse')]]);
    const r = reflectInsights(e);
    checkItemRules(r);
    expect(r.strategies[0]).toEqual({ title: 'What zovik does', content: 'zovik moves the first 2 symbols to the end. Write its result on its own line.' });
    // Contrastive: the failure becomes a lesson about the rule it applied.
    expect(r.lessons.map((l) => l.content)).toContain('zovik never reverses the order of the symbols. That rule puts wrong symbols in the answer.');
  });

  it('reads the evidence, not a hidden truth: other successful answers give other strategies', () => {
    const input = [3, 8, 1, 5, 0];
    for (const o of [op('sort_up'), op('rotate_right_2'), op('swap_pairs')]) {
      const r = reflectInsights(evidence(['zovik'], [o], input, [[o]]));
      expect(readFacts(r.strategies[0].content)).toEqual([{ name: 'zovik', operation: o, positive: true }]);
    }
    // The problem text alone (no rollouts) says nothing.
    expect(reflectInsights({ problem: problemText(['zovik'], input), successes: [], failures: [] })).toEqual({ strategies: [], lessons: [] });
  });

  it('with failures only, writes lessons: exclusions, and the one rule the checked positions leave', () => {
    const input = [3, 8, 1, 5, 0];
    const truth = [op('rotate_right_2')];
    const e = evidence(['zovik'], truth, input, [[op('reverse')], [op('rotate_left_1')], [op('sort_up')]]);
    expect(e.successes).toHaveLength(0);
    const inf = inferFromEvidence(e)!;
    expect(inf.candidates.get('zovik')).toContain(truth[0]);
    const r = reflectInsights(e);
    checkItemRules(r);
    expect(r.strategies).toEqual([]);
    expect(r.lessons.length).toBeGreaterThan(0);
    const facts = r.lessons.flatMap((l) => readFacts(l.content));
    // Every excluded operation really is wrong, and any positive statement is the truth.
    for (const f of facts) expect(f.positive ? f.operation === truth[0] : f.operation !== truth[0]).toBe(true);
    expect(facts.some((f) => !f.positive && f.operation.id === 'reverse')).toBe(true);
  });

  it('narrows a chain with step lines and writes the order', () => {
    const names = ['zovik', 'tamel'];
    const truth = [op('swap_ends'), op('rotate_left_1')];
    const r = reflectInsights(evidence(names, truth, [4, 9, 2, 7, 1], [truth]));
    checkItemRules(r);
    const facts = r.strategies.flatMap((s) => readFacts(s.content));
    expect(facts).toEqual([
      { name: 'zovik', operation: truth[0], positive: true },
      { name: 'tamel', operation: truth[1], positive: true },
    ]);
    expect(r.strategies.map((s) => s.title)).toContain('Apply zovik before tamel');
  });

  it('writes format lessons for a missing answer line or a wrong length', () => {
    const problem = problemText(['zovik'], [1, 2, 3, 4, 5]);
    const r = reflectInsights({
      problem,
      successes: [],
      failures: [
        { response: 'Step: zovik reverses the order of the symbols: 5 4 3 2 1', feedback: checkTextAnswer('2 3 4 5 1', 'Step: zovik reverses the order of the symbols: 5 4 3 2 1').feedback },
        { response: 'Answer: 1 2', feedback: checkTextAnswer('2 3 4 5 1', 'Answer: 1 2').feedback },
      ],
    });
    checkItemRules(r);
    expect(r.lessons.map((l) => l.title)).toEqual(['End with the answer line', 'Keep the number of symbols']);
  });

  it('every operation is identified from one success on distinct digits', () => {
    for (const o of OPERATIONS) {
      const inf = inferFromEvidence(evidence(['zovik'], [o], [3, 8, 1, 5, 0], [[o]]))!;
      expect(inf.candidates.get('zovik')).toEqual([o]);
    }
  });
});

describe('behavior reflector', () => {
  const cluster: ClusterProblem[] = [
    { problem: problemText(['zovik'], [1, 2, 3, 4, 0]), insights: reflectInsights(evidence(['zovik'], [op('reverse')], [1, 2, 3, 4, 0], [[op('reverse')]])).strategies },
    { problem: problemText(['zovik', 'tamel'], [5, 2, 7, 1, 9]), insights: reflectInsights(evidence(['zovik', 'tamel'], [op('reverse'), op('sort_up')], [5, 2, 7, 1, 9], [[op('reverse'), op('sort_up')]])).strategies },
    // No insights yet: its rollouts are used.
    { problem: problemText(['pilok'], [6, 0, 3, 9, 4]), insights: [], evidence: evidence(['pilok'], [op('rotate_right_2')], [6, 0, 3, 9, 4], [[op('rotate_right_2')]]) },
  ];

  it('cold start: 3 to 8 named behaviors, one per settled procedure plus general ones', () => {
    const r = reflectBehaviorsCold(cluster);
    expect(r.behaviors.length).toBeGreaterThanOrEqual(3);
    expect(r.behaviors.length).toBeLessThanOrEqual(8);
    for (const b of r.behaviors) {
      expect(b.name).toMatch(/^behavior_[a-z0-9_]+$/);
      expect(b.instruction.split(/(?<=\.)\s+/).length).toBeGreaterThanOrEqual(2);
    }
    const names = r.behaviors.map((b) => b.name);
    expect(names.slice(0, 3)).toEqual(['behavior_apply_zovik', 'behavior_apply_tamel', 'behavior_apply_pilok']);
    expect(names).toContain('behavior_chain_in_order');
    expect(readFacts(r.behaviors[2].instruction)[0].operation.id).toBe('rotate_right_2');
    // Fills up to three with general behaviors when the cluster settles little.
    expect(reflectBehaviorsCold([{ problem: problemText(['zovik'], [1, 2, 3, 4, 0]), insights: [] }]).behaviors).toHaveLength(3);
  });

  it('evolution: new for unknown procedures, update on changed evidence, nothing when unchanged, remove when excluded', () => {
    const existing = [
      behaviorForFact('zovik', op('reverse')),
      behaviorForFact('tamel', op('sort_down')),
      behaviorForFact('gorin', op('swap_pairs')),
    ];
    const r = reflectBehaviorsEvolve(cluster, existing);
    expect(r.actions).toContainEqual({ action: 'update', name: 'behavior_apply_tamel', instruction: behaviorForFact('tamel', op('sort_up')).instruction });
    expect(r.actions).toContainEqual({ action: 'new', name: 'behavior_apply_pilok', instruction: behaviorForFact('pilok', op('rotate_right_2')).instruction });
    expect(r.actions.some((a) => a.name === 'behavior_apply_zovik')).toBe(false);
    const gorin: ClusterProblem = {
      problem: problemText(['gorin'], [1, 2, 3, 4, 0]),
      insights: [{ title: 'What gorin does not do', content: 'gorin never swaps the symbols of each neighbouring pair. That rule puts wrong symbols in the answer.' }],
    };
    expect(reflectBehaviorsEvolve([gorin], existing).actions).toEqual([{ action: 'remove', name: 'behavior_apply_gorin' }]);
  });
});

describe('the registered world reflector', () => {
  it('is chosen by the suite’s meta.reflector and answers the loop’s evidence in the reflectors’ JSON shapes', async () => {
    await import('../../../src/pmd/world/register');
    const { ruleReflectorForSuite } = await import('../../../src/pmd/reflect/rule-registry');
    const { ruleReflector } = await import('../../../src/pmd/reflect/reflectors');
    const { parseInsightReply } = await import('../../../src/pmd/reflect/parse');
    const { WORLD_REFLECTOR, generateSuite } = await import('../../../src/pmd/world/suite');
    const { makeWorld } = await import('../../../src/pmd/world/world');
    const suite = generateSuite(makeWorld(1));
    expect(new Set(suite.map((t) => t.meta.reflector))).toEqual(new Set([WORLD_REFLECTOR]));
    const rules = ruleReflectorForSuite(suite as never);
    expect(rules?.name).toBe(WORLD_REFLECTOR);
    expect(ruleReflectorForSuite([{ ...suite[0], meta: {} }] as never)).toBeNull();

    const input = [3, 8, 1, 5, 0];
    const truth = [op('rotate_right_2')];
    const e = evidence(['zovik'], truth, input, [truth, [op('reverse')]]);
    const insight = {
      purpose: 'insight' as const,
      problem: 'p1',
      question: e.problem,
      successes: e.successes.map((s) => s.response),
      failures: e.failures,
      correct: 1,
      total: 2,
    };
    const reflect = ruleReflector(rules!);
    const out = await reflect({ kind: 'reflect', id: 'r', purpose: 'insight', problems: ['p1'], messages: [], evidence: insight, seed: 0 } as never);
    expect(out.reflector).toBe(`rule:${WORLD_REFLECTOR}`);
    const parsed = parseInsightReply(out.text, { applyContentRules: true });
    expect(parsed).toMatchObject({ ok: true, dropped: [] });
    const reply = JSON.parse(out.text);
    expect(reply.strategies.map((s: { title: string }) => s.title)).toContain('What zovik does');
    expect(reply.lessons.map((s: { title: string }) => s.title)).toContain('What zovik does not do');
    expect(readFacts(reply.strategies[0].content)).toEqual([{ name: 'zovik', operation: op('rotate_right_2'), positive: true }]);

    const cold = rules!.behaviorCold({
      purpose: 'behavior-cold',
      problems: [{ id: 'p1', question: e.problem, strategies: reply.strategies.map((s: { title: string; content: string }) => `${s.title}: ${s.content}`), lessons: [], successes: [] }],
      existing: [],
    });
    expect(cold.behaviors.map((b) => b.name)).toContain('behavior_apply_zovik');
  });
});
