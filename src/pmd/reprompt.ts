/**
 * The teacher's context (PMD-SPEC step 6): the problem, then whichever of these blocks have
 * content, in this order: strategies for this problem, lessons from failed attempts on it, the
 * top-K behaviors, one correct solution, feedback on an unsuccessful attempt, and a closing
 * instruction. The same function lays out memory for the frozen-policy evaluation and for the
 * embedded world's pretraining corpus, so a model sees one format everywhere.
 *
 * The wording is ours; the structure is the spec's.
 */
import type { Behavior, InsightItem } from './memory/types';

export type BlockKind = 'problem' | 'strategies' | 'lessons' | 'behaviors' | 'solution' | 'feedback' | 'closing';

/** Memory level a block comes from (for the teacher view's marks). */
export const BLOCK_LEVEL: Record<BlockKind, 'problem' | 'insight' | 'behavior' | 'experience' | 'instruction'> = {
  problem: 'problem',
  strategies: 'insight',
  lessons: 'insight',
  behaviors: 'behavior',
  solution: 'experience',
  feedback: 'experience',
  closing: 'instruction',
};

export interface ContextBlock {
  kind: BlockKind;
  text: string;
  /** Ids of the memory items shown (insight ids, behavior names, the experience item or rollout). */
  items: string[];
}

export interface TeacherContext {
  /** The full user message the teacher reads (before the chat template). */
  text: string;
  blocks: ContextBlock[];
  /** True when nothing beyond the problem and the closing line was added (the rollout is masked). */
  empty: boolean;
}

export interface ContextParts {
  problem: string;
  strategies?: readonly Pick<InsightItem, 'id' | 'title' | 'content'>[];
  lessons?: readonly Pick<InsightItem, 'id' | 'title' | 'content'>[];
  behaviors?: readonly Pick<Behavior, 'name' | 'instruction'>[];
  solution?: { id: string; text: string } | null;
  feedback?: { id: string; text: string } | null;
  /** Longest text of one block body (characters); longer bodies are cut with a marker. */
  maxBlockChars?: number;
}

export const HEADINGS = {
  strategies: 'Strategies that worked on this problem:',
  lessons: 'Lessons from failed attempts on this problem:',
  behaviors: 'Reusable reasoning skills (use the ones that apply):',
  solution: 'A correct solution:',
  feedback: 'Feedback on an unsuccessful attempt:',
  closing: 'Now solve the original question correctly.',
} as const;

export const DEFAULT_MAX_BLOCK_CHARS = 4000;

function cut(text: string, max: number): string {
  const t = text.trim();
  return t.length <= max ? t : `${t.slice(0, max)} […]`;
}

/** Strip a model's <think>…</think> blocks from a solution shown to the teacher (as SDPO does). */
export function stripThinking(text: string): string {
  return text.replace(/<think>[\s\S]*?<\/think>/g, '').replace(/^[\s\S]*?<\/think>/, '').trim();
}

export function buildTeacherContext(p: ContextParts): TeacherContext {
  const max = p.maxBlockChars ?? DEFAULT_MAX_BLOCK_CHARS;
  const blocks: ContextBlock[] = [{ kind: 'problem', text: p.problem.trim(), items: [] }];
  const bullet = (xs: readonly { title: string; content: string }[]) => xs.map((x) => `- ${x.title.trim()}: ${x.content.trim()}`).join('\n');
  if (p.strategies?.length) blocks.push({ kind: 'strategies', text: `${HEADINGS.strategies}\n${cut(bullet(p.strategies), max)}`, items: p.strategies.map((x) => x.id) });
  if (p.lessons?.length) blocks.push({ kind: 'lessons', text: `${HEADINGS.lessons}\n${cut(bullet(p.lessons), max)}`, items: p.lessons.map((x) => x.id) });
  if (p.behaviors?.length) {
    const list = p.behaviors.map((b, i) => `${i + 1}. ${b.name}: ${b.instruction.trim()}`).join('\n');
    blocks.push({ kind: 'behaviors', text: `${HEADINGS.behaviors}\n${cut(list, max)}`, items: p.behaviors.map((b) => b.name) });
  }
  if (p.solution && p.solution.text.trim()) blocks.push({ kind: 'solution', text: `${HEADINGS.solution}\n${cut(stripThinking(p.solution.text), max)}`, items: [p.solution.id] });
  if (p.feedback && p.feedback.text.trim()) blocks.push({ kind: 'feedback', text: `${HEADINGS.feedback}\n${cut(p.feedback.text, max)}`, items: [p.feedback.id] });
  const empty = blocks.length === 1;
  blocks.push({ kind: 'closing', text: HEADINGS.closing, items: [] });
  return { text: blocks.map((b) => b.text).join('\n\n'), blocks, empty };
}
