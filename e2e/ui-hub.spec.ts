/**
 * The Hub source in the Engine panel, against a stand-in Hub: requests to http://hub.test are
 * answered by Playwright from the embedded model's folder the way the Hub answers
 * (`<repo>/resolve/<revision>/<file>`, x-error-code on misses). Checks byte progress, the
 * browser cache on a second load, that the token goes out as a header but is never stored,
 * readable errors for a missing repo, and the one-click reload offered after a page reload.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test, type BrowserContext, type Page } from '@playwright/test';
import { EMBEDDED_LABEL } from './helpers/embedded';

const ENDPOINT = 'http://hub.test';
const REPO = 'test-org/tiny-qwen3';
const FOLDER = join(process.cwd(), 'public/models/tiny-qwen3');
const LOAD_TIMEOUT = 120_000;

interface Seen {
  method: string;
  path: string;
  auth: string | null;
}

async function fakeHub(context: BrowserContext): Promise<Seen[]> {
  const seen: Seen[] = [];
  await context.route(`${ENDPOINT}/**`, async (route) => {
    const req = route.request();
    const url = new URL(req.url());
    const cors = {
      'access-control-allow-origin': '*',
      'access-control-allow-headers': 'authorization',
      'access-control-expose-headers': 'x-repo-commit, x-error-code, x-error-message, x-linked-size, content-length, etag',
    };
    if (req.method() === 'OPTIONS') return route.fulfill({ status: 204, headers: cors });
    seen.push({ method: req.method(), path: url.pathname, auth: (await req.allHeaders()).authorization ?? null });
    const m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (!m || m[1] !== REPO) {
      return route.fulfill({ status: 401, headers: { ...cors, 'x-error-code': 'RepoNotFound', 'x-error-message': 'Repository not found' }, body: '' });
    }
    const file = decodeURIComponent(m[3]!);
    let body: Buffer;
    try {
      body = await readFile(join(FOLDER, file));
    } catch {
      return route.fulfill({ status: 404, headers: { ...cors, 'x-error-code': 'EntryNotFound', 'x-error-message': 'Entry not found' }, body: '' });
    }
    const headers = { ...cors, 'content-type': 'application/octet-stream', 'content-length': String(body.length), 'x-repo-commit': 'a'.repeat(40) };
    return route.fulfill({ status: 200, headers, body: req.method() === 'HEAD' ? '' : body });
  });
  return seen;
}

async function openApp(page: Page): Promise<string[]> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/?backend=webgpu');
  await expect(page.getByTestId('backend')).toHaveText('webgpu', { timeout: 60_000 });
  await expect(page.getByTestId('model-family')).toHaveText('qwen3', { timeout: LOAD_TIMEOUT });
  await page.getByRole('radiogroup', { name: 'Model source' }).getByText('Hugging Face Hub').click();
  return errors;
}

test('Hub source: progress, cache, token handling, errors and reload offer', async ({ page, context }) => {
  const seen = await fakeHub(context);
  const errors = await openApp(page);

  // A repo the Hub does not know: the error says so and the embedded model stays.
  await page.getByTestId('hub-endpoint').fill(ENDPOINT);
  await page.getByTestId('hub-repo').fill('test-org/missing');
  await page.getByTestId('load-hub').click();
  await expect(page.getByTestId('error')).toContainText('test-org/missing', { timeout: LOAD_TIMEOUT });
  await expect(page.getByTestId('model-summary')).toContainText(EMBEDDED_LABEL);

  // The real one, with a token: bytes and totals per file, token sent as a bearer header.
  await page.getByTestId('hub-repo').fill(REPO);
  await page.getByTestId('hub-token').fill('hf_test_token');
  await page.getByTestId('load-hub').click();
  await expect(page.getByTestId('load-progress')).toHaveAttribute('data-status', 'done', { timeout: LOAD_TIMEOUT });
  await expect(page.getByTestId('error')).toHaveCount(0);
  await expect(page.getByTestId('model-summary')).toContainText(REPO);
  const progress = page.getByTestId('load-progress');
  const size = (await readFile(join(FOLDER, 'model.safetensors'))).length;
  await expect(progress.locator('li', { hasText: 'model.safetensors' })).toContainText('/');
  await expect(progress.locator('li', { hasText: 'model.safetensors' })).toContainText(`${(size / 1024).toFixed(0)} KiB`);
  await expect(progress).toContainText('downloaded');
  expect(seen.some((s) => s.auth === 'Bearer hf_test_token')).toBe(true);

  // A second load reads the files back from the browser cache.
  const before = seen.filter((s) => s.method === 'GET').length;
  await page.getByTestId('load-hub').click();
  await expect(progress).toHaveAttribute('data-status', 'done', { timeout: LOAD_TIMEOUT });
  await expect(progress.locator('li', { hasText: 'model.safetensors' })).toContainText('from cache');
  expect(seen.filter((s) => s.method === 'GET' && s.path.endsWith('model.safetensors')).length).toBe(1);
  expect(seen.filter((s) => s.method === 'GET').length).toBe(before);

  // After a reload nothing loads by itself; one click brings the Hub model back.
  expect(await page.evaluate(() => JSON.stringify({ ...localStorage }))).not.toContain('hf_test_token');
  await page.reload();
  await expect(page.getByTestId('backend')).toHaveText('webgpu', { timeout: 60_000 });
  const notice = page.getByTestId('resume');
  await expect(notice).toContainText(REPO);
  await expect(page.getByTestId('hub-token')).toHaveValue('');
  await expect(page.getByTestId('model-summary')).toContainText('No model loaded');
  await page.getByTestId('resume-hub').click();
  await expect(page.getByTestId('model-summary')).toContainText(REPO, { timeout: LOAD_TIMEOUT });
  await expect(page.getByTestId('model-family')).toHaveText('qwen3');
  await expect(notice).toHaveCount(0);
  expect(errors).toEqual([]);
});
