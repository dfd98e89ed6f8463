/**
 * How responsive the playground stays while the worker runs PMD: the app in Chromium, driven by
 * Playwright, runs a small PMD run on the embedded model with Run while a scripted user clicks
 * the memory tabs, types into the memory search and moves the curve smoothing slider. The page
 * records every long main-thread task (PerformanceObserver 'longtask', over 50 ms) and the
 * Event Timing of every input (delay from the input to its handler, and the time until the next
 * frame was painted).
 *
 * Usage:
 *   npx tsx bench/ui-responsiveness.ts [--backend webgpu|wasm|auto] [--build dev|prod] [--steps 3]
 *                                     [--problems 2] [--rollouts 2] [--tokens 16] [--inputs-every 400] [--profile]
 * --build prod measures a production build (vite build, served by vite preview); dev measures
 * the dev server that `npm start` runs (React's development build, much slower to render).
 * Prints a markdown table row and writes bench/out/ui-responsiveness-<build>-<backend>.json;
 * --profile also prints where the main thread spent its time.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Page } from '@playwright/test';
import { build, createServer, preview } from 'vite';
import { Args } from '../src/cli/args';
import { BASE_ARGS, CHROMIUM, WEBGPU_ARGS } from '../e2e/chromium';
import { setupParam } from '../e2e/helpers/run';

const PORT = 5183;

/** Installed before the app's scripts: every long task and every input's timing, kept on window. */
function observe(): void {
  const w = window as unknown as { __perf: { long: [number, number][]; events: [string, number, number, number][] } };
  w.__perf = { long: [], events: [] };
  new PerformanceObserver((l) => {
    for (const e of l.getEntries()) w.__perf.long.push([e.startTime, e.duration]);
  }).observe({ type: 'longtask', buffered: true });
  new PerformanceObserver((l) => {
    for (const e of l.getEntries() as PerformanceEventTiming[]) w.__perf.events.push([e.name, e.startTime, e.processingStart - e.startTime, e.duration]);
  }).observe({ type: 'event', durationThreshold: 16, buffered: true } as PerformanceObserverInit);
}

