/**
 * The model column and the Chat / Generate tab in real Chromium (WebGPU on SwiftShader, forced
 * with ?backend=webgpu since "auto" prefers wasm on a software adapter): backend detection and
 * the device report, the embedded model, streamed generation, settings kept across reloads,
 * local folders (a good one and a corrupt one), and the notice shown when the last model came
 * from a folder.
 */
import { mkdtemp, rm, stat, truncate } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { writeTinyCheckpoint } from '../scripts/tiny-model';

const LOAD_TIMEOUT = 120_000;

let tmp = '';
let goodDir = '';
let badDir = '';

test.beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'pmd-lab-ui-'));
  goodDir = join(tmp, 'tiny-llama');
  badDir = join(tmp, 'broken-llama');
  await writeTinyCheckpoint(goodDir, { family: 'llama', seed: 5 });
  await writeTinyCheckpoint(badDir, { family: 'llama', seed: 5 });
  const weights = join(badDir, 'model.safetensors');
  await truncate(weights, Math.floor((await stat(weights)).size / 2));
});

test.afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** Open the app and fail the test on any uncaught page error. */
async function open(page: Page): Promise<string[]> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/?backend=webgpu');
  await expect(page.getByRole('heading', { name: 'PMD Lab', level: 1 })).toBeVisible();
  await expect(page.getByTestId('backend')).toHaveText('webgpu', { timeout: 60_000 });
  await page.getByRole('tab', { name: 'Chat / Generate' }).click();
  return errors;
}

/** Record every distinct text the output element shows, to see the reply arrive in pieces. */
async function watchOutput(page: Page): Promise<void> {
  await page.evaluate(() => {
    const el = document.querySelector('[data-testid="output"]')!;
    const w = window as unknown as { __outputs: string[] };
    w.__outputs = [];
    new MutationObserver(() => {
      const t = el.textContent ?? '';
      if (t && w.__outputs[w.__outputs.length - 1] !== t) w.__outputs.push(t);
    }).observe(el, { childList: true, subtree: true, characterData: true });
  });
}

/** Click a model source tab (the radio itself is visually hidden behind its label). */
async function pickSource(page: Page, name: string): Promise<void> {
  await page.getByRole('radiogroup', { name: 'Model source' }).getByText(name).click();
  await expect(page.getByRole('radio', { name })).toBeChecked();
}

async function generateTokens(page: Page, prompt: string, maxNewTokens: number): Promise<void> {
  await page.getByTestId('max-new-tokens').fill(String(maxNewTokens));
  await page.getByTestId('stop-at-eos').uncheck();
  await page.getByTestId('prompt').fill(prompt);
  await page.getByTestId('generate').click();
  await expect(page.getByTestId('stats')).toContainText(`${maxNewTokens} tokens`, { timeout: LOAD_TIMEOUT });
  await expect(page.getByTestId('finish')).toHaveText('length');
  await expect(page.getByTestId('output')).not.toBeEmpty();
}

test('engine panel: backend, embedded model, streamed generation, settings kept across a reload', async ({ page }) => {
  const errors = await open(page);
  await expect(page.getByTestId('adapter')).not.toBeEmpty();
  await expect(page.getByTestId('shader-f16')).toHaveText(/^(yes|no)/);
  await expect(page.getByTestId('max-binding')).toHaveText(/iB$/);
  // The choice is explained: WebGPU was forced on a software adapter.
  await expect(page.getByTestId('backend-why')).toContainText('software renderer');
  await expect(page.getByRole('radio', { name: 'WebGPU' })).toBeChecked();

  // The embedded model loads by itself.
  await expect(page.getByTestId('model-family')).toHaveText('qwen3', { timeout: LOAD_TIMEOUT });
  const summary = page.getByTestId('model-summary');
  await expect(summary).toContainText(' (embedded)');
  await expect(summary).toContainText('Chat template');
  await expect(page.getByTestId('load-progress')).toContainText('model.safetensors');
  await expect(page.getByTestId('load-progress')).toHaveAttribute('data-status', 'done');

  // Generate 8 tokens; the reply streams in over several updates.
  await page.getByTestId('seed').fill('7');
  await page.getByTestId('temperature').fill('0.9');
  await page.getByTestId('top-k').fill('40');
  await watchOutput(page);
  await generateTokens(page, 'Hello world', 8);
  const updates = await page.evaluate(() => (window as unknown as { __outputs: string[] }).__outputs);
  expect(updates.length).toBeGreaterThan(1);
  expect(updates[updates.length - 1]).toBe(await page.getByTestId('output').textContent());
  await expect(page.getByTestId('stats')).toContainText('tok/s');
  await expect(page.getByTestId('generate')).toBeEnabled();
  await expect(page.getByTestId('stop')).toBeDisabled();

  // Hub settings are remembered; the token is not.
  await pickSource(page, 'Hugging Face Hub');
  await page.getByTestId('hub-repo').fill('Qwen/Qwen3-0.6B');
  await page.getByTestId('hub-revision').fill('v1.0');
  await page.getByTestId('hub-endpoint').fill('https://hf-mirror.example');
  await page.getByTestId('hub-token').fill('hf_do_not_store_me');

  await page.reload();
  // The backend choice and the open tab are settings too.
  await expect(page.getByTestId('backend')).toHaveText('webgpu', { timeout: 60_000 });
  await expect(page.getByRole('tab', { name: 'Chat / Generate' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('max-new-tokens')).toHaveValue('8');
  await expect(page.getByTestId('seed')).toHaveValue('7');
  await expect(page.getByTestId('temperature')).toHaveValue('0.9');
  await expect(page.getByTestId('top-k')).toHaveValue('40');
  await expect(page.getByTestId('stop-at-eos')).not.toBeChecked();
  await expect(page.getByTestId('prompt')).toHaveValue('Hello world');
  await expect(page.getByRole('radio', { name: 'Hugging Face Hub' })).toBeChecked();
  await expect(page.getByTestId('hub-repo')).toHaveValue('Qwen/Qwen3-0.6B');
  await expect(page.getByTestId('hub-revision')).toHaveValue('v1.0');
  await expect(page.getByTestId('hub-endpoint')).toHaveValue('https://hf-mirror.example');
  await expect(page.getByTestId('hub-token')).toHaveValue('');
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }));
  expect(stored).not.toContain('hf_do_not_store_me');
  // The embedded model was the last one loaded, so it loads again.
  await expect(page.getByTestId('model-family')).toHaveText('qwen3', { timeout: LOAD_TIMEOUT });

  // Stop ends a long generation early.
  await page.getByTestId('max-new-tokens').fill('1000');
  await page.getByTestId('generate').click();
  await expect(page.getByTestId('output')).not.toBeEmpty({ timeout: LOAD_TIMEOUT });
  await page.getByTestId('stop').click();
  await expect(page.getByTestId('finish')).toHaveText('stopped', { timeout: LOAD_TIMEOUT });
  const produced = Number((await page.getByTestId('stats').textContent())?.match(/(\d+) tokens?/)?.[1]);
  expect(produced).toBeGreaterThan(0);
  expect(produced).toBeLessThan(1000);
  expect(errors).toEqual([]);
});

