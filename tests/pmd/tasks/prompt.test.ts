import { describe, expect, it } from 'vitest';
import { renderPrompt } from '../../../src/pmd/tasks/prompt';
import { importTasks } from '../../../src/pmd/tasks/importers';
import type { Task } from '../../../src/pmd/tasks/types';
import { fixture } from './fixtures';

const base = { split: 'train', domain: 'x' } as const;

describe('student prompts', () => {
  it('numeric: the problem and how to state the number', () => {
    const t: Task = { ...base, id: 'n', problem: 'What is 6 x 7?', answer: { kind: 'numeric', value: 42 } };
    expect(renderPrompt(t)).toBe('What is 6 x 7?\n\nWork it out step by step. Then give the final answer as a plain number on the last line, as "Answer: <number>".');
  });

  it('choice: options with labels; yes/no without a list', () => {
    const [mcq, , yesNo] = importTasks('sciknoweval', fixture('sciknoweval.jsonl')).tasks;
    expect(renderPrompt(mcq)).toBe(
      'Which organelle carries out most of the aerobic respiration in a eukaryotic cell?\n\nA) Golgi apparatus\nB) Mitochondrion\nC) Ribosome\nD) Lysosome\n\n' +
        'Think it through, then give the label of the correct option (A, B, C or D) on the last line, as "Answer: <label>".',
    );
    expect(renderPrompt(yesNo)).toBe('Sound travels faster in steel than in air.\n\nAnswer Yes or No. Think it through, then give your choice on the last line, as "Answer: Yes" or "Answer: No".');
  });

  it('code: the calling style, an example test, the starter; never held-out tests or the reference', () => {
    const mbpp = importTasks('mbpp', fixture('mbpp.jsonl')).tasks[1];
    const p = renderPrompt(mbpp);
    expect(p).toContain('Write a Python function named `square_perimeter`');
    expect(p).toContain('```python\nassert square_perimeter(10) == 40\n```');
    expect(p).not.toContain('square_perimeter(0)'); // held out
    expect(p).not.toContain('return 4 * a'); // reference solution
    expect(p.endsWith('Reply with the complete Python solution in one ```python code block.')).toBe(true);

    const [stdin, functional] = importTasks('livecodebench', fixture('livecodebench.jsonl')).tasks;
    expect(renderPrompt(stdin)).toContain('reads its input from standard input and prints the answer to standard output');
    expect(renderPrompt(stdin)).not.toContain('1000000000');
    expect(renderPrompt(functional)).toContain('Complete the method `largestPairSum` of class `Solution`');
    expect(renderPrompt(functional)).toContain('Start from this code:\n```python\nclass Solution:\n    def largestPairSum(self, nums: List[int]) -> int:\n```');

    const js: Task = { ...base, id: 'j', problem: 'Sum an array.', answer: { kind: 'code', language: 'javascript', entry_point: 'sum', tests: [{ kind: 'call', args: [[1, 2]], expected: 3 }] } };
    expect(renderPrompt(js)).toBe('Sum an array.\n\nWrite a JavaScript function named `sum` that returns the result (it is called directly; do not read input or print).\n\nReply with the complete JavaScript solution in one ```javascript code block.');
  });
});
