/**
 * Verification cases that run unchanged in Node (tests/pmd/verifiers/sandbox-cases.test.ts) and in
 * Chromium (e2e/verifiers.spec.ts, inside a worker): passing and failing programs in Python and
 * JavaScript, hung, flooding and memory-hungry programs, and escape attempts against a local HTTP
 * server that must never see a request. Plain data, so a case crosses into the browser as JSON.
 */
import type { Task } from '../../../src/pmd/tasks/types';
import type { Verdict } from '../../../src/pmd/verifiers/verdict';

export interface VerifierCase {
  name: string;
  task: Task;
  response: string;
  partialCredit?: boolean;
  expected: { reward: number; feedback: string | RegExp; statuses?: string[] };
}

/** Per-test time limit of every case (ms). */
export const CASE_TIME_LIMIT_MS = 3_000;
/** Interpreter heap limit for the cases (bytes); small, so memory bombs end quickly. */
export const CASE_MEMORY_LIMIT_BYTES = 256 << 20;

const py = (code: string) => `Here is my solution.\n\n\`\`\`python\n${code}\n\`\`\`\n`;
const js = (code: string) => `\`\`\`javascript\n${code}\n\`\`\``;

function codeTask(id: string, answer: Omit<Extract<Task['answer'], { kind: 'code' }>, 'kind'>): Task {
  return { id, split: 'train', domain: 'code', problem: `Problem ${id}.`, answer: { kind: 'code', ...answer } };
}

const addPy = codeTask('add-py', { language: 'python', entry_point: 'add', tests: [{ kind: 'call', args: [2, 3], expected: 5 }, { kind: 'call', args: [-1, 1], expected: 0 }] });
const addJs = codeTask('add-js', { language: 'javascript', entry_point: 'add', tests: [{ kind: 'call', args: [2, 3], expected: 5 }, { kind: 'call', args: [-1, 1], expected: 0 }] });
const doubleTests = [
  { kind: 'io' as const, input: '2\n', output: '4\n' },
  { kind: 'io' as const, input: '1\n', output: '2\n' },
  { kind: 'io' as const, input: '3\n', output: '6\n' },
];
const doublePy = codeTask('double-py', { language: 'python', tests: doubleTests });
const doubleJs = codeTask('double-js', { language: 'javascript', tests: doubleTests });
const mbppStyle = codeTask('perimeter-py', { language: 'python', entry_point: 'perimeter', tests: [{ kind: 'assert', code: 'assert perimeter(10) == 40' }, { kind: 'assert', code: 'assert perimeter(0) == 0' }] });
/** A task every escape attempt fails: it expects the output "escaped". */
const escapePy = codeTask('escape-py', { language: 'python', tests: [{ kind: 'io', input: '', output: 'escaped' }] });
const escapeJs = codeTask('escape-js', { language: 'javascript', tests: [{ kind: 'io', input: '', output: 'escaped' }] });

/** Python programs that read n and misbehave only for n = 1, so tests 1 and 3 pass around them. */
const onOne = (bad: string) => py(`n = int(input())\nif n == 1:\n${bad.replace(/^/gm, '    ')}\nprint(n * 2)`);
const onOneJs = (bad: string) => js(`const n = Number(require('fs').readFileSync(0, 'utf8'));\nif (n === 1) {\n  ${bad}\n}\nconsole.log(n * 2);`);

