/**
 * End-to-end tests in headless Chromium with WebGPU on SwiftShader (a CPU Vulkan driver), so
 * they run on machines without a GPU. Uses the system Chromium (Debian package `chromium`);
 * Playwright's own browser downloads are never used. `npm run test:e2e` prepares public/ort
 * first. See DEVELOPERS.md for the flags.
 */
import { defineConfig } from '@playwright/test';
import { BASE_ARGS, CHROMIUM, WEBGPU_ARGS } from './e2e/chromium';

const PORT = 5179;
const isCI = !!process.env.CI;

export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: isCI,
  reporter: 'list',
  // SwiftShader compiles every WebGPU shader on the CPU: keep generous limits.
  timeout: 180_000,
  expect: { timeout: 30_000 },
  use: {
    baseURL: `http://127.0.0.1:${PORT}`,
    browserName: 'chromium',
    headless: true,
    trace: 'off',
    video: 'off',
    screenshot: 'off',
  },
  projects: [
    {
      name: 'webgpu-swiftshader',
      testIgnore: '**/no-webgpu.spec.ts',
      use: { launchOptions: { executablePath: CHROMIUM, args: [...WEBGPU_ARGS, ...BASE_ARGS] } },
    },
    {
      // Same browser without the WebGPU flags: no adapter, so the app must fall back to wasm.
      name: 'no-webgpu',
      testMatch: '**/no-webgpu.spec.ts',
      use: { launchOptions: { executablePath: CHROMIUM, args: BASE_ARGS } },
    },
  ],
  webServer: {
    command: `npx vite --port ${PORT} --strictPort --host 127.0.0.1`,
    url: `http://127.0.0.1:${PORT}/`,
    reuseExistingServer: !isCI,
    timeout: 120_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
