/**
 * Vite config for the PMD Lab browser app.
 *
 * - onnxruntime-web is resolved with the `onnxruntime-web-use-extern-wasm` export condition, so
 *   `onnxruntime-web/webgpu` maps to dist/ort.webgpu.min.mjs (no embedded copy of the wasm glue
 *   and no 26 MB .wasm asset pulled into the bundle). The runtime files are served from
 *   public/ort/ (written by `npm run assets`) and found through `env.wasm.wasmPaths`.
 * - onnxruntime-web is excluded from dependency pre-bundling: it is already an ES module and
 *   pre-bundling would only rewrite its import.meta.url based lookups.
 * - The embedded world (public/world/, built by `npm run build:world`): whether it is there and
 *   its run settings are read here, once, and handed to the app as the constant __PMD_WORLD__
 *   (null without a world), so the page never probes a missing URL and never imports a file of
 *   public/ as a module (Vite warns about that).
 * - Cross-origin isolation (COOP same-origin + COEP credentialless) in the dev server and the
 *   preview, and as a `_headers` file in the build for static hosts that read one (Netlify,
 *   Cloudflare Pages; elsewhere the host must send the two headers): the page gets
 *   SharedArrayBuffer, so ORT's wasm backend runs on several threads and the code sandbox can
 *   interrupt Python. `credentialless` rather than `require-corp`: cross-origin requests
 *   without credentials (the Hub's model files) need no Cross-Origin-Resource-Policy header.
 * - Test-only pages (e2e/pages/*.html) are served by the dev server but are not build inputs,
 *   so they stay out of the production bundle.
 */
import { defineConfig, defaultClientConditions, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { existsSync, readFileSync } from 'node:fs';

function embeddedWorld(): { run: Record<string, unknown> } | null {
  if (!existsSync('public/world/model/config.json')) return null;
  if (!existsSync('public/world/run.json')) return { run: {} };
  let run: unknown;
  try {
    run = JSON.parse(readFileSync('public/world/run.json', 'utf8'));
  } catch (err) {
    throw new Error(`public/world/run.json is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof run !== 'object' || run === null || Array.isArray(run)) throw new Error('public/world/run.json must hold one JSON object (a partial run config)');
  return { run: run as Record<string, unknown> };
}

const CROSS_ORIGIN_ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'credentialless',
};

/** dist/_headers: the isolation headers for every path, in the format static hosts read. */
function isolationHeadersFile(): Plugin {
  return {
    name: 'cross-origin-isolation-headers',
    apply: 'build',
    generateBundle() {
      const lines = ['/*', ...Object.entries(CROSS_ORIGIN_ISOLATION).map(([k, v]) => `  ${k}: ${v}`), ''];
      this.emitFile({ type: 'asset', fileName: '_headers', source: lines.join('\n') });
    },
  };
}

export default defineConfig({
  plugins: [react(), isolationHeadersFile()],
  define: {
    __PMD_WORLD__: JSON.stringify(embeddedWorld()),
  },
  resolve: {
    conditions: ['onnxruntime-web-use-extern-wasm', ...defaultClientConditions],
  },
  worker: {
    format: 'es',
  },
  optimizeDeps: {
    exclude: ['onnxruntime-web'],
    // Scan every page (test pages included) and pre-bundle what workers import, so the dev
    // server never discovers a dependency mid-session and reloads the page under a test.
    entries: ['index.html', 'e2e/pages/*.html', 'src/**/*.worker.ts'],
    include: ['@huggingface/transformers', 'react', 'react-dom', 'react-dom/client', 'zustand', 'zustand/middleware', 'idb'],
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    headers: CROSS_ORIGIN_ISOLATION,
  },
  preview: {
    host: '127.0.0.1',
    headers: CROSS_ORIGIN_ISOLATION,
  },
  build: {
    target: 'es2022',
    sourcemap: true,
  },
});
