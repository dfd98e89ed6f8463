/**
 * The app shell loads, and its worker detects the WebGPU backend (SwiftShader in CI).
 */
import { expect, test } from '@playwright/test';

test('shell shows PMD Lab and the detected backend', async ({ page }) => {
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'PMD Lab' })).toBeVisible();
  await expect(page.getByTestId('backend')).toHaveText('webgpu', { timeout: 60_000 });
  expect(pageErrors).toEqual([]);
});
