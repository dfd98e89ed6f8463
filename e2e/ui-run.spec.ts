/**
 * The playground's PMD run on the embedded model (whichever it is) with the arithmetic suite and
 * small settings, WebGPU on SwiftShader forced with ?backend=webgpu: set up from a shared link,
 * advance phase by phase through a step and check that each panel shows that step's data as the
 * store and the worker's records hold it (counts and texts, not fixtures); export the adapter
 * (PEFT names in the zip); Freeze policy keeps the exported adapter byte-identical across the
 * next step (and Freeze memory keeps memory as it was). Screenshots of each panel at 1440x900 and 1280x720 go to test-results/screenshots/.
 */
import { readFile } from 'node:fs/promises';
import { expect, test, type Page } from '@playwright/test';
import type { RolloutView } from '../src/worker/protocol';
import { readZip } from '../tests/support/zip-reader';
import { expectNoConsoleProblems, openView, records, region, setupParam, shoot, SMALL_RUN, waitSettled, watch } from './helpers/run';

const PHASES = ['rollout', 'verify', 'experience', 'insight', 'behavior', 'teacher', 'update', 'evaluate'];
const PANELS = ['Setup', 'Controls', 'Rollouts', 'Teacher view', 'Memory', 'Behavior clusters', 'Curves', 'Ablations', 'Export'];

async function downloadAdapter(page: Page): Promise<Map<string, Buffer>> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export adapter', exact: true }).click()]);
  expect(download.suggestedFilename()).toMatch(/-student-adapter-step\d+\.zip$/);
  return readZip(await readFile((await download.path())!));
}

/** Every attempt of the Rollouts panel as shown: id, reward text, and the text of its tokens. */
async function shownAttempts(page: Page): Promise<{ id: string; reward: string; text: string }[]> {
  return region(page, 'Rollouts')
    .getByTestId('attempt')
    .evaluateAll((els) =>
      els.map((el) => ({
        id: el.getAttribute('data-rollout') ?? '',
        reward: el.querySelector('[data-testid="reward"]')?.textContent ?? '',
        text: [...el.querySelectorAll('.tok')].map((t) => t.textContent).join(''),
      })),
    );
}

function rewardText(r: RolloutView): string {
  return `reward ${r.reward === null ? 'not scored' : r.reward.toFixed(2)}`;
}

async function shootPanels(page: Page, tag: string): Promise<void> {
  for (const size of [
    { width: 1440, height: 900 },
    { width: 1280, height: 720 },
  ]) {
    await page.setViewportSize(size);
    await page.waitForTimeout(300);
    await shoot(page, `${tag}-page`);
    for (const name of PANELS) await shoot(page, `${tag}-${name.toLowerCase().replace(/ /g, '-')}`, region(page, name));
  }
  await page.setViewportSize({ width: 1440, height: 900 });
}