test('local folders: a llama folder loads, a corrupt one is reported and the previous model keeps working', async ({ page }) => {
  const errors = await open(page);
  await expect(page.getByTestId('model-family')).toHaveText('qwen3', { timeout: LOAD_TIMEOUT });

  await pickSource(page, 'Local folder');
  await page.getByTestId('folder-input').setInputFiles(goodDir);
  await expect(page.getByTestId('model-family')).toHaveText('llama', { timeout: LOAD_TIMEOUT });
  await expect(page.getByTestId('model-summary')).toContainText('tiny-llama');
  await expect(page.getByTestId('load-progress')).toContainText('local');
  await expect(page.getByTestId('error')).toHaveCount(0);

  await page.getByTestId('folder-input').setInputFiles(badDir);
  const error = page.getByTestId('error');
  await expect(error).toContainText('model.safetensors', { timeout: LOAD_TIMEOUT });
  await expect(error).toContainText('Model load failed');
  await expect(page.getByTestId('load-progress')).toHaveAttribute('data-status', 'failed');
  await expect(page.getByTestId('load-stage')).toContainText('Failed while');
  await expect(page.getByTestId('model-family')).toHaveText('llama');
  await expect(page.getByTestId('model-summary')).toContainText('tiny-llama');

  // The llama model from before still generates.
  await generateTokens(page, 'The quick brown fox', 8);
  await expect(error).toContainText('model.safetensors');

  await page.screenshot({ path: 'test-results/app.png', fullPage: true });
  expect(errors).toEqual([]);
});

test('after a folder session, a reload explains that folders must be picked again', async ({ page }) => {
  const errors = await open(page);
  await expect(page.getByTestId('model-family')).toHaveText('qwen3', { timeout: LOAD_TIMEOUT });
  await pickSource(page, 'Local folder');
  await page.getByTestId('folder-input').setInputFiles(goodDir);
  await expect(page.getByTestId('model-family')).toHaveText('llama', { timeout: LOAD_TIMEOUT });

  await page.reload();
  await expect(page.getByTestId('backend')).toHaveText('webgpu', { timeout: 60_000 });
  const notice = page.getByTestId('resume');
  await expect(notice).toContainText('tiny-llama');
  await expect(notice).toContainText('cannot be reloaded automatically');
  await expect(page.getByRole('radio', { name: 'Local folder' })).toBeChecked();
  await expect(page.getByTestId('model-summary')).toContainText('No model loaded');
  await expect(page.getByTestId('generate')).toBeDisabled();

  await page.getByTestId('resume-embedded').click();
  await expect(page.getByTestId('model-family')).toHaveText('qwen3', { timeout: LOAD_TIMEOUT });
  await expect(notice).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('the embedded tiny model is served from public/models', async ({ request }) => {
  const res = await request.get('/models/tiny-qwen3/config.json');
  expect(res.ok()).toBe(true);
  const config = (await res.json()) as { model_type?: string };
  expect(config.model_type).toBe('qwen3');
  const weights = await request.head('/models/tiny-qwen3/model.safetensors');
  expect(weights.ok()).toBe(true);
});
