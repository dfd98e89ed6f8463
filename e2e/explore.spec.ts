import { test } from '@playwright/test';
test('explore', async ({ page }) => {
  page.on('console', (m) => console.log('[console]', m.type(), m.text().slice(0, 400)));
  page.on('pageerror', (e) => console.log('[pageerror]', e.message));
  page.on('response', (r) => { if (r.status() >= 400) console.log('[http]', r.status(), r.url()); });
  await page.goto('/e2e/pages/smoke.html');
  await page.waitForFunction(() => !!(window as any).__smoke, null, { timeout: 170_000 });
  const res = await page.evaluate(() => (window as any).__smoke);
  console.log(JSON.stringify(res, (k, v) => (k === 'inputs' || k === 'outputs' ? undefined : v), 1));
});
