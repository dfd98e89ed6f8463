/**
 * LoopServices from their parts, the same for the CLI and the worker: the Policy, the suite's
 * verifier over a sandbox the caller provides (created only when the suite has code tasks), the
 * policy's embeddings (or a sentence-embedding model), and the configured reflector.
 */
import type { Policy } from '../../engine/policy';
import type { PmdConfig } from '../config';
import { endpointReflector, policyBatchReflector, policyReflector, ruleReflector, type FetchLike, type Reflector } from '../reflect/reflectors';
import { ruleReflectorForSuite } from '../reflect/rule-registry';
import type { Sandbox } from '../sandbox/protocol';
import type { Task } from '../tasks/types';
import { verifyResponse } from '../verifiers/verify';
import type { LoopServices, Verdict } from './services';

export interface ServiceParts {
  policy: Policy;
  tasks: ReadonlyMap<string, Task>;
  config: PmdConfig;
  /** Made on first use (a suite without code tasks never starts one). */
  sandbox?: () => Promise<Sandbox>;
  /** Embeddings from another model; default: the policy's own. */
  embed?: (texts: string[]) => Promise<number[][]>;
  fetch?: FetchLike;
  apiKey?: string;
}

export class ReflectorUnavailableError extends Error {
  override name = 'ReflectorUnavailableError';
}

export function chooseReflector(p: ServiceParts): Reflector {
  const c = p.config.reflector;
  if (c.kind === 'policy') return policyReflector(p.policy, c);
  if (c.kind === 'endpoint') {
    if (!p.fetch) throw new ReflectorUnavailableError('the endpoint reflector needs fetch');
    return endpointReflector(c, p.fetch, { apiKey: p.apiKey });
  }
  const rules = ruleReflectorForSuite([...p.tasks.values()]);
  if (!rules) throw new ReflectorUnavailableError('reflector.kind "rule" needs a task world that provides rules (its tasks name one in meta.reflector); this suite names none. Use "policy" or "endpoint".');
  return ruleReflector(rules);
}

export function buildServices(p: ServiceParts): LoopServices {
  const reflect = chooseReflector(p);
  let sandbox: Sandbox | null = null;
  return {
    policy: p.policy,
    async verify(items, tests) {
      const out: Record<string, Verdict> = {};
      for (const it of items) {
        const task = p.tasks.get(it.task);
        if (!task) {
          out[it.key] = { reward: 0, feedback: `error: unknown task id ${JSON.stringify(it.task)}`, answer: null };
          continue;
        }
        if (task.answer.kind === 'code' && !sandbox) {
          if (!p.sandbox) throw new Error('this suite has code tasks, which need a sandbox');
          sandbox = await p.sandbox();
        }
        const v = await verifyResponse(task, it.response, { sandbox: sandbox ?? undefined, tests });
        out[it.key] = { reward: v.reward, feedback: v.feedback, answer: v.answer };
      }
      return out;
    },
    embed: p.embed ?? (async (texts) => (await p.policy.embed(texts)).map((v) => Array.from(v))),
    reflect,
    reflectBatch: p.config.reflector.kind === 'policy' ? policyBatchReflector(p.policy, p.config.reflector) : undefined,
  };
}
