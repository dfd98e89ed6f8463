/**
 * One PMD step of the playground in Chromium on the Qwen3-0.6B shape: the app as users open it
 * (Vite dev server, cross-origin isolated, the engine worker on onnxruntime-web), the model
 * loaded through the app's Hub source from a local stand-in Hub (bf16 safetensors with seeded
 * random weights and Qwen3's tokenizer, bench/checkpoints.ts), the shipped arithmetic suite, and
 * the settings of bench/pmd-run.ts (PMD's defaults; B problems × G rollouts of up to --max-new
 * tokens; a minimal evaluation). Reports the step's time by phase and effect from the run's own
 * timing records in IndexedDB, and rollouts per second of the rollout phase. Usage:
 *   npx tsx bench/pmd-browser.ts [--layers 28] [--problems 4] [--rollouts 4] [--max-new 32]
 *                                [--backend wasm|webgpu] [--max-minutes 90] [--out bench/out/pmd-browser.json]
 * Peak RSS sums the browser's process tree, sampled every second.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from '@playwright/test';
import { createServer } from 'vite';
import { Args } from '../src/cli/args';
import { BASE_ARGS, CHROMIUM } from '../e2e/chromium';
import { openView, records, setupParam, waitSettled } from '../e2e/helpers/run';
import { startHubServer } from '../tests/support/hub-server';
import { ensureQwen3Checkpoint } from './checkpoints';
import { webgpuArgs } from './gpu/adapter';
import { phaseSplit, phaseTable } from './phases';
import { browserTreeRssMiB, loadAvg, machineLine } from './proc';

const PORT = 5184;
const REPO = 'bench/qwen3-0.6b-random';

async function main() {
  const args = new Args(process.argv.slice(2), []);
  const layers = args.integer('layers', 28, 1);
  const B = args.integer('problems', 4, 1);
  const G = args.integer('rollouts', 4, 1);
  const maxNew = args.integer('max-new', 32, 1);
  const backend = args.string('backend') ?? 'wasm';
  if (backend !== 'wasm' && backend !== 'webgpu') throw new Error(`--backend must be wasm or webgpu, got "${backend}"`);
  const maxMinutes = args.number('max-minutes', 90);
  const outFile = args.string('out') ?? 'bench/out/pmd-browser.json';
  args.rejectUnknown();

  const files = await ensureQwen3Checkpoint(path.resolve('bench/out/models/qwen3-0.6b-random'), layers, true);
  const hub = await startHubServer({ repos: { [REPO]: files } });
  const vite = await createServer({ server: { port: PORT, strictPort: true, host: '127.0.0.1', watch: null, hmr: false }, logLevel: 'error' });
  await vite.listen();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: backend === 'webgpu' ? [...webgpuArgs(), ...BASE_ARGS] : BASE_ARGS, headless: true });
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, browserTreeRssMiB())), 1000);
  const loadBefore = loadAvg();
  try {
    const page = await browser.newPage();
    page.setDefaultTimeout(10 * 60_000);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const settings = {
      steps: 1,
      problemsPerStep: B,
      rolloutsPerProblem: G,
      'rollout.maxNewTokens': maxNew,
      'eval.every': 1,
      'eval.n': 1,
      'eval.k': 1,
      'eval.maxProblems': 1,
    };
    await page.goto(`http://127.0.0.1:${PORT}/?backend=${backend}&setup=${setupParam(settings)}`);
    await page.getByTestId('backend').filter({ hasText: backend }).waitFor();
    await page.getByTestId('model-family').filter({ hasText: /\S/ }).waitFor();

    const t0 = Date.now();
    await page.getByRole('radiogroup', { name: 'Model source' }).getByText('Hugging Face Hub').click();
    await page.getByTestId('hub-endpoint').fill(hub.url);
    await page.getByTestId('hub-repo').fill(REPO);
    await page.getByTestId('load-hub').click();
    await page.locator('[data-testid="load-progress"][data-status="done"]').waitFor({ timeout: 30 * 60_000 });
    await page.getByTestId('model-summary').filter({ hasText: REPO }).waitFor();
    const loadS = (Date.now() - t0) / 1000;
    console.error(`model loaded through the Hub source in ${loadS.toFixed(1)} s, browser tree peak ${peakRss.toFixed(0)} MiB`);

    await page.getByTestId('create-run').click();
    await page.getByTestId('run-status').filter({ hasText: 'Step 1 of' }).waitFor();
    const { id: runId } = await openView(page);
    const t1 = Date.now();
    await page.getByRole('button', { name: 'Step', exact: true }).click();
    const status = await waitSettled(page, maxMinutes * 60_000);
    const stepS = (Date.now() - t1) / 1000;
    if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);

    const recs = await records(page, runId);
    const rollouts = recs.flatMap((r) => (r.record.kind === 'rollout' ? [r.record.rollout] : []));
    const timings = recs.flatMap((r) => (r.record.kind === 'timing' ? [r.record] : []));
    const split = phaseSplit(timings);
    const { effectS, phaseS, effectsS } = split;
    const genS = effectS.rollout?.generate ?? NaN;
    const tokens = rollouts.reduce((a, r) => a + ((r as { tokens?: unknown[] }).tokens?.length ?? 0), 0);
    const result = {
      bench: 'pmd-browser',
      date: new Date().toISOString(),
      machine: machineLine(),
      browser: `Chromium ${browser.version()}`,
      backend,
      model: `Qwen3-0.6B shape, ${layers} layers, seeded random bf16 weights, Qwen3 tokenizer, via the app's Hub source`,
      settings,
      status,
      loadS,
      stepS,
      effectsS,
      phaseS,
      effectS,
      rollouts: rollouts.length,
      rolloutTokens: tokens,
      rolloutsPerS: rollouts.length / genS,
      rolloutTokPerS: tokens / genS,
      peakRssMiB: peakRss,
      loadBefore,
      loadAfter: loadAvg(),
    };
    await mkdir(path.dirname(outFile), { recursive: true });
    await writeFile(outFile, JSON.stringify(result, null, 2));
    console.log(phaseTable(split));
    console.log(
      `step ${stepS.toFixed(1)} s (effects ${effectsS.toFixed(1)} s), model load ${loadS.toFixed(1)} s, browser tree peak ${peakRss.toFixed(0)} MiB; ` +
        `rollouts: ${rollouts.length} (${tokens} tokens) in ${genS.toFixed(1)} s = ${result.rolloutsPerS.toFixed(2)} rollouts/s; load ${loadBefore[0]} -> ${result.loadAfter[0]}`,
    );
  } finally {
    clearInterval(sampler);
    await browser.close();
    await vite.close();
    await hub.close();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
