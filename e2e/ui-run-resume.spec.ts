/**
 * The playground as a user without a GPU gets it (the backend left on auto: on SwiftShader it
 * picks wasm and says why), driven by the keyboard only: create a run, advance it with the
 * shortcuts and with focused buttons, pause with Escape, reload the page in the middle of a
 * running step (the run reopens at its last persisted transition and finishes), survive an
 * engine failure (a new worker, the model reloaded, the run reopened), and export the memory,
 * the metrics and the run file, which imports back into the library.
 */
import { readFile } from 'node:fs/promises';
import { expect, test, type Page } from '@playwright/test';
import { expectNoConsoleProblems, openView, records, region, setupParam, shoot, SMALL_RUN, waitSettled, watch } from './helpers/run';

async function download(page: Page, button: string): Promise<{ name: string; text: string; bytes: Buffer }> {
  const [d] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: button, exact: true }).click()]);
  const bytes = await readFile((await d.path())!);
  return { name: d.suggestedFilename(), text: bytes.toString('utf8'), bytes };
}

test('keyboard-only controls, a reload mid-run resumes, an engine failure is recovered, exports round-trip', async ({ page }) => {
  test.setTimeout(600_000);
  const w = watch(page);
  await page.goto(`/?setup=${setupParam({ ...SMALL_RUN, steps: 3, 'rollout.maxNewTokens': 12 })}`);
  // Auto: SwiftShader is a software adapter, so the engine runs on wasm, and says why.
  await expect(page.getByTestId('backend')).toHaveText('wasm', { timeout: 60_000 });
  await expect(page.getByTestId('fallback-reason')).toContainText('software renderer');
  await expect(page.getByTestId('model-family')).not.toBeEmpty({ timeout: 120_000 });

  // Keyboard only from here: focus the form's button and press Enter.
  await page.getByTestId('create-run').focus();
  await page.keyboard.press('Enter');
  const status = page.getByTestId('run-status');
  await expect(status).toContainText('Step 1 of 3', { timeout: 60_000 });
  await page.locator('body').focus();
  await page.keyboard.press('p');
  expect(await waitSettled(page)).toContain('the rollout phase is done');
  // A focused button is pressed with Enter (Tab order reaches it like any button).
  await page.getByRole('button', { name: 'Phase', exact: true }).focus();
  await page.keyboard.press('Enter');
  expect(await waitSettled(page)).toContain('the verify phase is done');
  await page.locator('body').focus();
  await page.keyboard.press('s');
  expect(await waitSettled(page)).toContain('Step 2 of 3');
  // The shortcuts are listed in the UI, and on the buttons for assistive technology.
  await expect(page.getByRole('button', { name: 'Run', exact: true })).toHaveAttribute('aria-keyshortcuts', 'R');
  await page.getByText('Keyboard', { exact: true }).click();
  await expect(region(page, 'Controls').locator('.shortcuts')).toContainText('Escape Pause');

  // Run, then Escape pauses after the piece of work in flight.
  await page.locator('body').focus();
  await page.keyboard.press('r');
  await expect(status).toContainText('phase:', { timeout: 30_000 });
  await page.keyboard.press('Escape');
  expect(await waitSettled(page)).toMatch(/Step 2 of 3 · paused/);

  // Run again and reload while it runs: the run reopens at its last saved transition.
  await page.keyboard.press('r');
  await expect(status).toContainText('phase:', { timeout: 30_000 });
  const { id: runId } = await openView(page);
  await page.reload();
  await expect(page.getByTestId('run-notice')).toContainText('at its last saved transition', { timeout: 120_000 });
  const reopened = await openView(page);
  expect(reopened.id).toBe(runId);
  const saved = await records(page, runId);
  expect(reopened.view.seq).toBeGreaterThanOrEqual(Math.max(...saved.map((r) => r.seq)));
  await expect(status).toContainText(`Step ${reopened.view.step} of 3`);

  // The engine fails (as if the GPU device were lost): a new worker, the model reloaded, the run reopened.
  const before = reopened.view.seq;
  await page.evaluate(() => (window as unknown as { __pmdLab: { failEngine(): Promise<void> } }).__pmdLab.failEngine());
  const failure = page.getByTestId('engine-failure');
  await expect(failure).toContainText('The GPU device was lost');
  await expect(page.getByTestId('engine-failure-outcome')).toContainText('The run was reopened at its last saved transition', { timeout: 120_000 });
  expect((await openView(page)).view.seq).toBe(before);

  // Finish with the keyboard.
  await page.locator('body').focus();
  await page.keyboard.press('r');
  await expect(status).toContainText('Run complete: all 3 steps done.', { timeout: 300_000 });
  const recs = await records(page, runId);
  const metrics = recs.filter((r) => r.record.kind === 'metric');
  expect(metrics).toHaveLength(3);
  expect(recs.filter((r) => r.record.kind === 'rollout')).toHaveLength(3 * 4);
  // No transition was lost or repeated: one record set per seq, in order.
  const seqs = [...new Set(recs.map((r) => r.seq))];
  expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  await expect(page.getByTestId('chart-reward')).toHaveAttribute('data-points', '3');
  for (const size of [
    { width: 1440, height: 900 },
    { width: 1280, height: 720 },
  ]) {
    await page.setViewportSize(size);
    await shoot(page, 'wasm-3-steps-page');
    await shoot(page, 'wasm-3-steps-curves', region(page, 'Curves'));
  }

  // Exports: memory as JSONL (one line per item the view holds), metrics as CSV (one row per step), the run file.
  const { view } = await openView(page);
  const items = Object.values(view.memory.problems).reduce((a, p) => a + p.experience.length + p.insights.length, 0) + view.memory.behaviors.length;
  const memory = await download(page, 'Export memory (JSONL)');
  const lines = memory.text.trim() === '' ? [] : memory.text.trim().split('\n').map((l) => JSON.parse(l) as { level: string });
  expect(lines).toHaveLength(items);
  const csv = await download(page, 'Export metrics (CSV)');
  const rows = csv.text.trim().split('\n');
  expect(rows[0].split(',').slice(0, 3)).toEqual(['step', 'stage', 'reward_mean']);
  expect(rows.slice(1).map((r) => r.split(',')[0])).toEqual(['1', '2', '3']);
  const runFile = await download(page, 'Export run file');
  expect(runFile.name).toMatch(/\.pmd-run\.zip$/);
  const listed = await page.getByTestId('run-library').locator('tbody tr').count();
  await page.getByTestId('import-run').setInputFiles({ name: runFile.name, mimeType: 'application/zip', buffer: runFile.bytes });
  await expect(page.getByTestId('run-library').locator('tbody tr')).toHaveCount(listed + 1);

  // The imported copy is a run on the same suite: compared in Ablations, overlaid in Curves
  // with the settings that differ from this run's (none).
  await expect(page.getByTestId('variant-comparison').locator('tbody tr')).toHaveCount(2);
  await page.getByRole('checkbox', { name: /^Overlay .* in Curves$/ }).check();
  await expect(page.getByTestId('chart-reward')).toContainText('(same settings)');

  // The same question with and without the run's memory, on demand.
  await region(page, 'Teacher view').getByTestId('compare').click();
  const comparison = region(page, 'Teacher view').getByTestId('comparison');
  await expect(comparison).toContainText('Without memory', { timeout: 60_000 });
  await expect(comparison).toContainText('With the run’s memory in the prompt');

  // A public dataset file becomes a task suite through the worker's importer.
  await page.getByRole('button', { name: 'Unfold' }).click();
  await page.getByTestId('import-format').selectOption('gsm8k');
  const gsm8k = ['{"question": "What is 2 + 3?", "answer": "2 + 3 = 5\\n#### 5"}', '{"question": "What is 4 * 6?", "answer": "4 * 6 = 24\\n#### 24"}'].join('\n');
  await page.getByTestId('import-suite').setInputFiles({ name: 'gsm8k-sample.jsonl', mimeType: 'application/jsonl', buffer: Buffer.from(gsm8k) });
  await expect(page.getByTestId('suite-info')).toContainText('gsm8k-sample: 2 tasks (2 train, 0 test)');
  await expect(page.getByRole('radio', { name: /gsm8k-sample/ })).toBeChecked();

  // The whole setup as a link: the changed fields and the suite travel in ?setup=.
  await page.getByTestId('suite-arithmetic').check();
  await page.getByRole('button', { name: 'Copy a link to this setup' }).click();
  const link = new URL(await page.getByTestId('share-link').inputValue());
  const shared = JSON.parse(Buffer.from(link.searchParams.get('setup')!, 'base64url').toString('utf8')) as { v: string; o: Record<string, unknown>; s: unknown };
  expect(shared).toMatchObject({ v: 'pmd', o: { steps: 3, problemsPerStep: 2, 'rollout.maxNewTokens': 12 }, s: { kind: 'shipped', name: 'arithmetic' } });
  expectNoConsoleProblems(w);
});
