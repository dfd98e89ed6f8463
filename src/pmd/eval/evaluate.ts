/**
 * Evaluation outside a run (`pmd-lab eval`, and the playground's "with and without memory"):
 * n samples per problem from a Policy, verified against all of each task's tests, scored by
 * avg@n, pass@k, maj@k and best@k. Samples are generated in chunks with seeds from the given
 * seed, so an evaluation is reproducible.
 */
import type { Policy } from '../../engine/policy';
import { seedFor } from '../run/schedule';
import type { LoopServices } from '../run/services';
import type { EvalSample } from '../run/state';
import { evalMetrics, type Metrics } from './metrics';

export interface EvalRequest {
  ids: readonly string[];
  /** The prompt each problem is posed with (with or without memory). */
  prompt(id: string): string;
  n: number;
  k: number;
  temperature: number;
  maxNewTokens: number;
  seed: number;
  /** Sequences per generation call. */
  chunk: number;
  onProgress?: (done: number, total: number) => void;
}

export interface EvalReport extends Metrics {
  n: number;
  k: number;
  problems: { id: string; samples: (EvalSample & { response: string })[] }[];
}

export async function evaluateProblems(policy: Policy, verify: LoopServices['verify'], r: EvalRequest): Promise<EvalReport> {
  const requests = r.ids.flatMap((id) => Array.from({ length: r.n }, (_, j) => ({ id, j })));
  const samples = new Map<string, (EvalSample & { response: string })[]>(r.ids.map((id) => [id, []]));
  for (let start = 0; start < requests.length; start += r.chunk) {
    const chunk = requests.slice(start, start + r.chunk);
    const prompts: number[][] = [];
    for (const q of chunk) prompts.push(await policy.promptIds(r.prompt(q.id)));
    const out = await policy.generate(prompts, { maxNewTokens: r.maxNewTokens, temperature: r.temperature, topP: 1, topK: 0, seed: seedFor(r.seed, 'eval', Math.floor(start / r.chunk)), adapter: 'student' });
    const texts = out.tokens.map((t) => policy.decode(t));
    const verdicts = await verify(chunk.map((q, i) => ({ key: `${q.id}#${q.j}`, task: q.id, response: texts[i] })), 'all');
    chunk.forEach((q, i) => {
      const v = verdicts[`${q.id}#${q.j}`];
      samples.get(q.id)!.push({ text: texts[i], response: texts[i], answer: v.answer, reward: v.reward });
    });
    r.onProgress?.(Math.min(start + r.chunk, requests.length), requests.length);
  }
  const problems = r.ids.map((id) => ({ id, samples: samples.get(id)! }));
  return { ...evalMetrics(problems.map((p) => p.samples), r.k), n: r.n, k: r.k, problems };
}
