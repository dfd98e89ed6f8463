/**
 * The Fine-tune tab on the embedded model: SFT steps with progress and a loss curve, a
 * one-click PEFT download that onnxruntime-node can load and that lowers the loss, a bad data
 * file reported by line (the report goes once the data is edited), settings, data and the loss
 * curve kept across a reload with the adapter (IndexedDB), and no model reload that silently
 * discards an adapter that is not saved.
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { importPeftAdapter } from '../src/engine/lora/peft';
import { NodeFolderSource } from '../src/engine/models/node-source';
import { openModel } from '../src/engine/models/open-model';
import { MemorySource } from '../src/engine/models/sources';
import { loadTokenizer } from '../src/engine/models/tokenizer';
import { nodeCpuBackend } from '../src/engine/runtime/node-backend';
import { initLoraState, loraStateFromAdapter } from '../src/engine/train/lora-state';
import { parseSftJsonl, tokenizeSft } from '../src/engine/train/sft-data';
import { Trainer } from '../src/engine/train/trainer';
import { DEFAULT_JSONL } from '../src/ui/train/store';
import { readZip } from '../tests/support/zip-reader';
import { EMBEDDED_DIR, EMBEDDED_STEM } from './helpers/embedded';

/** Mean response cross-entropy of the default data under an adapter, on onnxruntime-node. */
async function nodeLoss(adapterFiles: Map<string, Buffer> | null): Promise<number> {
  const ckpt = await openModel(new NodeFolderSource(EMBEDDED_DIR));
  const cfg = ckpt.config;
  const state = adapterFiles
    ? loraStateFromAdapter(cfg, await importPeftAdapter(new MemorySource(Object.fromEntries([...adapterFiles].map(([k, v]) => [k, new Uint8Array(v)]))), cfg))
    : initLoraState(cfg, { r: 8, alpha: 16, targetModules: ['q_proj'], useRslora: false }, 0); // B = 0: the base model
  const tok = loadTokenizer(ckpt.tokenizerJson, ckpt.tokenizerConfig, { vocabSize: cfg.vocabSize });
  const samples = await tokenizeSft(tok, parseSftJsonl(DEFAULT_JSONL));
  const t = await Trainer.create({ backend: nodeCpuBackend(), config: cfg, weights: ckpt.weights, state, teacher: 'student', stateOn: 'host', padId: cfg.padTokenId ?? 0 });
  try {
    return (await t.evaluateGrad(samples, { kind: 'ce' })).loss;
  } finally {
    await t.release();
  }
}

