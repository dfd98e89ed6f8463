/**
 * What the reflector is asked (PMD-SPEC steps 4 and 5), in our own words: insight extraction
 * (contrastive when both successes and failures exist, one-sided otherwise) and behavior
 * consolidation (cold start, or evolving an existing bank with new/update/remove actions).
 * Every prompt asks for JSON only, in the shapes of memory/types.ts.
 */
import type { ChatMessage } from '../../engine/models/tokenizer';
import type { ReflectEvidence } from '../run/state';

const clip = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, n)} […]`);

const ITEM_RULES = `Each item has a "title" of at most 10 words and a "content" of 2 to 4 sentences. Keep every item general, useful for other problems of this kind: do not mention this particular problem, answer options or their letters, attempts, the learner, or test-taking tricks.`;

function confidence(correct: number, total: number): string {
  const f = total ? correct / total : 0;
  return f >= 0.75 ? 'mostly solved' : f >= 0.25 ? 'sometimes solved' : f > 0 ? 'rarely solved' : 'not solved';
}

export interface PromptLimits {
  /** Longest text of one attempt shown (characters). */
  attemptChars: number;
}

export const DEFAULT_PROMPT_LIMITS: PromptLimits = { attemptChars: 1500 };

export function insightPrompt(e: Extract<ReflectEvidence, { purpose: 'insight' }>, lim: PromptLimits = DEFAULT_PROMPT_LIMITS): ChatMessage[] {
  const parts = [
    'You help a learner turn its own attempts at a problem into knowledge it can reuse on similar problems.',
    `How it went: ${e.correct} of ${e.total} attempts were correct (${confidence(e.correct, e.total)}).`,
    `Problem:\n${e.question}`,
  ];
  if (e.successes.length) parts.push(`Correct attempts:\n${e.successes.map((s, i) => `[${i + 1}] ${clip(s, lim.attemptChars)}`).join('\n\n')}`);
  if (e.failures.length) parts.push(`Incorrect attempts, each with the checker's feedback:\n${e.failures.map((f, i) => `[${i + 1}] ${clip(f.response, lim.attemptChars)}\nFeedback: ${f.feedback || '(none)'}`).join('\n\n')}`);
  let task: string;
  let shape: string;
  if (e.successes.length && e.failures.length) {
    task = 'Compare the correct and the incorrect reasoning and write down what separates them:\n- "strategies": 2 or 3 principles or methods that lead to correct answers;\n- "lessons": 2 or 3 mistakes to avoid, and why they fail.';
    shape = '{"strategies": [{"title": "...", "content": "..."}], "lessons": [{"title": "...", "content": "..."}]}';
  } else if (e.successes.length) {
    task = 'Write down the principles or methods that made these attempts correct, as "strategies" (2 or 3).';
    shape = '{"strategies": [{"title": "...", "content": "..."}]}';
  } else {
    task = 'Write down the mistakes behind these incorrect attempts, and why they fail, as "lessons" (2 or 3).';
    shape = '{"lessons": [{"title": "...", "content": "..."}]}';
  }
  parts.push(`${task}\n${ITEM_RULES}`, `Reply with JSON only, in this form:\n${shape}`);
  return [{ role: 'user', content: parts.join('\n\n') }];
}

function summaries(e: Extract<ReflectEvidence, { purpose: 'behavior-cold' | 'behavior-evolve' }>, lim: PromptLimits): string {
  return e.problems
    .map((p, i) => {
      const lines = [`Problem ${i + 1}: ${clip(p.question, 600)}`];
      if (p.strategies.length) lines.push(`  Strategies: ${p.strategies.join(' | ')}`);
      if (p.lessons.length) lines.push(`  Lessons: ${p.lessons.join(' | ')}`);
      if (!p.strategies.length && !p.lessons.length && p.successes.length) lines.push(`  A correct answer: ${clip(p.successes[0], lim.attemptChars)}`);
      return lines.join('\n');
    })
    .join('\n\n');
}

export function behaviorPrompt(e: Extract<ReflectEvidence, { purpose: 'behavior-cold' | 'behavior-evolve' }>, lim: PromptLimits = DEFAULT_PROMPT_LIMITS): ChatMessage[] {
  const rules = 'A skill is not the answer to one problem: it is a method to apply, a pattern to recognise, or a mistake to avoid, and it should help on new problems of this kind. Do not mention particular problems, answer options or attempts.';
  if (e.purpose === 'behavior-cold') {
    return [
      {
        role: 'user',
        content: [
          `You collect reusable reasoning skills for a family of related problems. Below are ${e.problems.length} related problems and what has been learned on each.`,
          summaries(e, lim),
          `Name 3 to 8 skills that recur across these problems. ${rules}`,
          'Reply with JSON only, in this form:\n{"behaviors": [{"name": "behavior_short_snake_case_name", "instruction": "..."}]}',
        ].join('\n\n'),
      },
    ];
  }
  const bank = e.existing.length ? e.existing.map((b) => `- ${b.name}: ${b.instruction}`).join('\n') : '(none close to these problems)';
  return [
    {
      role: 'user',
      content: [
        `You maintain a bank of reusable reasoning skills. Below are ${e.problems.length} related problems with what has been learned on each, then the skills in the bank closest to them.`,
        summaries(e, lim),
        `Skills in the bank:\n${bank}`,
        `Bring the bank up to date with this evidence: add a missing skill ("new"), rewrite one that is incomplete or wrong ("update"), or drop one that is redundant or misleading ("remove"). ${rules} No actions at all is a fine answer when the bank already covers the evidence.`,
        'Reply with JSON only, in this form:\n{"actions": [{"action": "new", "name": "behavior_...", "instruction": "..."}, {"action": "update", "name": "behavior_existing_name", "instruction": "..."}, {"action": "remove", "name": "behavior_existing_name"}]}',
      ].join('\n\n'),
    },
  ];
}
