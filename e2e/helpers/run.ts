/**
 * Helpers for the playground's run specs and the UI benchmark: a shared setup link (the form's
 * ?setup= parameter), opening the app with the console watched, waiting for the run controls
 * to settle, and reading the open run's records and state back through the page's debug handle
 * (window.__pmdLab, development builds only) to compare panels with what the store holds.
 */
import { expect, type Locator, type Page } from '@playwright/test';
import type { RunRecordView, RunView } from '../../src/worker/protocol';

/** A ?setup= value: variant, changed fields, a shipped suite (the format of src/ui/setup/share.ts). */
export function setupParam(overrides: Record<string, unknown>, suite = 'arithmetic', variant = 'pmd'): string {
  return Buffer.from(JSON.stringify({ v: variant, o: overrides, s: { kind: 'shipped', name: suite } })).toString('base64url');
}

/** Small run settings: a step takes seconds on the embedded model. */
export const SMALL_RUN = {
  problemsPerStep: 2,
  rolloutsPerProblem: 2,
  'rollout.maxNewTokens': 8,
  'reflector.maxNewTokens': 16,
  'behavior.every': 1,
  'eval.every': 1,
  'eval.n': 1,
  'eval.k': 1,
  'eval.maxProblems': 2,
};

export interface Watched {
  /** Uncaught page errors. */
  errors: string[];
  /** Console errors and warnings (a normal session has none). */
  console: string[];
}

/** Console lines the browser itself writes in this environment, not the app. */
const BROWSER_NOISE = [/^No available adapters\.$/];

export function watch(page: Page): Watched {
  const w: Watched = { errors: [], console: [] };
  page.on('pageerror', (e) => w.errors.push(e.message));
  page.on('console', (m) => {
    if ((m.type() === 'error' || m.type() === 'warning') && !BROWSER_NOISE.some((r) => r.test(m.text()))) w.console.push(`${m.type()}: ${m.text()}`);
  });
  return w;
}

/** Wait until nothing advances the run (the Phase button is back, or the run is complete). */
export async function waitSettled(page: Page, timeout = 240_000): Promise<string> {
  await page.waitForFunction(
    () => {
      const run = (window as unknown as { __pmdLab: { run(): { advancing: unknown; busy: unknown; open: { view: { phase: string } } | null } } }).__pmdLab.run();
      return run.advancing === null && run.busy === null && run.open !== null;
    },
    null,
    { timeout, polling: 250 },
  );
  return (await page.getByTestId('run-status').textContent()) ?? '';
}

export async function openView(page: Page): Promise<{ id: string; view: RunView }> {
  return page.evaluate(() => {
    const o = (window as unknown as { __pmdLab: { run(): { open: { meta: { id: string }; view: RunView } | null } } }).__pmdLab.run().open!;
    return { id: o.meta.id, view: o.view };
  });
}

/** The open run's records, read from IndexedDB by the worker (not from the UI's store). */
export async function records(page: Page, runId: string): Promise<{ seq: number; record: RunRecordView }[]> {
  return page.evaluate(async (id) => {
    const lab = (window as unknown as { __pmdLab: { request(r: unknown): Promise<{ records: { seq: number; record: RunRecordView }[] }> } }).__pmdLab;
    return (await lab.request({ type: 'run-records', runId: id })).records;
  }, runId);
}

/** A region of the page by its accessible name (the panels are <section>s named by their heading). */
export function region(page: Page, name: string): Locator {
  return page.getByRole('region', { name, exact: true });
}

/** While shooting a panel, the sticky controls bar stays in place instead of covering it. */
const UNSTICK = '.controls { position: static !important; box-shadow: none !important; }';

/** Save a panel's screenshot (or the page's top, as a user first sees it) at the current viewport size. */
export async function shoot(page: Page, name: string, what?: Locator): Promise<void> {
  const size = page.viewportSize();
  const file = `test-results/screenshots/${name}-${size?.width}x${size?.height}.png`;
  if (what) {
    await what.scrollIntoViewIfNeeded();
    await what.screenshot({ path: file, style: UNSTICK, animations: 'disabled' });
  } else {
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: file, animations: 'disabled' });
  }
}

export function expectNoConsoleProblems(w: Watched): void {
  expect(w.errors, 'uncaught page errors').toEqual([]);
  expect(w.console, 'console errors and warnings').toEqual([]);
}
