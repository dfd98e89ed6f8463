/**
 * Generation details of the Engine panel on the embedded model: raw token id prompts, errors
 * from a bad request, and that the reply is plain text (no markup inside the output).
 */
import { expect, test } from '@playwright/test';

test('token id mode, a bad id reported, output kept as plain text', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/');
  await expect(page.getByTestId('model-family')).toHaveText('qwen3', { timeout: 120_000 });

  await page.getByRole('radiogroup', { name: 'Prompt mode' }).getByText('Token ids').click();
  await page.getByTestId('max-new-tokens').fill('5');
  await page.getByTestId('temperature').fill('0');
  await page.getByTestId('stop-at-eos').uncheck();

  // An id outside the vocabulary: the engine's message is shown, nothing runs.
  await page.getByTestId('prompt').fill('1, 2, 99999');
  await page.getByTestId('generate').click();
  await expect(page.getByTestId('error')).toContainText('99999');
  await expect(page.getByTestId('error')).toContainText('Generation failed');

  // Not a number at all: caught before it reaches the worker.
  await page.getByTestId('prompt').fill('1, two');
  await page.getByTestId('generate').click();
  await expect(page.getByTestId('error')).toContainText('"two"');

  // Valid ids: five greedy tokens, shown as ids; the error from before is gone.
  await page.getByTestId('prompt').fill('1, 2, 3');
  await page.getByTestId('generate').click();
  await expect(page.getByTestId('stats')).toContainText('5 tokens', { timeout: 120_000 });
  await expect(page.getByTestId('error')).toHaveCount(0);
  const ids = (await page.getByTestId('output').textContent())!.trim().split(/\s+/).map(Number);
  expect(ids).toHaveLength(5);
  for (const id of ids) expect(Number.isInteger(id) && id >= 0 && id < 384).toBe(true);

  // Greedy decoding is deterministic: the same prompt gives the same ids.
  await page.getByTestId('generate').click();
  await expect(page.getByTestId('stats')).toContainText('5 tokens', { timeout: 120_000 });
  await expect(page.getByTestId('output')).toHaveText(ids.join(' '));

  // Chat mode: whatever the model writes stays text inside the output element.
  await page.getByRole('radiogroup', { name: 'Prompt mode' }).getByText('Chat').click();
  await page.getByTestId('prompt').fill('<b>hello</b> <img src=x onerror="window.__pwned=1">');
  await page.getByTestId('generate').click();
  await expect(page.getByTestId('stats')).toContainText('5 tokens', { timeout: 120_000 });
  await expect(page.getByTestId('output').locator('*')).toHaveCount(0);
  expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  expect(errors).toEqual([]);
});
