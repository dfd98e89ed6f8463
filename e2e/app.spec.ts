/**
 * The app shell loads, and its worker detects the WebGPU backend (SwiftShader in CI).
 */
import { existsSync } from 'node:fs';
import { expect, test } from '@playwright/test';

test('shell shows PMD Lab and the detected backend', async ({ page }) => {
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'PMD Lab' })).toBeVisible();
  await expect(page.getByTestId('backend')).toHaveText('webgpu', { timeout: 60_000 });
  expect(pageErrors).toEqual([]);
});

test('the embedded tiny model is served from public/models', async ({ request }) => {
  test.skip(!existsSync(new URL('../scripts/tiny-model.ts', import.meta.url)), 'no tiny-model generator in this checkout');
  const res = await request.get('/models/tiny-qwen3/config.json');
  expect(res.ok()).toBe(true);
  const config = (await res.json()) as { model_type?: string };
  expect(config.model_type).toBe('qwen3');
  const weights = await request.head('/models/tiny-qwen3/model.safetensors');
  expect(weights.ok()).toBe(true);
});
