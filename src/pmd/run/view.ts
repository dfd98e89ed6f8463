/**
 * What the playground shows of a run: the state without its embeddings (they are large and only
 * the loop needs them), with each rollout's tokens as text pieces for coloring by log-prob, and
 * a 2-D layout of question embeddings for the behavior-cluster map (made where the embeddings
 * are, in the worker).
 */
import type { Behavior, ExperienceItem, InsightItem, MemoryState, ProblemMemory } from '../memory/types';
import type { Rollout, RunRecord, RunState } from './state';

export type RolloutView = Rollout & { pieces: string[] };

/** A run record as the playground receives it: rollout records carry their text pieces too. */
export type RunRecordView = Exclude<RunRecord, { kind: 'rollout' }> | { kind: 'rollout'; step: number; rollout: RolloutView };

export interface RunView extends Omit<RunState, 'memory' | 'work'> {
  memory: {
    problems: Record<string, { question?: { text: string }; experience: Omit<ExperienceItem, 'embedding'>[]; insights: Omit<InsightItem, 'embedding'>[] }>;
    behaviors: Omit<Behavior, 'embedding'>[];
    consolidations: number;
    lastConsolidation: number;
  };
  work: (Omit<NonNullable<RunState['work']>, 'rollouts' | 'clusters'> & { rollouts: RolloutView[]; clusters: { members: string[] }[] | null }) | null;
  /** The student's prompt (the question as posed) of each problem of the step in progress, when the host gives them. */
  prompts?: Record<string, string>;
}

const strip = <T extends { embedding: number[] }>(x: T): Omit<T, 'embedding'> => {
  const { embedding: _e, ...rest } = x;
  return rest;
};

function problemView(pm: ProblemMemory): RunView['memory']['problems'][string] {
  return { question: pm.question ? { text: pm.question.text } : undefined, experience: pm.experience.map(strip), insights: pm.insights.map(strip) };
}

export function memoryView(m: MemoryState): RunView['memory'] {
  return {
    problems: Object.fromEntries(Object.entries(m.problems).map(([id, pm]) => [id, problemView(pm)])),
    behaviors: m.behaviors.map(strip),
    consolidations: m.consolidations,
    lastConsolidation: m.lastConsolidation,
  };
}

/** The view of a state; `piece` decodes one token id (the model's tokenizer); `prompt` gives a problem's question. */
export function runView(s: RunState, piece: (id: number) => string, prompt?: (problem: string) => string): RunView {
  const { memory, work, ...rest } = s;
  return {
    ...(prompt && work ? { prompts: Object.fromEntries(work.problems.map((p) => [p, prompt(p)])) } : {}),
    ...rest,
    memory: memoryView(memory),
    work: work
      ? {
          ...work,
          clusters: work.clusters ? work.clusters.map((c) => ({ members: c.members })) : null,
          rollouts: work.rollouts.map((r) => ({ ...r, pieces: r.tokens.map(piece) })),
        }
      : null,
  };
}

/** The view of a record (rollouts get their token pieces; other records are passed as they are). */
export function recordView(r: RunRecord, piece: (id: number) => string): RunRecordView {
  return r.kind === 'rollout' ? { ...r, rollout: { ...r.rollout, pieces: r.rollout.tokens.map(piece) } } : r;
}