test('train in the panel, download the PEFT zip, keep the adapter across a reload', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/');
  await page.evaluate(() => localStorage.clear());
  await page.goto('/?backend=webgpu');
  await expect(page.getByTestId('model-family')).toHaveText('qwen3', { timeout: 120_000 });
  await page.getByRole('tab', { name: 'Fine-tune' }).click();
  await expect(page.getByTestId('train-status')).toHaveText('No adapter yet.');

  // Bad data: reported with its line, nothing trained.
  await page.getByTestId('train-data').fill('{"prompt": "a", "response": "b"}\nnot json');
  await page.getByTestId('train').click();
  await expect(page.getByTestId('train-error')).toContainText('line 2');

  await page.getByTestId('train-data').fill(DEFAULT_JSONL);
  await expect(page.getByTestId('train-error')).toHaveCount(0);
  await page.getByTestId('train-steps').fill('4');
  await page.getByTestId('train-lr').fill('0.005');
  await page.getByTestId('train').click();
  await expect(page.getByTestId('train-status')).toContainText('4 steps trained', { timeout: 170_000 });
  await expect(page.getByTestId('train-error')).toHaveCount(0);
  await expect(page.locator('[data-testid="loss-chart"] polyline')).toHaveAttribute('data-points', '4');
  const label = (await page.getByTestId('loss-chart').getAttribute('aria-label'))!;
  const [, from, to] = /Loss from ([\d.]+) to ([\d.]+)/.exec(label)!;
  expect(Number(to)).toBeLessThan(Number(from));

  // One click: a zip with the two PEFT files.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-adapter').click()]);
  expect(download.suggestedFilename()).toBe(`${EMBEDDED_STEM}-lora-r8-step4.zip`);
  const files = readZip(await readFile((await download.path())!));
  expect([...files.keys()].sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
  const config = JSON.parse(files.get('adapter_config.json')!.toString('utf8'));
  expect(config).toMatchObject({ peft_type: 'LORA', task_type: 'CAUSAL_LM', r: 8, lora_alpha: 16, use_rslora: false });
  expect(config.target_modules).toHaveLength(7);
  // onnxruntime-node loads it, and it fits the training data better than the base model.
  const [tuned, base] = [await nodeLoss(files), await nodeLoss(null)];
  console.log(`response CE on the training data: base ${base.toFixed(4)}, downloaded adapter ${tuned.toFixed(4)}`);
  expect(tuned).toBeLessThan(base);

  // Loading adapter files from disk: a broken one is reported and changes nothing; the good one
  // (the download, unpacked) continues training from step 0 of this session.
  const dir = await mkdtemp(path.join(tmpdir(), 'pmd-ui-adapter-'));
  try {
    for (const [name, data] of files) await writeFile(path.join(dir, name), data);
    await mkdir(path.join(dir, 'broken'));
    await writeFile(path.join(dir, 'broken', 'adapter_config.json'), files.get('adapter_config.json')!);
    await writeFile(path.join(dir, 'broken', 'adapter_model.safetensors'), files.get('adapter_model.safetensors')!.subarray(0, 40));
    await page.getByTestId('import-adapter').setInputFiles([path.join(dir, 'broken', 'adapter_config.json'), path.join(dir, 'broken', 'adapter_model.safetensors')]);
    await expect(page.getByTestId('train-error')).toContainText('adapter_model.safetensors');
    await expect(page.getByTestId('train-status')).toContainText('4 steps trained');
    await page.getByTestId('import-adapter').setInputFiles([path.join(dir, 'adapter_config.json'), path.join(dir, 'adapter_model.safetensors')]);
    await expect(page.getByTestId('train-status')).toContainText('0 steps trained');
    await expect(page.getByTestId('train-error')).toHaveCount(0);
    // That adapter is not saved in the browser: reloading the model asks first, and Cancel keeps it.
    await page.getByTestId('load-embedded').click();
    const confirm = page.getByTestId('confirm');
    await expect(confirm).toContainText('not saved in this browser');
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await expect(confirm).toBeHidden();
    await expect(page.getByTestId('train-status')).toContainText('0 steps trained');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }

  // Generation with the adapter switched on still works.
  await page.getByTestId('use-adapter').check();
  await page.getByRole('tab', { name: 'Chat / Generate' }).click();
  await page.getByTestId('max-new-tokens').fill('3');
  await page.getByTestId('generate').click();
  await expect(page.getByTestId('stats')).toContainText('finish', { timeout: 120_000 });
  await page.getByRole('tab', { name: 'Fine-tune' }).click();

  // After a reload the settings and data are as they were, the adapter is offered again with its
  // loss curve, and training continues from it.
  await page.reload();
  await expect(page.getByTestId('model-family')).toHaveText('qwen3', { timeout: 120_000 });
  await expect(page.getByTestId('train-steps')).toHaveValue('4');
  await expect(page.getByTestId('train-lr')).toHaveValue('0.005');
  await expect(page.getByTestId('train-data')).toHaveValue(DEFAULT_JSONL);
  await expect(page.getByTestId('saved-adapter')).toContainText('4 steps');
  await expect(page.locator('[data-testid="loss-chart"] polyline')).toHaveAttribute('data-points', '4');
  await page.getByTestId('restore-adapter').click();
  await expect(page.getByTestId('train-status')).toContainText('4 steps trained');
  await expect(page.locator('[data-testid="loss-chart"] polyline')).toHaveAttribute('data-points', '4');
  await page.getByTestId('train-steps').fill('2');
  await page.getByTestId('train').click();
  await expect(page.getByTestId('train-status')).toContainText('6 steps trained', { timeout: 170_000 });
  await expect(page.locator('[data-testid="loss-chart"] polyline')).toHaveAttribute('data-points', '6');
  expect(errors).toEqual([]);
});
