/**
 * Memory as files (memory/experience.json, insights.json, behaviors.json, questions.json) and
 * back: what `pmd-lab run` writes after every change and what `pmd-lab eval --memory` and the
 * playground's import read. Embeddings are kept so a reader can retrieve without the model that
 * made them.
 */
import { isRecord } from '../../util/records';
import { emptyMemory, type Behavior, type ExperienceItem, type InsightItem, type MemoryState } from '../memory/types';

export interface MemoryFiles {
  'experience.json': Record<string, ExperienceItem[]>;
  'insights.json': Record<string, InsightItem[]>;
  'behaviors.json': Behavior[];
  'questions.json': Record<string, { text: string; embedding: number[] }>;
}

export function memoryFiles(m: MemoryState): MemoryFiles {
  const experience: Record<string, ExperienceItem[]> = {};
  const insights: Record<string, InsightItem[]> = {};
  const questions: Record<string, { text: string; embedding: number[] }> = {};
  for (const id of Object.keys(m.problems).sort()) {
    const pm = m.problems[id];
    if (pm.experience.length) experience[id] = pm.experience;
    if (pm.insights.length) insights[id] = pm.insights;
    if (pm.question) questions[id] = pm.question;
  }
  return { 'experience.json': experience, 'insights.json': insights, 'behaviors.json': m.behaviors, 'questions.json': questions };
}

export class MemoryFileError extends Error {
  override name = 'MemoryFileError';
}

const isVector = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isFinite(x));

function fail(file: string, msg: string): never {
  throw new MemoryFileError(`${file}: ${msg}`);
}

/** Memory from its files' parsed JSON; every problem names the file and the entry. */
export function memoryFromFiles(files: Partial<Record<keyof MemoryFiles, unknown>>): MemoryState {
  const m = emptyMemory();
  const problem = (id: string) => (m.problems[id] ??= { experience: [], insights: [] });
  const exp = files['experience.json'] ?? {};
  if (!isRecord(exp)) fail('experience.json', 'must be an object keyed by problem id');
  for (const [id, list] of Object.entries(exp as Record<string, unknown>)) {
    if (!Array.isArray(list)) fail('experience.json', `"${id}" must be a list`);
    (list as unknown[]).forEach((x, i) => {
      if (!isRecord(x) || (x.kind !== 'success' && x.kind !== 'failure') || typeof x.response !== 'string') fail('experience.json', `"${id}"[${i}] needs kind "success" or "failure" and a response`);
      problem(id).experience.push({ id: String(x.id ?? `${id}-${i}`), kind: x.kind as 'success' | 'failure', response: x.response as string, reward: Number(x.reward ?? 0), feedback: String(x.feedback ?? ''), embedding: isVector(x.embedding) ? x.embedding : [], source: (x.source as ExperienceItem['source']) ?? { step: 0, rollouts: [] } });
    });
  }
  const ins = files['insights.json'] ?? {};
  if (!isRecord(ins)) fail('insights.json', 'must be an object keyed by problem id');
  for (const [id, list] of Object.entries(ins as Record<string, unknown>)) {
    if (!Array.isArray(list)) fail('insights.json', `"${id}" must be a list`);
    (list as unknown[]).forEach((x, i) => {
      if (!isRecord(x) || (x.kind !== 'strategy' && x.kind !== 'lesson') || typeof x.title !== 'string' || typeof x.content !== 'string') fail('insights.json', `"${id}"[${i}] needs kind "strategy" or "lesson", a title and a content`);
      problem(id).insights.push({ id: String(x.id ?? `${id}-${i}`), kind: x.kind as 'strategy' | 'lesson', title: x.title as string, content: x.content as string, embedding: isVector(x.embedding) ? x.embedding : [], source: (x.source as InsightItem['source']) ?? { step: 0, rollouts: [] } });
    });
  }
  const beh = files['behaviors.json'] ?? [];
  if (!Array.isArray(beh)) fail('behaviors.json', 'must be a list');
  (beh as unknown[]).forEach((x, i) => {
    if (!isRecord(x) || typeof x.name !== 'string' || typeof x.instruction !== 'string') fail('behaviors.json', `[${i}] needs a name and an instruction`);
    m.behaviors.push({
      name: x.name as string,
      instruction: x.instruction as string,
      cluster: Number(x.cluster ?? 0),
      problems: Array.isArray(x.problems) ? (x.problems as unknown[]).map(String) : [],
      embedding: isVector(x.embedding) ? x.embedding : [],
      source: (x.source as Behavior['source']) ?? { step: 0, rollouts: [] },
      history: Array.isArray(x.history) ? (x.history as Behavior['history']) : [],
    });
  });
  const qs = files['questions.json'] ?? {};
  if (!isRecord(qs)) fail('questions.json', 'must be an object keyed by problem id');
  for (const [id, q] of Object.entries(qs as Record<string, unknown>)) {
    if (!isRecord(q) || typeof q.text !== 'string' || !isVector(q.embedding)) fail('questions.json', `"${id}" needs a text and an embedding`);
    problem(id).question = { text: (q as { text: string }).text, embedding: (q as { embedding: number[] }).embedding };
  }
  return m;
}
