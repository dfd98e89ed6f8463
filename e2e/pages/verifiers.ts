/**
 * Test-only page: exposes the verifier worker to Playwright (e2e/verifiers.spec.ts) and to the
 * throughput bench (bench/verify-throughput.ts) as `window.__verifiers`.
 */
import type { CodeLanguage } from '../../src/pmd/tasks/types';
import type { VerifierRequest, VerifyItem, VerifyReply } from './verifiers.worker';

const worker = new Worker(new URL('./verifiers.worker.ts', import.meta.url), { type: 'module', name: 'pmd-verifiers' });
let nextId = 0;
const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
worker.onmessage = (e: MessageEvent<{ id: number; result?: unknown; error?: string }>) => {
  const p = pending.get(e.data.id);
  pending.delete(e.data.id);
  if (e.data.error !== undefined) p?.reject(new Error(e.data.error));
  else p?.resolve(e.data.result);
};

type Body<T> = T extends unknown ? Omit<T, 'id'> : never;

function request<T>(msg: Body<VerifierRequest>): Promise<T> {
  const id = ++nextId;
  return new Promise<T>((resolve, reject) => {
    pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
    worker.postMessage({ ...msg, id });
  });
}

const api = {
  prepare: (languages: CodeLanguage[], memoryLimitBytes?: number) => request<unknown>({ type: 'prepare', languages, memoryLimitBytes }),
  verify: (items: VerifyItem[], timeLimitMs?: number) => request<VerifyReply>({ type: 'verify', items, timeLimitMs }),
};

declare global {
  interface Window {
    __verifiers?: typeof api;
  }
}
window.__verifiers = api;
document.getElementById('status')!.textContent = 'ready';
