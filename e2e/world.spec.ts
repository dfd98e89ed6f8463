/**
 * The playground as the README's first command opens it: no settings in the address, no
 * network beyond the app's own server. It must open on the embedded default (the world model
 * and the world's task suite, with the world's run settings), pick its backend on its own (on
 * SwiftShader: wasm, and say why), and complete a whole PMD step with those settings. The time
 * of the step is printed (docs/world.md records it); two more steps, then the panels are shot
 * for the README.
 */
import { expect, test } from '@playwright/test';
import { expectNoConsoleProblems, openView, records, region, shoot, waitSettled, watch } from './helpers/run';

test('opens offline on the embedded world and completes a step with its default settings', async ({ page, baseURL }) => {
  test.setTimeout(900_000);
  const w = watch(page);
  // Offline: anything outside the app's own server is refused and fails the test.
  const outside: string[] = [];
  await page.route(
    (url) => !url.href.startsWith(baseURL!),
    (route) => {
      outside.push(route.request().url());
      return route.abort();
    },
  );
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto('/');

  await expect(page.getByTestId('backend')).toHaveText('wasm', { timeout: 60_000 });
  await expect(page.getByTestId('fallback-reason')).toContainText('software renderer');
  await expect(page.getByTestId('model-summary')).toContainText('world model (embedded)', { timeout: 120_000 });
  await expect(page.getByTestId('suite-info')).toContainText('world:');

  await page.getByTestId('create-run').click();
  await expect(page.getByTestId('run-status')).toContainText('Step 1 of', { timeout: 60_000 });
  const { id: runId, view } = await openView(page);
  const config = view.config as { problemsPerStep: number; rolloutsPerProblem: number; steps: number };

  const t0 = Date.now();
  await page.getByRole('button', { name: 'Step', exact: true }).click();
  const text = await waitSettled(page, 840_000);
  const seconds = (Date.now() - t0) / 1000;
  expect(text).toContain(config.steps > 1 ? 'Step 2 of' : 'Run complete');

  const recs = await records(page, runId);
  const rollouts = recs.filter((r) => r.record.kind === 'rollout');
  const metrics = recs.flatMap((r) => (r.record.kind === 'metric' ? [r.record.metric] : []));
  expect(rollouts).toHaveLength(config.problemsPerStep * config.rolloutsPerProblem);
  expect(metrics).toHaveLength(1);
  const m = metrics[0];
  console.log(
    `world step 1 in Chromium (wasm, auto): ${seconds.toFixed(1)} s for B=${config.problemsPerStep} G=${config.rolloutsPerProblem}; ` +
      `reward ${m.reward_mean.toFixed(3)}, loss ${m.loss === null ? 'none' : m.loss.toFixed(4)}, masked ${m.masked}, ` +
      `memory ${m.memory.experience}/${m.memory.insights}/${m.memory.behaviors}`,
  );
  // The step learned something worth showing: memory was written and the student was updated.
  expect(m.memory.experience).toBeGreaterThan(0);
  expect(m.loss).not.toBeNull();

  // Two more steps, so the curves and the memory's history have something to show.
  for (const next of [3, 4]) {
    await page.getByRole('button', { name: 'Step', exact: true }).click();
    expect(await waitSettled(page, 600_000)).toContain(`Step ${next} of`);
  }
  await expect(page.getByTestId('chart-reward')).toHaveAttribute('data-points', '3');
  // Rollout throughput and the time split of each step by phase, from the run's own timing
  // records (printed for docs/benchmarks.md; a benchmark, not an assertion on speed).
  const timings = (await records(page, runId)).flatMap((r) => (r.record.kind === 'timing' ? [r.record] : []));
  for (const step of [1, 2, 3]) {
    const byPhase = new Map<string, number>();
    for (const t of timings) if (t.step === step) byPhase.set(t.phase, (byPhase.get(t.phase) ?? 0) + t.ms);
    const rolloutS = (byPhase.get('rollout') ?? 0) / 1000;
    const n = config.problemsPerStep * config.rolloutsPerProblem;
    console.log(
      `world step ${step} in Chromium by phase: ${[...byPhase].map(([p, ms]) => `${p} ${(ms / 1000).toFixed(2)} s`).join(', ')}; ` +
        `${n} rollouts in ${rolloutS.toFixed(2)} s = ${(n / rolloutS).toFixed(1)} rollouts/s`,
    );
  }

  await page.getByTestId('rollout-step').selectOption('1');
  await expect(region(page, 'Rollouts').getByTestId('rollouts-summary')).toContainText(`Step 1: ${config.problemsPerStep} problems`);
  await shoot(page, 'world-page');
  for (const name of ['Rollouts', 'Teacher view', 'Memory', 'Behavior clusters', 'Curves']) {
    await shoot(page, `world-${name.toLowerCase().replace(/ /g, '-')}`, region(page, name));
  }
  expect(outside, 'requests outside the app').toEqual([]);
  expectNoConsoleProblems(w);
});
