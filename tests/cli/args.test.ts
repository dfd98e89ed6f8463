import { describe, expect, it } from 'vitest';
import { Args, UsageError } from '../../src/cli/args';

describe('Args', () => {
  it('reads flags with values, boolean flags and --name=value', () => {
    const a = new Args(['--model', 'm', '--stop-at-eos', '--seed=3'], ['stop-at-eos']);
    expect(a.string('model')).toBe('m');
    expect(a.has('stop-at-eos')).toBe(true);
    expect(a.integer('seed', 0)).toBe(3);
    a.rejectUnknown();
  });

  it('refuses a value given to a flag that takes none, so --constant-weights=no cannot turn it on', () => {
    expect(() => new Args(['--constant-weights=no'], ['constant-weights'])).toThrow(new UsageError('--constant-weights takes no value (got "--constant-weights=no")'));
  });

  it('refuses an argument the command did not read (a value after a boolean flag)', () => {
    const a = new Args(['--constant-weights', 'yes', '--out', 'x'], ['constant-weights']);
    expect(a.has('constant-weights')).toBe(true);
    a.string('out');
    expect(() => a.rejectUnknown()).toThrow(new UsageError('unexpected argument "yes"'));
  });

  it('lets a command that reads its arguments take them', () => {
    const a = new Args(['--seed', '1', 'Hello', 'there']);
    a.integer('seed', 0);
    expect(a.positional.join(' ')).toBe('Hello there');
    a.rejectUnknown();
  });

  it('still names unknown options first', () => {
    const a = new Args(['--typo', '1', 'stray']);
    expect(() => a.rejectUnknown()).toThrow(new UsageError('unknown option: --typo'));
  });
});
