import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCli } from './run-cli';

let dir: string;
const tasks = [
  { id: 'add', split: 'train', domain: 'arithmetic', problem: 'What is 2 + 3?', answer: { kind: 'numeric', value: 5 } },
  { id: 'gas', split: 'train', domain: 'chemistry', problem: 'Main gas of air?', answer: { kind: 'choice', options: [{ label: 'A', text: 'Nitrogen' }, { label: 'B', text: 'Oxygen' }], correct: 'A' } },
  {
    id: 'sq',
    split: 'train',
    domain: 'code',
    problem: 'Square a number.',
    answer: { kind: 'code', language: 'python', entry_point: 'sq', tests: [{ kind: 'call', args: [3], expected: 9 }, { kind: 'call', args: [-2], expected: 4, split: 'heldout' }] },
  },
  { id: 'twice', split: 'train', domain: 'code', problem: 'Double a number.', answer: { kind: 'code', language: 'javascript', entry_point: 'twice', tests: [{ kind: 'call', args: [4], expected: 8 }] } },
];
const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pmd-verify-cli-'));
  await writeFile(path.join(dir, 'tasks.jsonl'), jsonl(tasks));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('pmd-lab verify', () => {
  it('writes {id, reward, feedback} per response, in order; unknown ids are results with an error', async () => {
    const responses = [
      { id: 'add', response: 'The answer is 5.' },
      { id: 'gas', response: 'Answer: B' },
      { id: 'nope', response: '42' },
      { id: 'sq', response: '```python\ndef sq(x):\n    return x * x\n```' },
      { id: 'sq', response: '```python\ndef sq(x):\n    return x + x\n```' },
      { id: 'twice', response: '```js\nconst twice = (x) => 2 * x;\n```' },
      { id: 'add', response: 'no idea' },
    ];
    await writeFile(path.join(dir, 'responses.jsonl'), jsonl(responses));
    const out = path.join(dir, 'results.jsonl');
    const r = await runCli(['verify', '--tasks', path.join(dir, 'tasks.jsonl'), '--responses', path.join(dir, 'responses.jsonl'), '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^verified 7 responses: 3 passed, mean reward 0\.429; wrote /);
    const results = (await readFile(out, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(results.map((x) => Object.keys(x))).toEqual(responses.map(() => ['id', 'reward', 'feedback']));
    expect(results).toEqual([
      { id: 'add', reward: 1, feedback: '' },
      { id: 'gas', reward: 0, feedback: 'The chosen option B is not correct.' },
      { id: 'nope', reward: 0, feedback: `error: unknown task id "nope" (not in ${path.join(dir, 'tasks.jsonl')})` },
      { id: 'sq', reward: 1, feedback: '' },
      { id: 'sq', reward: 0, feedback: '1 of 1 tests failed.\n\nTest 1: wrong result\n  call: sq(3)\n  expected: 9\n  actual: 6' },
      { id: 'twice', reward: 1, feedback: '' },
      { id: 'add', reward: 0, feedback: 'No final answer was found in the response: end it with "Answer: <number>".' },
    ]);
  });

  it('--tests heldout uses the held-out tests, --partial-credit the passed share', async () => {
    await writeFile(path.join(dir, 'r2.jsonl'), jsonl([{ id: 'sq', response: '```python\ndef sq(x):\n    return x * abs(x)\n```' }]));
    const base = ['verify', '--tasks', path.join(dir, 'tasks.jsonl'), '--responses', path.join(dir, 'r2.jsonl')];
    const held = await runCli([...base, '--out', path.join(dir, 'held.jsonl'), '--tests', 'heldout']);
    expect(held.code).toBe(0);
    expect(JSON.parse(await readFile(path.join(dir, 'held.jsonl'), 'utf8'))).toMatchObject({ reward: 0, feedback: expect.stringContaining('call: sq(-2)') });
    const all = await runCli([...base, '--out', path.join(dir, 'all.jsonl'), '--tests', 'all', '--partial-credit']);
    expect(all.code).toBe(0);
    expect(JSON.parse(await readFile(path.join(dir, 'all.jsonl'), 'utf8'))).toMatchObject({ reward: 0.5 });
  });

  it('a malformed response line is an error naming the line; nothing is written', async () => {
    await writeFile(path.join(dir, 'bad.jsonl'), '{"id": "add", "response": "5"}\n{"id": 3, "response": "x"}\n{"id": "add"}\nnot json\n');
    const r = await runCli(['verify', '--tasks', path.join(dir, 'tasks.jsonl'), '--responses', path.join(dir, 'bad.jsonl'), '--out', path.join(dir, 'never.jsonl')]);
    expect(r.code).toBe(1);
    const bad = path.join(dir, 'bad.jsonl');
    expect(r.stderr).toContain(`${bad} line 2, id: must be a task id (a string), got 3`);
    expect(r.stderr).toContain(`${bad} line 3, response: must be the response text (a string), got nothing`);
    expect(r.stderr).toContain(`${bad} line 4: not valid JSON`);
    expect((await readdir(dir)).filter((f) => f.includes('never'))).toEqual([]);
  });

  it('a broken tasks file is an error naming its lines', async () => {
    await writeFile(path.join(dir, 'badtasks.jsonl'), jsonl([tasks[0], { ...tasks[0], answer: { kind: 'numeric' } }]));
    await writeFile(path.join(dir, 'r3.jsonl'), jsonl([{ id: 'add', response: '5' }]));
    const r = await runCli(['verify', '--tasks', path.join(dir, 'badtasks.jsonl'), '--responses', path.join(dir, 'r3.jsonl'), '--out', path.join(dir, 'x.jsonl')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('badtasks.jsonl line 2, answer.value: must be a finite number, got nothing');
    const r2 = await runCli(['verify', '--tasks', path.join(dir, 'tasks.jsonl'), '--responses', path.join(dir, 'r3.jsonl'), '--out', path.join(dir, 'x.jsonl'), '--tests', 'some']);
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/--tests must be train, heldout or all/);
  });
});
