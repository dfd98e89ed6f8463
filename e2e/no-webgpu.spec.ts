/**
 * Runs in the 'no-webgpu' project (Chromium without the WebGPU flags, so requestAdapter()
 * returns null): the worker must fall back to the wasm backend and say why.
 */
import { expect, test } from '@playwright/test';

test('without a WebGPU adapter the shell falls back to wasm', async ({ page }) => {
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto('/');
  await expect(page.getByTestId('backend')).toHaveText('wasm', { timeout: 60_000 });
  await expect(page.getByText(/Fallback reason: .*WebGPU/)).toBeVisible();
  expect(pageErrors).toEqual([]);
});
