import { describe, expect, it } from 'vitest';
import { importTasks } from '../../../src/pmd/tasks/importers';
import { LIVECODEBENCH_SETUP } from '../../../src/pmd/tasks/livecodebench';
import { PickleError, unpickleString } from '../../../src/pmd/tasks/python-pickle';
import { fixture } from './fixtures';

const hex = (s: string) => Uint8Array.from(s.match(/../g)!, (b) => parseInt(b, 16));

describe('LiveCodeBench import', () => {
  it('public tests train, private tests (compressed or plain JSON) are held out, and the split is recorded', () => {
    const { tasks, skipped, problems } = importTasks('livecodebench', fixture('livecodebench.jsonl'), { split: 'test' });
    expect(problems).toEqual([]);
    expect(skipped).toEqual([]);
    expect(tasks.map((t) => t.id)).toEqual(['livecodebench-abc000_a', 'livecodebench-3001', 'livecodebench-3002']);
    expect(tasks[0]).toEqual({
      id: 'livecodebench-abc000_a',
      split: 'test',
      domain: 'code',
      problem: expect.stringMatching(/^You are given an integer N/),
      answer: {
        kind: 'code',
        language: 'python',
        setup: LIVECODEBENCH_SETUP,
        tests: [
          { kind: 'io', input: '21\n', output: '42\n' },
          { kind: 'io', input: '-5\n', output: '-10\n' },
          { kind: 'io', input: '0\n', output: '0\n', split: 'heldout' },
          { kind: 'io', input: '1000000000\n', output: '2000000000\n', split: 'heldout' },
          { kind: 'io', input: '7\n', output: '14\n', split: 'heldout' },
        ],
      },
      source: { format: 'livecodebench', id: 'abc000_a', test_split: { train: 'public_test_cases', heldout: 'private_test_cases' } },
      meta: { title: 'Double It', platform: 'atcoder', difficulty: 'easy', contest_id: 'abc000', contest_date: '2024-01-06T00:00:00' },
    });
    expect(tasks[1].answer).toEqual({
      kind: 'code',
      language: 'python',
      setup: LIVECODEBENCH_SETUP,
      starter: 'class Solution:\n    def largestPairSum(self, nums: List[int]) -> int:\n        ',
      entry_point: 'largestPairSum',
      class_name: 'Solution',
      tests: [
        { kind: 'call', args: [[1, 5, 3]], expected: 8 },
        { kind: 'call', args: [[-4, -2]], expected: -6, split: 'heldout' },
        { kind: 'call', args: [[7, 7, 1]], expected: 14, split: 'heldout' },
      ],
    });
    expect(tasks[2].answer).toMatchObject({
      entry_point: 'splitWords',
      tests: [
        { kind: 'call', args: ['a,b,,c', ','], expected: ['a', 'b', 'c'] },
        { kind: 'call', args: ['..', '.'], expected: [], split: 'heldout' },
      ],
    });
  });

  it('reports rows that do not decode, naming the field', () => {
    const row = JSON.parse(fixture('livecodebench.jsonl').split('\n')[1]);
    const text = [
      JSON.stringify({ ...row, private_test_cases: 'bm90IHpsaWI=' }),
      JSON.stringify({ ...row, public_test_cases: '[{"input": "[1", "output": "8", "testtype": "functional"}]' }),
      JSON.stringify({ ...row, public_test_cases: '[{"input": "1", "output": "8", "testtype": "stdout"}]' }),
      JSON.stringify({ ...row, metadata: '{}', starter_code: '' }),
      JSON.stringify({ ...row, public_test_cases: '[]' }),
    ].join('\n');
    const { tasks, skipped, problems } = importTasks('livecodebench', text);
    expect(tasks).toEqual([]);
    expect(skipped).toEqual([{ line: 5, reason: 'no public tests to train on' }]);
    expect(problems.map((p) => `${p.line} ${p.field}: ${p.message}`)).toEqual([
      expect.stringMatching(/^1 private_test_cases: is neither JSON nor base64 of zlib of a pickled JSON string/),
      `2 public_test_cases[0].input: line 1 of a functional test's input is not JSON: "[1"`,
      expect.stringMatching(/^3 public_test_cases\[0\]: must be \{"input": string, "output": string, "testtype": "stdin" \| "functional"\}/),
      expect.stringMatching(/^4 metadata: has no "func_name" and the starter code has no method of class Solution/),
    ]);
  });
});

describe('pickled str reader', () => {
  it('reads the protocols Python writes (bytes made with python3 pickle.dumps)', () => {
    expect(unpickleString(hex('5668e96c6c6f205c75323061630a70300a2e'))).toBe('héllo €'); // protocol 0
    expect(unpickleString(hex('80025802000000616271002e'))).toBe('ab'); // protocol 2, BINUNICODE
    expect(unpickleString(hex('80059507000000000000008c035b315d942e'))).toBe('[1]'); // protocol 5, FRAME + SHORT_BINUNICODE
  });

  it('refuses anything but a str, and truncated data', () => {
    expect(() => unpickleString(hex('80049506000000000000005d944b01612e'))).toThrow(PickleError); // a list
    expect(() => unpickleString(hex('80058c035b31'))).toThrow(/truncated/);
  });
});
