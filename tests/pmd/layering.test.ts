/**
 * The dependency rule of src/pmd, read straight from the source text (dependency-cruiser checks
 * the same in npm test): no onnxruntime, React, idb, nor anything from src/ui, src/worker or
 * src/cli (the engine is reached through its interfaces); Node-only modules only in the Node
 * sandbox files, which nothing else in src/pmd imports (so the browser bundle never pulls them in).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve('src/pmd');
const NODE_ONLY = new Set(['sandbox/node-host.ts', 'sandbox/node-worker-main.ts', 'sandbox/node-worker.mjs']);
const NODE_BUILTINS = /^(node:|fs$|fs\/|path$|os$|child_process$|worker_threads$|module$|crypto$|http$|net$|url$)/;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? files(p) : /\.(ts|mjs)$/.test(f) ? [p] : [];
  });
}

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => m[1] ?? m[2]);
}

describe('src/pmd dependency rule', () => {
  const all = files(ROOT);

  it('imports no UI, worker or CLI code and no onnxruntime, React or idb', () => {
    const bad: string[] = [];
    for (const f of all) {
      for (const spec of imports(f)) {
        const target = spec.startsWith('.') ? path.relative(path.resolve('src'), path.resolve(path.dirname(f), spec)) : '';
        if (/^(onnxruntime|react|idb)/.test(spec) || /^(ui|worker|cli)(\/|$)/.test(target)) bad.push(`${path.relative(ROOT, f)} -> ${spec}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('keeps Node-only modules in the Node sandbox files, which nothing else imports', () => {
    const bad: string[] = [];
    for (const f of all) {
      const rel = path.relative(ROOT, f);
      for (const spec of imports(f)) {
        if (NODE_BUILTINS.test(spec) && !NODE_ONLY.has(rel)) bad.push(`${rel} -> ${spec}`);
        if (/node-(host|worker)/.test(spec) && !NODE_ONLY.has(rel)) bad.push(`${rel} -> ${spec}`);
      }
    }
    expect(bad).toEqual([]);
    expect(all.length).toBeGreaterThan(20);
  });
});
