/**
 * The run's files, shared by every store and the run bundle: which log each record goes to and
 * the line written for it (the field names of the CLI contract), and back. A run folder written
 * by `pmd-lab run`, zipped, is a bundle the playground imports, and the other way round.
 */
import { isRecord } from '../../util/records';
import type { EvalResult, ReflectionRecord, Rollout, RunRecord, StepMetric } from './state';
import type { MemoryEvent } from '../memory/types';
import type { ContextBlock } from '../reprompt';

export const RUN_FILES = {
  config: 'config.json',
  state: 'state.json',
  metrics: 'metrics.jsonl',
  rollouts: 'rollouts.jsonl',
  reflections: 'reflections.jsonl',
  evals: 'evals.jsonl',
  controls: 'controls.jsonl',
  timings: 'timings.jsonl',
  events: 'memory/events.jsonl',
} as const;

export type LogName = 'metrics' | 'rollouts' | 'reflections' | 'evals' | 'controls' | 'timings' | 'events';

/** A record as the line written for it (the public field names of the CLI contract). */
export function recordLine(r: RunRecord, seq: number): { file: LogName; line: Record<string, unknown> } {
  switch (r.kind) {
    case 'rollout': {
      const x = r.rollout;
      return {
        file: 'rollouts',
        line: {
          seq,
          step: r.step,
          problem_id: x.problem,
          index: x.index,
          id: x.id,
          response: x.text,
          reward: x.reward,
          feedback: x.feedback ?? '',
          answer: x.answer,
          finish: x.finish,
          teacher_context: x.teacher ? x.teacher.text : null,
          masked: x.teacher ? x.teacher.masked : null,
          teacher_blocks: x.teacher ? x.teacher.blocks : null,
          tokens: x.tokens,
          logprobs: x.logprobs,
          tokens_view: x.tokensView,
        },
      };
    }
    case 'metric':
      return { file: 'metrics', line: { seq, ...r.metric } };
    case 'memory-event':
      return { file: 'events', line: { seq, ...r.event } };
    case 'reflection':
      return { file: 'reflections', line: { seq, ...r.reflection } };
    case 'eval':
      return { file: 'evals', line: { seq, ...r.eval } };
    case 'control':
      return { file: 'controls', line: { seq, step: r.step, ...r.change } };
    case 'timing':
      return { file: 'timings', line: { seq, step: r.step, phase: r.phase, effect: r.effect, ms: r.ms } };
  }
}


export class RunFileError extends Error {
  override name = 'RunFileError';
}

const LOG_OF_FILE = new Map<string, LogName>(Object.entries(RUN_FILES).filter(([, f]) => f.endsWith('.jsonl')).map(([k, f]) => [f, k as LogName]));

/** The log a file name holds, or null for other files. */
export function logOfFile(name: string): LogName | null {
  return LOG_OF_FILE.get(name) ?? null;
}

/** A line of a run log back as a record (with its seq); a malformed line is a RunFileError naming the field. */
export function recordFromLine(file: LogName, line: unknown, where: string): { seq: number; record: RunRecord } {
  const fail = (m: string): never => {
    throw new RunFileError(`${where}: ${m}`);
  };
  if (!isRecord(line)) return fail('not a JSON object');
  const seq = line.seq;
  if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 0) fail('"seq" must be a whole number >= 0');
  const { seq: _s, ...rest } = line;
  const num = (k: string) => (typeof line[k] === 'number' ? (line[k] as number) : fail(`"${k}" must be a number`));
  switch (file) {
    case 'rollouts': {
      if (typeof line.id !== 'string' || typeof line.problem_id !== 'string' || typeof line.response !== 'string') fail('a rollout needs "id", "problem_id" and "response" strings');
      if (!Array.isArray(line.tokens) || !line.tokens.every((t) => Number.isInteger(t))) fail('"tokens" must be a list of token ids');
      const blocks = line.teacher_blocks;
      const rollout: Rollout = {
        id: line.id as string,
        problem: line.problem_id as string,
        index: num('index'),
        tokens: line.tokens as number[],
        logprobs: Array.isArray(line.logprobs) ? (line.logprobs as number[]) : [],
        text: line.response as string,
        finish: String(line.finish ?? ''),
        reward: line.reward === null ? null : num('reward'),
        feedback: typeof line.feedback === 'string' ? line.feedback : null,
        answer: typeof line.answer === 'string' ? line.answer : null,
        teacher: typeof line.teacher_context === 'string' ? { text: line.teacher_context, blocks: Array.isArray(blocks) ? (blocks as ContextBlock[]) : [], empty: line.masked === true, masked: line.masked === true } : null,
        tokensView: isRecord(line.tokens_view) ? (line.tokens_view as Rollout['tokensView']) : null,
      };
      return { seq: seq as number, record: { kind: 'rollout', step: num('step'), rollout } };
    }
    case 'metrics':
      num('step');
      return { seq: seq as number, record: { kind: 'metric', metric: rest as unknown as StepMetric } };
    case 'events':
      if (typeof line.level !== 'string' || typeof line.op !== 'string') fail('a memory event needs "level" and "op"');
      return { seq: seq as number, record: { kind: 'memory-event', event: rest as unknown as MemoryEvent } };
    case 'reflections':
      if (typeof line.id !== 'string' || !Array.isArray(line.attempts)) fail('a reflection needs "id" and "attempts"');
      return { seq: seq as number, record: { kind: 'reflection', reflection: rest as unknown as ReflectionRecord } };
    case 'evals':
      num('avg_at_n');
      return { seq: seq as number, record: { kind: 'eval', eval: rest as unknown as EvalResult } };
    case 'timings':
      num('ms');
      return { seq: seq as number, record: { kind: 'timing', step: num('step'), phase: String(line.phase), effect: line.effect as never, ms: line.ms as number } };
    case 'controls': {
      const { step, ...change } = rest as { step: number; freezePolicy?: boolean; freezeMemory?: boolean };
      num('step');
      return { seq: seq as number, record: { kind: 'control', step, change } };
    }
  }
}
