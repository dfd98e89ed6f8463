/**
 * Retrieval from a run's memory: with lexicalWeight 0 the ranking is cosine alone (the paper's);
 * blended with word matching, a question finds the problems and behaviors that name what it
 * names even when the embeddings point elsewhere (as the embedded world's digit-heavy
 * questions do). The evaluation prompt shows what retrieval picked.
 */
import { describe, expect, it } from 'vitest';
import { memoryPrompt } from '../../../src/pmd/run/phases/evaluate';
import { lexicalWeightOf, nearestProblems, retrieveBehaviors } from '../../../src/pmd/run/retrieval';
import { emptyMemory, type Behavior, type InsightItem, type MemoryState } from '../../../src/pmd/memory/types';

const src = { step: 1, rollouts: [] };
const insight = (id: string, content: string): InsightItem => ({ id, kind: 'strategy', title: `Fact ${id}`, content, embedding: [1, 0], source: src });
const behavior = (name: string, instruction: string, embedding: number[]): Behavior => ({ name, instruction, cluster: 0, problems: [], embedding, source: src, history: [] });

function memory(): MemoryState {
  const m = emptyMemory();
  // The question vector [1, 0] is closest to p-rigal's and to the rigal behavior: the digits agree, the names do not.
  m.problems['p-rigal'] = { question: { text: 'Apply rigal to 1 2 3 4 5.', embedding: [1, 0] }, experience: [], insights: [insight('a', 'rigal reverses the order.')] };
  m.problems['p-minar'] = { question: { text: 'Apply minar to 2 1 3 5 4.', embedding: [0.6, 0.8] }, experience: [], insights: [insight('b', 'minar sorts the symbols.')] };
  m.problems['p-none'] = { question: { text: 'Apply kadel to 1 2 3 4 5.', embedding: [1, 0] }, experience: [], insights: [] };
  // Other problems on the same digits, as a suite has many: digits become words everyone shares.
  for (const name of ['gebun', 'fesim', 'molis', 'sizam', 'vikon', 'safis']) {
    m.problems[`p-${name}`] = { question: { text: `Apply ${name} to 5 4 3 2 1.`, embedding: [0, 1] }, experience: [], insights: [insight(name, `${name} moves a symbol.`)] };
  }
  m.behaviors = [behavior('behavior_apply_rigal', 'rigal reverses the order of the symbols.', [1, 0]), behavior('behavior_apply_minar', 'minar sorts the symbols.', [0.6, 0.8]), behavior('behavior_answer_line', 'End with an answer line.', [0.9, 0.1])];
  return m;
}
const q = { vector: [1, 0], text: 'Apply minar to 1 2 3 4 5.' };

describe('retrieval from memory', () => {
  it('ranks by cosine alone at weight 0, and skips problems without insights', () => {
    const m = memory();
    expect(nearestProblems(m, q, 2, 0)).toEqual(['p-rigal', 'p-minar']);
    expect(retrieveBehaviors(m, q, 2, 0).map((b) => b.name)).toEqual(['behavior_apply_rigal', 'behavior_answer_line']);
  });

  it('puts what the question names first when word matching is blended in', () => {
    const m = memory();
    expect(nearestProblems(m, q, 1, 0.5)).toEqual(['p-minar']);
    expect(retrieveBehaviors(m, q, 1, 0.5).map((b) => b.name)).toEqual(['behavior_apply_minar']);
  });

  it('reads the weight from a config, 0 for a run stored before the setting', () => {
    expect(lexicalWeightOf({ retrieval: { lexicalWeight: 0.25 } })).toBe(0.25);
    expect(lexicalWeightOf({})).toBe(0);
  });

  it('lays the retrieved memory out in the evaluation prompt', () => {
    const m = memory();
    const opts = { levels: ['insight', 'behavior'], retrieveK: 1, maxBlockChars: 2000 };
    const cosineOnly = memoryPrompt(m, { ...opts, lexicalWeight: 0 }, q.text, q.vector);
    const blended = memoryPrompt(m, { ...opts, lexicalWeight: 0.5 }, q.text, q.vector);
    expect(cosineOnly).toContain('1. behavior_apply_rigal: rigal reverses');
    expect(blended).toContain('1. behavior_apply_minar: minar sorts');
    expect(blended).toContain('minar sorts the symbols.');
    expect(blended.startsWith(q.text)).toBe(true);
  });
});
