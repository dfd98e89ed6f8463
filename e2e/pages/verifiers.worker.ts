/**
 * Test-only worker: runs the verifiers where the PMD loop will run them, inside a worker, with
 * the browser sandbox (a second, nested worker). Requests come from verifiers.ts.
 */
import { createBrowserSandbox } from '../../src/pmd/sandbox/browser-host';
import type { SandboxHost } from '../../src/pmd/sandbox/host';
import type { CodeLanguage, Task } from '../../src/pmd/tasks/types';
import { verifyResponse, type Verdict } from '../../src/pmd/verifiers/verify';

export interface VerifyItem {
  task: Task;
  response: string;
  partialCredit?: boolean;
}

export type VerifierRequest =
  | { type: 'prepare'; id: number; languages: CodeLanguage[]; memoryLimitBytes?: number }
  | { type: 'verify'; id: number; items: VerifyItem[]; timeLimitMs?: number };

export interface VerifyReply {
  verdicts: Verdict[];
  ms: number[];
  stats: ReturnType<SandboxHost['stats']>;
  canInterruptPython: boolean;
}

let sandbox: SandboxHost | null = null;

self.addEventListener('message', async (e: MessageEvent<VerifierRequest>) => {
  const req = e.data;
  try {
    if (req.type === 'prepare') {
      await sandbox?.close();
      sandbox = createBrowserSandbox({ memoryLimitBytes: req.memoryLimitBytes });
      await sandbox.prepare(req.languages);
      self.postMessage({ id: req.id, result: sandbox.stats() });
      return;
    }
    if (!sandbox) throw new Error('send "prepare" first');
    const verdicts: Verdict[] = [];
    const ms: number[] = [];
    for (const item of req.items) {
      const t0 = performance.now();
      verdicts.push(await verifyResponse(item.task, item.response, { sandbox, partialCredit: item.partialCredit, limits: req.timeLimitMs ? { timeLimitMs: req.timeLimitMs } : undefined }));
      ms.push(performance.now() - t0);
    }
    const reply: VerifyReply = { verdicts, ms, stats: sandbox.stats(), canInterruptPython: sandbox.canInterruptPython };
    self.postMessage({ id: req.id, result: reply });
  } catch (err) {
    self.postMessage({ id: req.id, error: (err as Error).message ?? String(err) });
  }
});