const quantile = (xs: number[], q: number) => {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

/** What a researcher does while the run goes: switch memory tabs, type a search, move a slider. */
async function userInputs(page: Page, until: () => boolean, every: number): Promise<number> {
  const tabs = ['experience', 'insights', 'behaviors', 'changes'];
  let n = 0;
  while (!until()) {
    const i = n++ % 6;
    try {
      if (i < 4) await page.getByTestId(`memory-tab-${tabs[i]}`).click({ timeout: 2000 });
      else if (i === 4) {
        await page.getByTestId('memory-search').click({ timeout: 2000 });
        await page.keyboard.type('a');
        await page.keyboard.press('Backspace');
      } else await page.keyboard.press('Tab');
    } catch {
      // the panel may be re-rendering or not there yet: try again next round
    }
    await page.waitForTimeout(every);
  }
  return n;
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

/** --profile: the functions the main thread spent most time in (self time), to find what blocks it. */
function printProfile(p: CpuProfile, window?: [number, number]): void {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let at = 0;
  p.samples.forEach((id, i) => {
    at += (p.timeDeltas[i] ?? 0) / 1000;
    if (window && (at < window[0] || at > window[1])) return;
    const f = byId.get(id)!.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
    self.set(key, (self.get(key) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000);
  });
  console.error(window ? `main-thread self time (ms) in the longest task, ${window[0].toFixed(0)}-${window[1].toFixed(0)} ms after the start:` : 'main-thread self time (ms), top 25:');
  for (const [k, ms] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.error(`${ms.toFixed(0).padStart(7)}  ${k}`);
}

async function main() {
  const args = new Args(process.argv.slice(2), ['profile']);
  const backend = args.string('backend') ?? 'webgpu';
  const mode = args.string('build') ?? 'prod';
  const steps = args.integer('steps', 3, 1);
  const problems = args.integer('problems', 2, 1);
  const rollouts = args.integer('rollouts', 2, 1);
  const tokens = args.integer('tokens', 16, 1);
  const every = args.integer('inputs-every', 400, 50);
  const profile = args.has('profile');
  args.rejectUnknown();
  if (!['webgpu', 'wasm', 'auto'].includes(backend)) throw new Error('--backend is webgpu, wasm or auto');
  if (!['dev', 'prod'].includes(mode)) throw new Error('--build is dev or prod');

  let close: () => Promise<void>;
  let outDir: string | null = null;
  if (mode === 'dev') {
    const vite = await createServer({ server: { port: PORT, strictPort: true, host: '127.0.0.1', watch: null, hmr: false }, logLevel: 'error' });
    await vite.listen();
    close = () => vite.close();
  } else {
    outDir = await mkdtemp(path.join(os.tmpdir(), 'pmd-ui-bench-'));
    await build({ logLevel: 'error', build: { outDir, emptyOutDir: true, sourcemap: false } });
    const server = await preview({ preview: { port: PORT, strictPort: true, host: '127.0.0.1' }, build: { outDir }, logLevel: 'error' });
    close = async () => {
      await new Promise<void>((r) => server.httpServer.close(() => r()));
    };
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: backend === 'wasm' ? BASE_ARGS : [...WEBGPU_ARGS, ...BASE_ARGS], headless: true });
  try {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(0);
    const consoleProblems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') consoleProblems.push(`${m.type()}: ${m.text()}`);
    });
    await page.addInitScript(observe);
    const setup = setupParam({ steps, problemsPerStep: problems, rolloutsPerProblem: rollouts, 'rollout.maxNewTokens': tokens, 'reflector.maxNewTokens': Math.max(16, tokens) });
    await page.goto(`http://127.0.0.1:${PORT}/?backend=${backend}&setup=${setup}`);
    await page.getByTestId('model-family').waitFor();
    const info = await page.evaluate(() => document.querySelector('[data-testid="backend"]')?.textContent ?? '?');
    await page.getByTestId('create-run').click();
    await page.getByRole('button', { name: 'Run', exact: true }).waitFor();
    await page.waitForFunction(() => !(document.querySelector('[data-testid="run-status"]')?.textContent ?? '').startsWith('Creating'));
    // Measure from here: the run goes, the user keeps working.
    const cdp = profile ? await context.newCDPSession(page) : null;
    if (cdp) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
      await cdp.send('Profiler.start');
    }
    const t0 = await page.evaluate(() => performance.now());
    await page.keyboard.press('r');
    let finished = false;
    const done = page.waitForFunction(() => (document.querySelector('[data-testid="run-status"]')?.textContent ?? '').startsWith('Run complete'), null, { polling: 500 }).then(() => {
      finished = true;
    });
    const inputs = await userInputs(page, () => finished, every);
    await done;
    const t1 = await page.evaluate(() => performance.now());
    const cpu = cdp ? ((await cdp.send('Profiler.stop')).profile as CpuProfile) : null;
    const perf = await page.evaluate(() => (window as unknown as { __perf: { long: [number, number][]; events: [string, number, number, number][] } }).__perf);
    const longList = perf.long.filter(([s]) => s >= t0 && s <= t1).map(([s, d]) => [Math.round(s - t0), Math.round(d)]);
    const long = longList.map(([, d]) => d);
    if (cpu) {
      printProfile(cpu);
      const worst = [...longList].sort((a, b) => b[1] - a[1])[0];
      if (worst) printProfile(cpu, [worst[0] - 5, worst[0] + worst[1] + 5]);
    }
    const events = perf.events.filter(([, s]) => s >= t0 && s <= t1);
    const delays = events.map(([, , d]) => d);
    const durations = events.map(([, , , d]) => d);
    const result = {
      bench: 'ui-responsiveness',
      date: new Date().toISOString(),
      machine: `${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, load ${os.loadavg()[0].toFixed(1)}`,
      browser: `Chromium ${browser.version()}`,
      build: mode === 'dev' ? 'vite dev server (React development build)' : 'vite build + vite preview (production)',
      backend: info,
      run: { steps, problemsPerStep: problems, rolloutsPerProblem: rollouts, maxNewTokens: tokens, seconds: (t1 - t0) / 1000 },
      inputs,
      longTasks: { count: long.length, longestMs: Math.max(0, ...long), totalBlockingMs: long.reduce((a, d) => a + Math.max(0, d - 50), 0), p95Ms: quantile(long, 0.95), atMsAndDuration: longList },
      events: { count: events.length, maxInputDelayMs: Math.max(0, ...delays), p95InputDelayMs: quantile(delays, 0.95), maxDurationMs: Math.max(0, ...durations), p95DurationMs: quantile(durations, 0.95) },
      consoleProblems,
      note: 'Event Timing reports inputs slower than 16 ms only; delay = processingStart - startTime, duration = until the next paint (rounded to 8 ms by the browser)',
    };
    await mkdir('bench/out', { recursive: true });
    await writeFile(`bench/out/ui-responsiveness-${mode}-${backend}.json`, JSON.stringify(result, null, 2));
    const f = (x: number) => x.toFixed(0);
    console.log('| build | backend | run (s) | inputs | long tasks | longest task (ms) | total blocking (ms) | max input delay (ms) | p95 input delay (ms) | max input-to-paint (ms) |');
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    console.log(
      `| ${mode} | ${info} | ${result.run.seconds.toFixed(1)} | ${inputs} | ${long.length} | ${f(result.longTasks.longestMs)} | ${f(result.longTasks.totalBlockingMs)} | ${f(result.events.maxInputDelayMs)} | ${f(result.events.p95InputDelayMs)} | ${f(result.events.maxDurationMs)} |`,
    );
    if (consoleProblems.length) console.log(`console errors/warnings: ${consoleProblems.length} (see the JSON)`);
  } finally {
    await browser.close();
    await close();
    if (outDir) await rm(outDir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