test('a run on WebGPU phase by phase: the panels show the step’s records; Freeze policy keeps the adapter byte-identical', async ({ page }) => {
  test.setTimeout(900_000);
  const w = watch(page);
  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto(`/?backend=webgpu&setup=${setupParam({ ...SMALL_RUN, steps: 2 })}`);
  await expect(page.getByTestId('backend')).toHaveText('webgpu', { timeout: 60_000 });
  await expect(page.getByTestId('backend-why')).toContainText('WebGPU, as chosen in the settings');
  await expect(page.getByTestId('model-family')).not.toBeEmpty({ timeout: 120_000 });
  // The shared link filled the form, then left the address bar.
  expect(page.url()).not.toContain('setup=');
  await expect(page.getByTestId('cfg-problemsPerStep')).toHaveValue('2');
  await expect(page.getByTestId('cfg-rollout.maxNewTokens')).toHaveValue('8');
  await expect(page.getByTestId('suite-info')).toContainText('arithmetic: 16 tasks (10 train, 6 test)');

  await page.getByTestId('create-run').click();
  const status = page.getByTestId('run-status');
  await expect(status).toHaveAttribute('role', 'status');
  await expect(status).toContainText('Step 1 of 2', { timeout: 60_000 });
  const { id: runId } = await openView(page);

  // Phase by phase through step 1; after each, the panels show what the store holds.
  const done: string[] = [];
  for (let i = 0; i < PHASES.length; i++) {
    await page.getByRole('button', { name: 'Phase', exact: true }).click();
    const text = await waitSettled(page);
    const phase = /the (\w+) phase is done/.exec(text)?.[1];
    expect(text, `status after Phase #${i + 1}`).toContain('Step 1 of 2');
    done.push(phase ?? text);
    const { view } = await openView(page);
    const live = view.work!.rollouts;
    if (phase === 'rollout') {
      expect(live).toHaveLength(4);
      await expect(region(page, 'Rollouts').getByTestId('rollouts-summary')).toContainText('Step 1 (in progress): 2 problems × 2 attempts');
      const shown = await shownAttempts(page);
      expect(shown.map((a) => a.id).sort()).toEqual(live.map((r) => r.id).sort());
      for (const r of live) expect(shown.find((a) => a.id === r.id)!.text).toBe(r.pieces.join(''));
    }
    if (phase === 'verify') {
      const shown = await shownAttempts(page);
      for (const r of live) expect(shown.find((a) => a.id === r.id)!.reward).toBe(rewardText(r));
    }
    if (phase === 'experience') {
      const stored = Object.values(view.memory.problems).reduce((a, p) => a + p.experience.length, 0);
      expect(stored).toBeGreaterThan(0);
      await expect(region(page, 'Memory').getByTestId('memory-tab-experience')).toContainText(String(stored));
      await expect(region(page, 'Memory').getByTestId('memory-item')).toHaveCount(stored);
      // Questions are in memory now, so the map has a point per problem.
      const questions = Object.values(view.memory.problems).filter((p) => p.question).length;
      await expect(region(page, 'Behavior clusters').locator('circle.pt')).toHaveCount(questions, { timeout: 60_000 });
    }
    if (phase === 'teacher') {
      const first = live[0];
      await region(page, 'Rollouts').locator(`[data-rollout="${first.id}"]`).getByRole('button', { name: `#${first.index + 1}` }).click();
      const teacher = region(page, 'Teacher view');
      await expect(teacher.getByTestId('teacher-body')).toHaveAttribute('data-rollout', first.id);
      const blocks = teacher.getByTestId('teacher-blocks').locator('li');
      await expect(blocks).toHaveCount(first.teacher!.blocks.length);
      const texts = await blocks.locator('pre').allTextContents();
      expect(texts).toEqual(first.teacher!.blocks.map((b) => b.text));
      await expect(teacher.getByTestId('masked')).toHaveCount(first.teacher!.masked ? 1 : 0);
    }
    if (phase === 'update') {
      const shownId = await region(page, 'Teacher view').getByTestId('teacher-body').getAttribute('data-rollout');
      const r = live.find((x) => x.id === shownId)!;
      const tokens = region(page, 'Teacher view').locator('.tokens.response .tok');
      await expect(tokens).toHaveCount(r.tokens.length);
      if (r.tokensView) {
        await expect(region(page, 'Teacher view').locator('.tokens.response')).toHaveAttribute('data-coloring', 'divergence');
        expect(await tokens.first().getAttribute('title')).toContain(`teacher log p ${r.tokensView.teacherLogp[0].toFixed(3)}`);
      }
    }
  }
  expect(done).toEqual(PHASES);

  // Step: end step 1 (its rollouts and metrics are written to the records) and start step 2.
  await page.getByRole('button', { name: 'Step', exact: true }).click();
  expect(await waitSettled(page)).toContain('Step 2 of 2');
  const recs = await records(page, runId);
  const rollouts = recs.flatMap((r) => (r.record.kind === 'rollout' && r.record.step === 1 ? [r.record.rollout] : []));
  const metrics = recs.flatMap((r) => (r.record.kind === 'metric' ? [r.record.metric] : []));
  const events = recs.flatMap((r) => (r.record.kind === 'memory-event' ? [r.record.event] : []));
  expect(rollouts).toHaveLength(4);
  expect(metrics).toHaveLength(1);

  // Rollouts of step 1, from the records.
  await page.getByTestId('rollout-step').selectOption('1');
  await expect(region(page, 'Rollouts').getByTestId('rollouts-summary')).toContainText(`Step 1: 2 problems × 2 attempts, ${rollouts.filter((r) => (r.reward ?? 0) >= 0.5).length} of 4 correct`);
  const shown = await shownAttempts(page);
  expect(shown.map((a) => a.id).sort()).toEqual(rollouts.map((r) => r.id).sort());
  for (const r of rollouts) {
    const a = shown.find((x) => x.id === r.id)!;
    expect(a.text).toBe(r.pieces.join(''));
    expect(a.reward).toBe(rewardText(r));
  }
  const feedbacks = await region(page, 'Rollouts').getByTestId('feedback').allTextContents();
  expect(feedbacks.sort()).toEqual(rollouts.flatMap((r) => (r.feedback ? [r.feedback] : [])).sort());
  // The selected problem's history across steps.
  await region(page, 'Rollouts').getByRole('button', { name: rollouts[0].problem, exact: true }).click();
  await expect(region(page, 'Rollouts').getByTestId('problem-history')).toContainText(`History of ${rollouts[0].problem}`);

  // Memory changes of step 1 (the event log), counted per operation.
  await region(page, 'Memory').getByTestId('memory-tab-changes').click();
  await expect(region(page, 'Memory').getByTestId('memory-tab-changes')).toContainText(String(events.length));
  const added = events.filter((e) => e.step === 1 && e.op === 'add').length;
  if (added > 0) await expect(region(page, 'Memory').locator('[data-step="1"] h3')).toContainText(`${added} added`);

  // Curves: one step of metrics, the values the records hold.
  const m = metrics[0];
  await expect(page.getByTestId('chart-reward')).toHaveAttribute('data-points', '1');
  await expect(page.getByTestId('chart-reward')).toHaveAttribute('data-last', String(Number(m.reward_mean.toPrecision(6))));
  if (m.loss !== null) await expect(page.getByTestId('chart-loss')).toHaveAttribute('data-last', String(Number(m.loss.toPrecision(6))));
  await expect(page.getByTestId('chart-memory')).toHaveAttribute('data-last', `${m.memory.experience}/${m.memory.insights}/${m.memory.behaviors}`);
  await expect(page.getByTestId('chart-eval')).toHaveAttribute('data-points', m.eval ? '1' : '0');
  await expect(page.getByTestId('chart-time')).toHaveAttribute('data-points', String(recs.filter((r) => r.record.kind === 'timing').length));

  // Export adapter: a PEFT zip.
  const before = await downloadAdapter(page);
  expect([...before.keys()].sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
  expect(JSON.parse(before.get('adapter_config.json')!.toString('utf8'))).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM' });

  // Freeze policy (and memory, which also spares step 2 the reflections), then the whole of
  // step 2: the adapter does not change by a byte, and memory does not change at all.
  const memoryBefore = (await openView(page)).view.memory;
  for (const name of ['Freeze policy', 'Freeze memory']) {
    const sw = page.getByRole('switch', { name });
    await sw.click();
    await expect(sw).toBeChecked();
    await waitSettled(page);
  }
  await expect(region(page, 'Ablations').getByTestId('control-log')).toContainText('step 2: policy frozen');
  await expect(region(page, 'Ablations').getByTestId('control-log')).toContainText('step 2: memory frozen');
  await page.getByRole('button', { name: 'Step', exact: true }).click();
  expect(await waitSettled(page)).toContain('Run complete');
  const after = await downloadAdapter(page);
  expect(after.get('adapter_model.safetensors')!.equals(before.get('adapter_model.safetensors')!)).toBe(true);
  expect(after.get('adapter_config.json')!.equals(before.get('adapter_config.json')!)).toBe(true);
  expect((await openView(page)).view.memory).toEqual(memoryBefore);
  await expect(page.getByTestId('chart-reward')).toHaveAttribute('data-points', '2');
  // Step 2 had no update: its loss is missing from the curve.
  await expect(page.getByTestId('chart-loss')).toHaveAttribute('data-points', m.loss === null ? '0' : '1');

  await shootPanels(page, 'run');
  expectNoConsoleProblems(w);
});
