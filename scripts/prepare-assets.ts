/**
 * Prepares the static assets the browser app needs (run by `npm run assets`, and before
 * `npm start`, `npm run build` and `npm run test:e2e`). Safe to run repeatedly: it only
 * writes what is missing or outdated.
 *
 * 1. public/ort/: the onnxruntime-web runtime files. The app imports `onnxruntime-web/webgpu`,
 *    whose JS loads `ort-wasm-simd-threaded.asyncify.mjs` + `.wasm` (the build with the native
 *    WebGPU execution provider; the plain "wasm" EP of that entry runs from the same binary).
 * 2. public/pyodide/ and public/quickjs/: the code sandbox's interpreters (src/pmd/sandbox/), served
 *    by the app itself so the browser never fetches them from a CDN: Pyodide's core (loader,
 *    wasm, standard library, lock file) and QuickJS's wasm.
 * 3. public/models/tiny-qwen3/: the embedded default model, written by scripts/tiny-model.ts
 *    when that generator exists. A stamp file records a hash of the generator sources and
 *    options so the checkpoint is rebuilt only when they change.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ortDist = join(root, 'node_modules', 'onnxruntime-web', 'dist');
const ortOut = join(root, 'public', 'ort');

/** The runtime pair loaded by the `onnxruntime-web/webgpu` entry in onnxruntime-web 1.30. */
const ORT_RUNTIME_FILES = ['ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm'];

/** Pyodide's core files: the loader, the runtime glue and wasm, the standard library, the lock file. */
const PYODIDE_FILES = ['pyodide.mjs', 'pyodide.asm.mjs', 'pyodide.asm.wasm', 'python_stdlib.zip', 'pyodide-lock.json'];
const QUICKJS_FILES = ['emscripten-module.wasm'];

const TINY_MODEL_DIR = join(root, 'public', 'models', 'tiny-qwen3');
const TINY_MODEL_OPTS = { family: 'qwen3', seed: 1 } as const;
const STAMP_FILE = '.stamp.json';

function log(msg: string): void {
  console.log(`[assets] ${msg}`);
}

/** Copy src to dst unless dst already has the same size and modification time. */
function syncFile(src: string, dst: string): boolean {
  const s = statSync(src);
  if (existsSync(dst)) {
    const d = statSync(dst);
    if (d.size === s.size && Math.abs(d.mtimeMs - s.mtimeMs) < 2) return false;
  }
  copyFileSync(src, dst);
  utimesSync(dst, s.atime, s.mtime);
  return true;
}

/**
 * Make `outDir` hold exactly `files` from `srcDir` (copied when size or mtime differ; files from
 * other versions removed). Returns how many were copied.
 */
function syncFolder(srcDir: string, files: readonly string[], outDir: string, pkg: string): number {
  if (!existsSync(srcDir)) throw new Error(`${pkg} is not installed (${srcDir} missing): run npm ci first`);
  mkdirSync(outDir, { recursive: true });
  let copied = 0;
  for (const f of files) {
    const src = join(srcDir, f);
    if (!existsSync(src)) throw new Error(`${pkg} has no ${f}; its file names changed, update the list in scripts/prepare-assets.ts`);
    if (syncFile(src, join(outDir, f))) copied++;
  }
  for (const f of readdirSync(outDir)) {
    if (!files.includes(f)) rmSync(join(outDir, f), { force: true, recursive: true });
  }
  return copied;
}

function packageVersion(dir: string): string {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version;
}

function prepareOrt(): void {
  const copied = syncFolder(ortDist, ORT_RUNTIME_FILES, ortOut, 'onnxruntime-web');
  log(`public/ort: onnxruntime-web ${packageVersion(join(root, 'node_modules', 'onnxruntime-web'))}, ${copied ? `copied ${copied} file(s)` : 'up to date'}`);
}

function prepareSandbox(): void {
  const require = createRequire(join(root, 'package.json'));
  const pyodideDir = dirname(require.resolve('pyodide/package.json'));
  const pyCopied = syncFolder(pyodideDir, PYODIDE_FILES, join(root, 'public', 'pyodide'), 'pyodide');
  log(`public/pyodide: pyodide ${packageVersion(pyodideDir)}, ${pyCopied ? `copied ${pyCopied} file(s)` : 'up to date'}`);
  const quickjsWasm = createRequire(require.resolve('quickjs-emscripten')).resolve('@jitl/quickjs-wasmfile-release-sync/wasm');
  const qjsCopied = syncFolder(dirname(quickjsWasm), QUICKJS_FILES, join(root, 'public', 'quickjs'), 'quickjs-emscripten');
  log(`public/quickjs: quickjs-emscripten ${packageVersion(dirname(require.resolve('quickjs-emscripten/package.json')))}, ${qjsCopied ? `copied ${qjsCopied} file(s)` : 'up to date'}`);
}

/** The generator file plus every local module it imports (relative specifiers), transitively. */
function sourceClosure(entry: string): string[] {
  const seen = new Set<string>();
  const stack = [entry];
  const importRe = /(?:import|export)\s[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;
  while (stack.length) {
    const file = stack.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(importRe)) {
      const spec = m[1] ?? m[2];
      const base = resolve(dirname(file), spec);
      const candidates = [base, `${base}.ts`, `${base}.tsx`, join(base, 'index.ts')];
      const hit = candidates.find((c) => existsSync(c) && statSync(c).isFile());
      if (hit) stack.push(hit);
    }
  }
  return [...seen].sort();
}

function generatorHash(files: string[]): string {
  const h = createHash('sha256');
  h.update(JSON.stringify(TINY_MODEL_OPTS));
  for (const f of files) {
    h.update(f.slice(root.length));
    h.update('\0');
    h.update(readFileSync(f));
    h.update('\0');
  }
  return h.digest('hex');
}

async function prepareTinyModel(): Promise<void> {
  const generator = join(root, 'scripts', 'tiny-model.ts');
  if (!existsSync(generator)) {
    log('scripts/tiny-model.ts not found: skipping the embedded tiny model');
    return;
  }
  const hash = generatorHash(sourceClosure(generator));
  const stampPath = join(TINY_MODEL_DIR, STAMP_FILE);
  if (existsSync(stampPath)) {
    try {
      const stamp = JSON.parse(readFileSync(stampPath, 'utf8')) as { hash?: string };
      if (stamp.hash === hash) {
        log('public/models/tiny-qwen3: up to date');
        return;
      }
    } catch {
      // unreadable stamp: rebuild
    }
  }
  const mod = (await import(pathToFileURL(generator).href)) as {
    writeTinyCheckpoint?: (dir: string, opts: typeof TINY_MODEL_OPTS) => unknown;
  };
  if (typeof mod.writeTinyCheckpoint !== 'function') {
    log('scripts/tiny-model.ts does not export writeTinyCheckpoint(dir, opts): skipping the embedded tiny model');
    return;
  }
  const t0 = Date.now();
  rmSync(TINY_MODEL_DIR, { recursive: true, force: true });
  mkdirSync(TINY_MODEL_DIR, { recursive: true });
  await mod.writeTinyCheckpoint(TINY_MODEL_DIR, TINY_MODEL_OPTS);
  writeFileSync(stampPath, JSON.stringify({ hash, opts: TINY_MODEL_OPTS, writtenAt: new Date().toISOString() }, null, 2) + '\n');
  log(`public/models/tiny-qwen3: written in ${Date.now() - t0} ms`);
}

async function main(): Promise<void> {
  prepareOrt();
  prepareSandbox();
  await prepareTinyModel();
}

main().catch((err) => {
  console.error(`[assets] failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  process.exit(1);
});
