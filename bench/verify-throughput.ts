/**
 * Verification throughput of the code sandbox: interpreter start-up, then tests per second for a
 * typical MBPP row (three assert tests; the row's reference solution, so every test runs and
 * passes) and for a small JavaScript function task, in Node (worker_threads) and in Chromium
 * (the browser sandbox inside a worker, through e2e/pages/verifiers.html). Usage:
 *   npx tsx bench/verify-throughput.ts [--rounds 200] [--only node,chromium] [--out bench/out/verify.json]
 * Each round is one verifyResponse call. Prints a markdown table and writes the JSON.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium } from '@playwright/test';
import { createServer } from 'vite';
import { Args } from '../src/cli/args';
import { BASE_ARGS, CHROMIUM } from '../e2e/chromium';
import { importTasks } from '../src/pmd/tasks/importers';
import { parseTaskSuite } from '../src/pmd/tasks/validate';
import type { Task } from '../src/pmd/tasks/types';
import { createNodeSandbox } from '../src/pmd/sandbox/node-host';
import { verifyResponse } from '../src/pmd/verifiers/verify';
import type { SandboxStats } from '../src/pmd/sandbox/protocol';

const PORT = 5184;

interface Workload {
  name: string;
  task: Task;
  response: string;
}

interface Row {
  backend: string;
  startup: SandboxStats['startups'];
  /** Spawning the worker and loading both interpreters, as the caller waits for it. */
  readyMs: number;
  results: { workload: string; rounds: number; tests: number; seconds: number; testsPerS: number; msPerVerification: number }[];
}

async function workloads(): Promise<Workload[]> {
  const mbpp = importTasks('mbpp', await readFile('tests/pmd/tasks/fixtures/mbpp.jsonl', 'utf8')).tasks[0];
  const js = parseTaskSuite(await readFile('public/tasks/javascript-functions.jsonl', 'utf8')).tasks.find((t) => t.id === 'js-02')!;
  const fenced = (t: Task, lang: string) => `\`\`\`${lang}\n${String(t.meta?.reference).replace(/\r/g, '')}\n\`\`\``;
  return [
    { name: `MBPP row (${mbpp.id}, 3 assert tests), Python`, task: mbpp, response: fenced(mbpp, 'python') },
    { name: `function task (${js.id}, 3 call tests), JavaScript`, task: js, response: fenced(js, 'javascript') },
  ];
}

const trainTests = (t: Task) => (t.answer.kind === 'code' ? t.answer.tests.filter((x) => (x.split ?? 'train') === 'train').length : 0);

async function benchNode(loads: Workload[], rounds: number): Promise<Row> {
  const sandbox = createNodeSandbox();
  try {
    const t0 = performance.now();
    await sandbox.prepare(['python', 'javascript']);
    const readyMs = performance.now() - t0;
    const results: Row['results'] = [];
    for (const w of loads) {
      for (let i = 0; i < 5; i++) await verifyResponse(w.task, w.response, { sandbox }); // warm-up
      const t1 = performance.now();
      for (let i = 0; i < rounds; i++) {
        const v = await verifyResponse(w.task, w.response, { sandbox });
        if (v.reward !== 1) throw new Error(`${w.name}: the reference failed: ${v.feedback}`);
      }
      const seconds = (performance.now() - t1) / 1000;
      const tests = rounds * trainTests(w.task);
      results.push({ workload: w.name, rounds, tests, seconds, testsPerS: tests / seconds, msPerVerification: (seconds * 1000) / rounds });
    }
    return { backend: `Node ${process.version}, worker_threads`, startup: sandbox.stats().startups, readyMs, results };
  } finally {
    await sandbox.close();
  }
}

async function benchChromium(loads: Workload[], rounds: number): Promise<Row> {
  const vite = await createServer({ server: { port: PORT, strictPort: true, host: '127.0.0.1', watch: null, hmr: false }, logLevel: 'error' });
  await vite.listen();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: BASE_ARGS, headless: true });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${PORT}/e2e/pages/verifiers.html`);
    await page.waitForFunction(() => window.__verifiers !== undefined);
    const t0 = performance.now();
    await page.evaluate(() => window.__verifiers!.prepare(['python', 'javascript']));
    const readyMs = performance.now() - t0;
    const results: Row['results'] = [];
    let startup: SandboxStats['startups'] = {};
    for (const w of loads) {
      const item = { task: w.task, response: w.response };
      await page.evaluate((it) => window.__verifiers!.verify(Array(5).fill(it)), item);
      const reply = await page.evaluate(([it, n]) => window.__verifiers!.verify(Array(n).fill(it)), [item, rounds] as const);
      if (reply.verdicts.some((v) => v.reward !== 1)) throw new Error(`${w.name}: the reference failed in Chromium`);
      const seconds = reply.ms.reduce((a, b) => a + b, 0) / 1000;
      const tests = rounds * trainTests(w.task);
      results.push({ workload: w.name, rounds, tests, seconds, testsPerS: tests / seconds, msPerVerification: (seconds * 1000) / rounds });
      startup = reply.stats.startups;
    }
    return { backend: `Chromium ${browser.version()}, Web Worker inside a worker`, startup, readyMs, results };
  } finally {
    await browser.close();
    await vite.close();
  }
}

async function main() {
  const args = new Args(process.argv.slice(2));
  const rounds = args.integer('rounds', 200, 1);
  const only = (args.string('only') ?? 'node,chromium').split(',');
  const outFile = args.string('out') ?? 'bench/out/verify.json';
  args.rejectUnknown();
  const loads = await workloads();
  const rows: Row[] = [];
  if (only.includes('node')) rows.push(await benchNode(loads, rounds));
  if (only.includes('chromium')) rows.push(await benchChromium(loads, rounds));
  const result = {
    bench: 'verify-throughput',
    date: new Date().toISOString(),
    machine: `${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`,
    loadAverage: os.loadavg().map((x) => Number(x.toFixed(2))),
    rows,
  };
  await mkdir(path.dirname(outFile), { recursive: true });
  await writeFile(outFile, JSON.stringify(result, null, 2));
  console.log('| backend | Pyodide start-up ms | QuickJS start-up ms | ready ms | workload | tests/s | ms per verification |\n|---|---|---|---|---|---|---|');
  for (const r of rows) {
    for (const x of r.results) {
      console.log(`| ${r.backend} | ${r.startup.python?.[0]?.toFixed(0) ?? '-'} | ${r.startup.javascript?.[0]?.toFixed(0) ?? '-'} | ${r.readyMs.toFixed(0)} | ${x.workload} | ${x.testsPerS.toFixed(0)} | ${x.msPerVerification.toFixed(2)} |`);
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
