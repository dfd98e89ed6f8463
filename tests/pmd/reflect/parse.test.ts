/** Reading reflector replies: JSON inside prose, fences and think blocks; repair; shape checks; content rules. */
import { describe, expect, it } from 'vitest';
import { parseBehaviorColdReply, parseBehaviorEvolveReply, parseInsightReply, shortcutReason } from '../../../src/pmd/reflect/parse';
import { insightPrompt, behaviorPrompt } from '../../../src/pmd/reflect/prompts';

describe('reflector replies', () => {
  it('finds the JSON in prose, code fences and after a think block, and repairs it', () => {
    const good = parseInsightReply('<think>hmm {"no": 1}</think>Sure:\n```json\n{"strategies": [{"title": "Carry digits", "content": "Add column by column."}], "lessons": []}\n```');
    expect(good).toMatchObject({ ok: true, repaired: false, value: { strategies: [{ title: 'Carry digits' }] } });
    const broken = parseInsightReply('{"strategies": [{"title": "Carry digits", "content": "Add column by column.",}], lessons: [{"title": "Order", "content": "Keep order."}]');
    expect(broken).toMatchObject({ ok: true, repaired: true, value: { lessons: [{ title: 'Order' }] } });
    expect(parseInsightReply('no json at all')).toMatchObject({ ok: false, error: expect.stringMatching(/no JSON object/) });
    expect(parseInsightReply('{"foo": 1}')).toMatchObject({ ok: false, error: expect.stringMatching(/neither "strategies" nor "lessons"/) });
  });

  it('drops items that break the content rules and says why; titles are cut to 10 words', () => {
    const r = parseInsightReply(JSON.stringify({ strategies: [{ title: 'Pick option B', content: 'The answer B fits.' }, { title: 'one two three four five six seven eight nine ten eleven', content: 'General advice.' }], lessons: [{ title: 'Retry', content: 'My earlier attempt failed.' }] }));
    if (!r.ok) throw new Error(r.error);
    expect(r.value.strategies.map((s) => s.title)).toEqual(['one two three four five six seven eight nine ten']);
    expect(r.value.lessons).toEqual([]);
    expect(r.dropped.map((d) => d.reason)).toEqual(['mentions an answer option', 'talks about attempts']);
    expect(shortcutReason('answer a question about atoms')).toBeNull();
    expect(shortcutReason('In this problem the trick is')).toBe('refers to this particular problem');
  });

  it('behavior replies: cold start and evolution actions', () => {
    expect(parseBehaviorColdReply('{"behaviors": [{"name": "behavior_a", "instruction": "Do a."}, {"name": "", "instruction": "x"}]}')).toMatchObject({ ok: true, value: { behaviors: [{ name: 'behavior_a' }] }, dropped: [{ reason: 'needs a name and an instruction' }] });
    const ev = parseBehaviorEvolveReply('{"actions": [{"action": "NEW", "name": "behavior_b", "instruction": "Do b."}, {"action": "remove", "name": "behavior_a"}, {"action": "merge", "name": "x"}, {"action": "update", "name": "behavior_c"}]}');
    expect(ev).toMatchObject({ ok: true, value: { actions: [{ action: 'new', name: 'behavior_b' }, { action: 'remove', name: 'behavior_a' }] } });
    if (ev.ok) expect(ev.dropped.map((d) => d.reason)).toEqual(['unknown action "merge"', '"update" needs an instruction']);
    expect(parseBehaviorEvolveReply('{"behaviors": []}')).toMatchObject({ ok: false });
  });

  it('prompts ask for the right shape: contrastive with both sides, one-sided otherwise', () => {
    const base = { purpose: 'insight' as const, problem: 'p', question: 'What is 2+2?', correct: 1, total: 2 };
    const both = insightPrompt({ ...base, successes: ['4'], failures: [{ response: '5', feedback: 'wrong' }] })[0].content;
    expect(both).toMatch(/1 of 2 attempts were correct/);
    expect(both).toMatch(/"strategies".*"lessons"/s);
    expect(insightPrompt({ ...base, successes: ['4'], failures: [] })[0].content).not.toMatch(/"lessons"/);
    expect(insightPrompt({ ...base, successes: [], failures: [{ response: '5', feedback: 'wrong' }] })[0].content).not.toMatch(/"strategies"/);
    const cold = behaviorPrompt({ purpose: 'behavior-cold', problems: [{ id: 'p', question: 'q', strategies: ['s'], lessons: [], successes: [] }], existing: [] })[0].content;
    expect(cold).toMatch(/3 to 8 skills/);
    const evolve = behaviorPrompt({ purpose: 'behavior-evolve', problems: [{ id: 'p', question: 'q', strategies: [], lessons: [], successes: ['a'] }], existing: [{ name: 'behavior_x', instruction: 'y' }] })[0].content;
    expect(evolve).toMatch(/- behavior_x: y/);
    expect(evolve).toMatch(/"actions"/);
  });
});
