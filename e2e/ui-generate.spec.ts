/**
 * Generation details of the Chat / Generate tab on the embedded model: raw token id prompts,
 * errors from a bad request (gone as soon as the input is fixed), number fields that show
 * their range and problem instead of silently reverting, and that the reply is plain text (no
 * markup inside the output).
 */
import { expect, test } from '@playwright/test';
import { EMBEDDED_VOCAB } from './helpers/embedded';

test('token id mode, a bad id reported, output kept as plain text', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/?backend=webgpu');
  await expect(page.getByTestId('model-family')).toHaveText('qwen3', { timeout: 120_000 });
  await page.getByRole('tab', { name: 'Chat / Generate' }).click();

  // An invalid number stays in its field with the valid range and holds Generate back until fixed.
  await page.getByTestId('top-p').fill('1.5');
  const field = page.getByTestId('top-p').locator('..');
  await expect(field.getByRole('alert')).toContainText('out of range: enter a number above 0 to 1');
  await expect(page.getByTestId('top-p')).toHaveValue('1.5');
  await page.getByTestId('top-p').blur();
  await expect(page.getByTestId('top-p')).toHaveValue('1.5');
  await expect(page.getByTestId('generate')).toBeDisabled();
  await page.getByTestId('top-p').fill('0.9');
  await expect(field.getByRole('alert')).toHaveCount(0);

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
  // Editing the input makes the old error go away at once.
  await page.getByTestId('prompt').fill('1, 2');
  await expect(page.getByTestId('error')).toHaveCount(0);

  // Valid ids: five greedy tokens, shown as ids; the error from before is gone.
  await page.getByTestId('prompt').fill('1, 2, 3');
  await page.getByTestId('generate').click();
  await expect(page.getByTestId('stats')).toContainText('5 tokens', { timeout: 120_000 });
  await expect(page.getByTestId('error')).toHaveCount(0);
  const ids = (await page.getByTestId('output').textContent())!.trim().split(/\s+/).map(Number);
  expect(ids).toHaveLength(5);
  for (const id of ids) expect(Number.isInteger(id) && id >= 0 && id < EMBEDDED_VOCAB, `id ${id} in a vocabulary of ${EMBEDDED_VOCAB}`).toBe(true);

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
