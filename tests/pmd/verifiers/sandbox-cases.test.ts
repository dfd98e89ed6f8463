/**
 * The shared verifier cases (cases.ts) in Node: one sandbox worker for the whole file, a local
 * HTTP server that escape attempts aim at and that must stay untouched.
 */
import { createServer, type Server } from 'node:http';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeSandbox } from '../../../src/pmd/sandbox/node-host';
import type { SandboxHost } from '../../../src/pmd/sandbox/host';
import { verifyResponse } from '../../../src/pmd/verifiers/verify';
import { CASE_MEMORY_LIMIT_BYTES, CASE_TIME_LIMIT_MS, caseMismatches, verifierCases } from './cases';

let server: Server;
const hits: string[] = [];
let port = 0;
let sandbox: SandboxHost;
/**
 * Time a program that ignores the interrupt may run past its limit before the worker is killed.
 * Longer than the default (1 s): on a loaded 2-core machine the interpreter's interrupt check
 * was once reached 1.2 s late, and then the kill fallback (tested in host.test.ts) fired instead
 * of the interrupt this file checks.
 */
const GRACE_MS = 4_000;

beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.end('reached');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  sandbox = createNodeSandbox({ memoryLimitBytes: CASE_MEMORY_LIMIT_BYTES, graceMs: GRACE_MS });
  await sandbox.prepare(['python', 'javascript']);
});

afterAll(async () => {
  await sandbox?.close();
  await new Promise((r) => server?.close(r));
});

describe('verifier cases in Node', () => {
  // Built lazily: the port is known only after beforeAll, and the cases only use it in their code.
  const names = verifierCases(0).map((c) => c.name);
  it.each(names)('%s', async (name) => {
    const c = verifierCases(port).find((x) => x.name === name)!;
    const t0 = performance.now();
    const v = await verifyResponse(c.task, c.response, { sandbox, partialCredit: c.partialCredit, limits: { timeLimitMs: CASE_TIME_LIMIT_MS } });
    expect(caseMismatches(c, v)).toEqual([]);
    if (v.tests?.statuses.includes('timeout')) {
      // Stopped at its limit (plus the interrupt's grace), not left running.
      expect(performance.now() - t0).toBeLessThan(CASE_TIME_LIMIT_MS + GRACE_MS + 2_000);
    }
  });

  it('no escape attempt reached the server or the host', () => {
    expect(hits).toEqual([]);
    expect(existsSync('/tmp/pmd-escaped')).toBe(false);
  });

  it('Python timeouts interrupt the program; the interpreter is kept', () => {
    expect(sandbox.canInterruptPython).toBe(true);
    expect(sandbox.stats().restarts).toBe(0);
    expect(sandbox.stats().startups.python).toHaveLength(1);
  });
});
