/**
 * The import rules of .dependency-cruiser.cjs (ui -> worker protocol -> pmd -> engine, util
 * below everything): the real tree obeys them, and a tree with a wrong import fails them, so
 * the check that runs in `npm test` (npm run lint:deps) can actually fail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cruise } from 'dependency-cruiser';

const rules = createRequire(import.meta.url)('../../.dependency-cruiser.cjs') as { forbidden: unknown[]; options: Record<string, unknown> };

async function violations(baseDir: string): Promise<{ rule: string; from: string; to: string }[]> {
  const cwd = process.cwd();
  process.chdir(baseDir);
  try {
    const r = await cruise(['src'], { ...rules.options, validate: true, ruleSet: { forbidden: rules.forbidden } } as never);
    const out = r.output as { summary: { violations: { rule: { name: string }; from: string; to: string }[] } };
    return out.summary.violations.map((v) => ({ rule: v.rule.name, from: v.from, to: v.to }));
  } finally {
    process.chdir(cwd);
  }
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pmd-deps-'));
  const files: Record<string, string> = {
    'src/engine/a.ts': "import { b } from '../pmd/b';\nexport const a = b;\n",
    'src/pmd/b.ts': "import { c } from '../ui/c';\nexport const b = c;\n",
    'src/ui/c.ts': "import { d } from '../engine/d';\nexport const c = d;\n",
    'src/engine/d.ts': 'export const d = 1;\n',
    'src/util/e.ts': "import { d } from '../engine/d';\nexport const e = d;\n",
  };
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text);
  }
  await writeFile(path.join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'ESNext', moduleResolution: 'Bundler' }, include: ['src'] }));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('dependency rules', () => {
  it('the project obeys them', async () => {
    expect(await violations(process.cwd())).toEqual([]);
  });

  it('wrong imports fail them, each with the rule it breaks', async () => {
    const v = await violations(dir);
    const rulesHit = v.map((x) => `${x.rule}: ${x.from} -> ${x.to}`).sort();
    expect(rulesHit).toContain('engine-stays-below: src/engine/a.ts -> src/pmd/b.ts');
    expect(rulesHit).toContain('pmd-is-portable: src/pmd/b.ts -> src/ui/c.ts');
    expect(rulesHit).toContain('ui-through-the-protocol: src/ui/c.ts -> src/engine/d.ts');
    expect(rulesHit).toContain('util-imports-nothing-of-ours: src/util/e.ts -> src/engine/d.ts');
  });
});