export function verifierCases(port: number): VerifierCase[] {
  const url = `http://127.0.0.1:${port}`;
  return [
    { name: 'python function passes', task: addPy, response: py('def add(a, b):\n    return a + b'), expected: { reward: 1, feedback: '', statuses: ['passed', 'passed'] } },
    {
      name: 'python wrong result names the call, expected and actual',
      task: addPy,
      response: py('def add(a, b):\n    return a - b'),
      expected: { reward: 0, feedback: /^2 of 2 tests failed\.\n\nTest 1: wrong result\n {2}call: add\(2, 3\)\n {2}expected: 5\n {2}actual: -1\n/ },
    },
    {
      name: 'python error names the line',
      task: addPy,
      response: py('def add(a, b):\n    x = a / 0\n    return x'),
      expected: { reward: 0, feedback: /error: ZeroDivisionError: division by zero \(line 2: x = a \/ 0\)/ },
    },
    { name: 'python stdin program passes', task: doublePy, response: py('print(int(input()) * 2)'), expected: { reward: 1, feedback: '' } },
    {
      name: 'python assert test shows both sides',
      task: mbppStyle,
      response: py('def perimeter(a):\n    return 4 * a + 1'),
      expected: { reward: 0, feedback: /Test 1: wrong result\n {2}test: assert perimeter\(10\) == 40\n {2}expected: 40\n {2}actual: 41/ },
    },
    {
      name: 'python hung program is stopped and the next test still runs',
      task: doublePy,
      partialCredit: true,
      response: onOne('while True:\n    pass'),
      expected: { reward: 2 / 3, feedback: /^1 of 3 tests failed\.\n\nTest 2: time limit exceeded\n {2}input: "1\\n"/, statuses: ['passed', 'timeout', 'passed'] },
    },
    {
      name: 'python output flood is stopped',
      task: doublePy,
      partialCredit: true,
      response: onOne('while True:\n    print("spam" * 100)'),
      expected: { reward: 2 / 3, feedback: /Test 2: output limit exceeded/, statuses: ['passed', 'output-limit', 'passed'] },
    },
    {
      name: 'python memory bomb fails its test',
      task: doublePy,
      partialCredit: true,
      response: onOne('hoard = []\nwhile True:\n    hoard.append(bytearray(64 * 1024 * 1024))'),
      expected: { reward: 2 / 3, feedback: /Test 2: memory limit exceeded/, statuses: ['passed', 'memory-limit', 'passed'] },
    },
    {
      name: 'python deep recursion is a RecursionError, not a crash',
      task: doublePy,
      response: py('import sys\nsys.setrecursionlimit(10**6)\ndef down(n):\n    return down(n + 1) + 1\nprint(down(0))'),
      expected: { reward: 0, feedback: /error: RecursionError: maximum recursion depth exceeded \(line 4: return down\(n \+ 1\) \+ 1\)/, statuses: ['error', 'error'] },
    },
    { name: 'python: import js fails', task: escapePy, response: py(`import js\njs.fetch("${url}/js")\nprint("escaped")`), expected: { reward: 0, feedback: /ImportError: the sandbox does not allow importing js/ } },
    { name: 'python: from js import process fails', task: escapePy, response: py('from js import process\nprint("escaped")'), expected: { reward: 0, feedback: /ImportError: the sandbox does not allow importing js/ } },
    { name: 'python: pyodide_js fails', task: escapePy, response: py('import pyodide_js\nprint("escaped")'), expected: { reward: 0, feedback: /ImportError: the sandbox does not allow importing pyodide_js/ } },
    { name: 'python: the FFI fails', task: escapePy, response: py('from pyodide.ffi import to_js\nprint("escaped")'), expected: { reward: 0, feedback: /ImportError: the sandbox does not allow importing pyodide/ } },
    { name: 'python: ctypes fails', task: escapePy, response: py('import ctypes\nctypes.CDLL(None).emscripten_run_script(b"1")\nprint("escaped")'), expected: { reward: 0, feedback: /ImportError: the sandbox does not allow importing ctypes/ } },
    { name: 'python: host files are not there', task: escapePy, response: py('print(open("/etc/passwd").read())'), expected: { reward: 0, feedback: /FileNotFoundError: \[Errno 44\] No such file or directory: '\/etc\/passwd'/ } },
    { name: 'python: os.system fails', task: escapePy, response: py('import os\nos.system("touch /tmp/pmd-escaped")\nprint("escaped")'), expected: { reward: 0, feedback: /PermissionError: the sandbox cannot start or signal processes/ } },
    { name: 'python: subprocess fails', task: escapePy, response: py('import subprocess\nsubprocess.run(["ls", "/"])\nprint("escaped")'), expected: { reward: 0, feedback: /error: \w+Error/ } },
    {
      name: 'python: sockets to a local server fail',
      task: escapePy,
      response: py(`import socket\ns = socket.create_connection(("127.0.0.1", ${port}), timeout=1)\ns.sendall(b"GET /socket HTTP/1.0\\r\\n\\r\\n")\nprint("escaped")`),
      expected: { reward: 0, feedback: /PermissionError: \[Errno 63\] Operation not permitted/ },
    },
    { name: 'python: urllib to a local server fails', task: escapePy, response: py(`import urllib.request\nprint(urllib.request.urlopen("${url}/urllib", timeout=1).read())`), expected: { reward: 0, feedback: /URLError: <urlopen error \[Errno 63\] Operation not permitted>/ } },
    { name: 'javascript function passes', task: addJs, response: js('function add(a, b) {\n  return a + b;\n}'), expected: { reward: 1, feedback: '' } },
    { name: 'javascript exported arrow function passes', task: addJs, response: js('export const add = (a, b) => a + b;'), expected: { reward: 1, feedback: '' } },
    {
      name: 'javascript wrong result',
      task: addJs,
      response: js('function add(a, b) {\n  return a * b;\n}'),
      expected: { reward: 0, feedback: /Test 1: wrong result\n {2}call: add\(2, 3\)\n {2}expected: 5\n {2}actual: 6/ },
    },
    { name: 'javascript stdin program passes', task: doubleJs, response: js("const n = Number(require('fs').readFileSync(0, 'utf8'));\nconsole.log(n * 2);"), expected: { reward: 1, feedback: '' } },
    {
      name: 'javascript error names the line',
      task: doubleJs,
      response: js('const n = readline();\nnull.x;\nconsole.log(n);'),
      expected: { reward: 0, feedback: /TypeError: cannot read property 'x' of null \(line 2: null\.x;\)/ },
    },
    { name: 'javascript hung program is stopped', task: doubleJs, partialCredit: true, response: onOneJs('for (;;) {}'), expected: { reward: 2 / 3, feedback: /Test 2: time limit exceeded/, statuses: ['passed', 'timeout', 'passed'] } },
    { name: 'javascript output flood is stopped', task: doubleJs, partialCredit: true, response: onOneJs("for (;;) console.log('spam'.repeat(100));"), expected: { reward: 2 / 3, feedback: /Test 2: output limit exceeded/, statuses: ['passed', 'output-limit', 'passed'] } },
    { name: 'javascript memory bomb fails its test', task: doubleJs, partialCredit: true, response: onOneJs('const hoard = []; for (;;) hoard.push(new Float64Array(1 << 22));'), expected: { reward: 2 / 3, feedback: /Test 2: memory limit exceeded/, statuses: ['passed', 'memory-limit', 'passed'] } },
    { name: 'javascript: no fetch', task: escapeJs, response: js(`fetch("${url}/js-fetch");\nconsole.log("escaped");`), expected: { reward: 0, feedback: /ReferenceError: 'fetch' is not defined/ } },
    { name: 'javascript: no child_process', task: escapeJs, response: js('require("child_process").execSync("ls");\nconsole.log("escaped");'), expected: { reward: 0, feedback: /Cannot find module 'child_process'/ } },
    { name: 'javascript: no host globals', task: escapeJs, response: js('console.log(typeof process.binding, typeof globalThis.Deno, typeof XMLHttpRequest, typeof WebSocket, typeof indexedDB, typeof importScripts);'), expected: { reward: 0, feedback: /actual output: "undefined undefined undefined undefined undefined undefined\\n"/ } },
  ];
}

/** What went wrong with one verdict, as readable lines ([] when it matches). */
export function caseMismatches(c: VerifierCase, v: Verdict): string[] {
  const out: string[] = [];
  if (Math.abs(v.reward - c.expected.reward) > 1e-9) out.push(`${c.name}: reward ${v.reward}, expected ${c.expected.reward}`);
  const fb = c.expected.feedback;
  if (typeof fb === 'string' ? v.feedback !== fb : !fb.test(v.feedback)) out.push(`${c.name}: feedback ${JSON.stringify(v.feedback)} does not match ${String(fb)}`);
  if (c.expected.statuses && JSON.stringify(v.tests?.statuses) !== JSON.stringify(c.expected.statuses)) {
    out.push(`${c.name}: test statuses ${JSON.stringify(v.tests?.statuses)}, expected ${JSON.stringify(c.expected.statuses)}`);
  }
  if (v.feedback.length > 2000) out.push(`${c.name}: feedback is ${v.feedback.length} characters`);
  return out;
}
