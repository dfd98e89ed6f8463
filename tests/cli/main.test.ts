/**
 * The command table of main.ts: commands are imported when they run, so the usage text (which
 * needs every command's module) and the errors that print it are checked here.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main';

const COMMANDS = ['logits', 'generate', 'chat', 'grad', 'sft', 'tasks', 'verify', 'run', 'eval'];

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((s: string) => void out.push(s));
  vi.spyOn(console, 'error').mockImplementation((s: string) => void err.push(s));
  return { out, err };
}

afterEach(() => vi.restoreAllMocks());

describe('pmd-lab main', () => {
  it('--help lists every command with its usage, in order', async () => {
    const { out } = capture();
    expect(await main(['--help'])).toBe(0);
    const lines = out.join('\n').split('\n').filter((l) => /^ {2}\S/.test(l));
    expect(lines.map((l) => l.trim().split(/\s+/)[0])).toEqual(COMMANDS);
    expect(out.join('\n')).toMatch(/generate {2}--model <dir> --ids <ids> --max-new-tokens <n>/);
  });

  it('no command prints the usage and exits 2', async () => {
    const { out } = capture();
    expect(await main([])).toBe(2);
    expect(out.join('\n')).toMatch(/^usage: pmd-lab <command>/);
  });

  it('an unknown command, or an inherited property name, is refused with the usage', async () => {
    for (const name of ['frobnicate', 'toString', '__proto__']) {
      const { err } = capture();
      expect(await main([name])).toBe(2);
      expect(err.join('\n')).toContain(`unknown command "${name}"`);
      expect(err.join('\n')).toContain('verify    --tasks');
      vi.restoreAllMocks();
    }
  });

  it("a usage error prints that command's usage", async () => {
    const { err } = capture();
    expect(await main(['generate', '--ids', '1,2'])).toBe(2);
    expect(err.join('\n')).toMatch(/^pmd-lab generate: .*\n\nusage: pmd-lab generate {2}--model <dir>/s);
  });
});
