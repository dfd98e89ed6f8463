/**
 * The verifier cases of tests/pmd/verifiers/cases.ts, run in Chromium inside a worker with the
 * browser sandbox, must give the same verdicts as in Node; escape attempts aim at a local HTTP
 * server that must never see a request.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test } from '@playwright/test';
import { CASE_MEMORY_LIMIT_BYTES, CASE_TIME_LIMIT_MS, caseMismatches, verifierCases } from '../tests/pmd/verifiers/cases';

test('verifier cases pass in a browser worker, and nothing reaches the network', async ({ page }) => {
  test.setTimeout(300_000);
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    res.end('reached');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const port = (server.address() as AddressInfo).port;
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto('/e2e/pages/verifiers.html');
    await page.waitForFunction(() => window.__verifiers !== undefined);
    const startup = await page.evaluate((mem) => window.__verifiers!.prepare(['python', 'javascript'], mem), CASE_MEMORY_LIMIT_BYTES);
    const cases = verifierCases(port);
    const items = cases.map((c) => ({ task: c.task, response: c.response, partialCredit: c.partialCredit }));
    const reply = await page.evaluate(([its, limit]) => window.__verifiers!.verify(its, limit), [items, CASE_TIME_LIMIT_MS] as const);
    console.log(`browser sandbox: start-up ${JSON.stringify(startup)}, after the cases ${JSON.stringify(reply.stats)}, Python interrupt: ${reply.canInterruptPython}`);
    const mismatches = cases.flatMap((c, i) => caseMismatches(c, reply.verdicts[i]));
    expect(mismatches).toEqual([]);
    expect(hits).toEqual([]);
    expect(errors).toEqual([]);
  } finally {
    await new Promise((r) => server.close(r));
  }
});
