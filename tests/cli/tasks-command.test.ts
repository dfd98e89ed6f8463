import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseTaskSuite } from '../../src/pmd/tasks/validate';
import { runCli } from './run-cli';

const FIXTURES = path.resolve('tests/pmd/tasks/fixtures');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pmd-tasks-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('pmd-lab tasks import', () => {
  it.each([
    ['gsm8k', 'gsm8k.jsonl', 4, 0],
    ['sciknoweval', 'sciknoweval.jsonl', 4, 3],
    ['mbpp', 'mbpp.jsonl', 3, 0],
    ['livecodebench', 'livecodebench.jsonl', 3, 0],
  ])('%s: writes valid task JSONL and prints the counts', async (format, file, imported, skipped) => {
    const out = path.join(dir, `${format}.jsonl`);
    const r = await runCli(['tasks', 'import', '--format', format, '--in', path.join(FIXTURES, file), '--out', out, '--split', 'test']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^imported ${imported} tasks? into .*; skipped ${skipped}`));
    const suite = parseTaskSuite(await readFile(out, 'utf8'));
    expect(suite.problems).toEqual([]);
    expect(suite.tasks).toHaveLength(imported);
    expect(suite.tasks.every((t) => t.split === 'test')).toBe(true);
  });

  it('says why rows were skipped', async () => {
    const r = await runCli(['tasks', 'import', '--format', 'sciknoweval', '--in', path.join(FIXTURES, 'sciknoweval.jsonl'), '--out', path.join(dir, 's.jsonl')]);
    expect(r.stdout).toContain('skipped 3 (1 × type "open-ended-qa" has no exact answer to check; 1 × type "filling"');
  });

  it('malformed rows: an error naming file, line and field; nothing written', async () => {
    const bad = path.join(dir, 'bad-gsm8k.jsonl');
    await writeFile(bad, '{"question": "q", "answer": "#### 3"}\n{"question": "q", "answer": "no number"}\n');
    const out = path.join(dir, 'never.jsonl');
    const r = await runCli(['tasks', 'import', '--format', 'gsm8k', '--in', bad, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${bad} line 2, answer: the last line must be "#### <number>", got "no number"`);
    expect((await readdir(dir)).filter((f) => f.includes('never'))).toEqual([]);
  });

  it('checks flags and the output path before reading anything', async () => {
    const input = path.join(dir, 'in.jsonl');
    await copyFile(path.join(FIXTURES, 'gsm8k.jsonl'), input);
    const cases: [string[], RegExp][] = [
      [['tasks', 'import', '--format', 'csv', '--in', input, '--out', path.join(dir, 'o.jsonl')], /--format must be one of gsm8k\|sciknoweval\|mbpp\|livecodebench, got "csv"/],
      [['tasks', 'import', '--format', 'gsm8k', '--in', input, '--out', path.join(dir, 'o.jsonl'), '--split', 'dev'], /--split must be train or test/],
      [['tasks', 'import', '--format', 'gsm8k', '--in', input, '--out', path.join(dir, 'missing', 'o.jsonl')], /--out .*: the folder .*missing does not exist/],
      [['tasks', 'import', '--format', 'gsm8k', '--in', input, '--out', dir], /--out .*: is a folder/],
      [['tasks', 'import', '--format', 'gsm8k', '--in', input, '--out', input], /--out .*: is also an input file/],
      [['tasks', 'import', '--format', 'gsm8k', '--in', path.join(dir, 'nope.jsonl'), '--out', path.join(dir, 'o.jsonl')], /--in .*nope\.jsonl: cannot read it \(ENOENT\)/],
      [['tasks', 'export'], /tasks: unknown subcommand "export"/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr).toMatch(message);
    }
    expect(await readFile(input, 'utf8')).toBe(await readFile(path.join(FIXTURES, 'gsm8k.jsonl'), 'utf8'));
  });
});
