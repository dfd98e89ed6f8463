import { describe, expect, it } from 'vitest';
import { importTasks } from '../../../src/pmd/tasks/importers';
import { calledFunction } from '../../../src/pmd/tasks/mbpp';
import { fixture } from './fixtures';

describe('MBPP import', () => {
  it('turns test_list into training asserts and challenge_test_list into held-out ones', () => {
    const { tasks, skipped, problems } = importTasks('mbpp', fixture('mbpp.jsonl'));
    expect(problems).toEqual([]);
    expect(skipped).toEqual([]);
    expect(tasks.map((t) => t.id)).toEqual(['mbpp-2', 'mbpp-17', 'mbpp-31']);
    expect(tasks[0]).toEqual({
      id: 'mbpp-2',
      split: 'train',
      domain: 'code',
      problem: 'Write a function to return the elements that appear in both of two given tuples, as a sorted tuple.',
      answer: {
        kind: 'code',
        language: 'python',
        entry_point: 'shared_items',
        tests: [
          { kind: 'assert', code: 'assert shared_items((3, 4, 5, 6), (5, 7, 4, 10)) == (4, 5)' },
          { kind: 'assert', code: 'assert shared_items((1, 2, 3, 4), (5, 4, 3, 7)) == (3, 4)' },
          { kind: 'assert', code: 'assert shared_items((11, 12, 14, 13), (17, 15, 14, 13)) == (13, 14)' },
        ],
      },
      source: { format: 'mbpp', id: '2', test_split: { train: 'test_list' } },
      meta: { reference: 'def shared_items(a, b):\r\n    return tuple(sorted(set(a) & set(b)))' },
    });
    expect(tasks[1].answer).toMatchObject({ tests: [{}, {}, {}, { kind: 'assert', code: 'assert square_perimeter(0) == 0', split: 'heldout' }] });
    expect(tasks[1].source?.test_split).toEqual({ train: 'test_list', heldout: 'challenge_test_list' });
    expect(tasks[2].answer).toMatchObject({ entry_point: 'is_even', setup: 'def parity(n):\n    return n % 2' });
  });

  it('finds the function the tests call among those the reference defines', () => {
    expect(calledFunction('def helper(x):\n  return x\ndef main_fn(a):\n  return helper(a)', ['assert set(main_fn([1])) == {1}'])).toBe('main_fn');
    expect(calledFunction('x = 1', ['assert f(1) == 1'])).toBeUndefined();
  });

  it('reports malformed rows', () => {
    const text = [
      JSON.stringify({ task_id: '5', text: 't', code: 'c', test_list: ['assert f()'], test_setup_code: '', challenge_test_list: [] }),
      JSON.stringify({ task_id: 6, text: 't', code: 'c', test_list: 'assert f()', test_setup_code: '', challenge_test_list: [] }),
      JSON.stringify({ task_id: 7, text: 't', code: 'c', test_list: [], test_setup_code: '', challenge_test_list: [] }),
      JSON.stringify({ task_id: 8, text: 't', code: 'def f(): return 1', test_list: ['assert f() == 1'], test_setup_code: '', challenge_test_list: [] }),
      JSON.stringify({ task_id: 8, text: 't', code: 'def f(): return 1', test_list: ['assert f() == 1'], test_setup_code: '', challenge_test_list: [] }),
    ].join('\n');
    const { tasks, problems } = importTasks('mbpp', text);
    expect(tasks.map((t) => t.id)).toEqual(['mbpp-8']);
    expect(problems.map((p) => `${p.line} ${p.field}: ${p.message}`)).toEqual([
      '1 task_id: must be a whole number, got "5"',
      '2 test_list: must be a list of assert lines, got "assert f()"',
      '3 test_list: is empty; a task needs at least one test',
      '5 : gives the id "mbpp-8" that line 4 already gave',
    ]);
  });
});
