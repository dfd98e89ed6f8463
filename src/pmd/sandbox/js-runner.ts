/**
 * JavaScript in the sandbox worker: QuickJS compiled to WebAssembly (quickjs-emscripten), a
 * separate interpreter with nothing of the host in it. The module (the wasm) loads once per
 * worker; every test gets a fresh runtime and context with a memory limit, a stack limit and an
 * interrupt deadline, so a hung or greedy program ends as a failed test without a restart.
 *
 * What a program sees: console.log/info/debug (standard output), console.error/warn (standard
 * error), print, readline() (next line of standard input), process.stdout.write, process.exit,
 * require('fs').readFileSync(0 | '/dev/stdin') (all of standard input), require('readline')
 * with 'line'/'close' events, module.exports, and assert (ok, equal, strictEqual, deepEqual,
 * deepStrictEqual, notEqual, notStrictEqual). Nothing else: no timers, network or files.
 */
import { newQuickJSWASMModuleFromVariant, newVariant, RELEASE_SYNC, type QuickJSContext, type QuickJSHandle, type QuickJSWASMModule } from 'quickjs-emscripten';
import type { RawOutcome, SandboxJob } from './protocol';
import { sameJsonValue } from './compare';

const PRELUDE = String.raw`
(() => {
  const write = globalThis.__pmd_write, stdin = globalThis.__pmd_stdin;
  delete globalThis.__pmd_write;
  delete globalThis.__pmd_stdin;
  const show = (v) => {
    if (typeof v === 'string') return v;
    if (typeof v === 'function') return '[Function ' + (v.name || 'anonymous') + ']';
    if (v === undefined || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' || v === null) return String(v);
    try { return JSON.stringify(v) ?? String(v); } catch (e) { return String(v); }
  };
  const line = (args) => args.map(show).join(' ') + '\n';
  globalThis.console = {
    log: (...a) => write(line(a), 1), info: (...a) => write(line(a), 1), debug: (...a) => write(line(a), 1),
    error: (...a) => write(line(a), 2), warn: (...a) => write(line(a), 2), trace: () => {},
  };
  globalThis.print = (...a) => write(a.map(String).join(' ') + '\n', 1);
  const lines = stdin.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  let next = 0;
  globalThis.readline = () => (next < lines.length ? lines[next++].replace(/\r$/, '') : undefined);
  class ExitCalled extends Error {}
  const handlers = { line: [], close: [] };
  const rl = {
    on(event, fn) { (handlers[event] || (handlers[event] = [])).push(fn); return rl; },
    once(event, fn) { return rl.on(event, fn); },
    close() {}, setPrompt() {}, prompt() {}, pause() { return rl; }, resume() { return rl; },
    [Symbol.asyncIterator]() {
      return { next: () => Promise.resolve(next < lines.length ? { value: lines[next++], done: false } : { value: undefined, done: true }) };
    },
  };
  const modules = {
    fs: { readFileSync(path) {
      if (path === 0 || path === '/dev/stdin') return stdin;
      throw new Error('the sandbox has no files (only standard input: readFileSync(0))');
    } },
    readline: { createInterface: () => rl },
  };
  globalThis.require = (name) => {
    const m = modules[String(name).replace(/^node:/, '')];
    if (!m) throw new Error("Cannot find module '" + name + "' (the sandbox offers fs.readFileSync(0) and readline)");
    return m;
  };
  globalThis.process = {
    stdout: { write: (s) => { write(String(s), 1); return true; } },
    stderr: { write: (s) => { write(String(s), 2); return true; } },
    stdin: {}, argv: ['node', 'solution.js'], env: {},
    exit: () => { throw new ExitCalled('process.exit'); },
  };
  globalThis.module = { exports: {} };
  globalThis.exports = globalThis.module.exports;
  const same = (a, b) => {
    if (a === b) return true;
    if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return Number.isNaN(a) && Number.isNaN(b);
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    const ka = Object.keys(a), kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && same(a[k], b[k]));
  };
  class AssertionError extends Error {
    constructor(message, actual, expected) { super(message); this.name = 'AssertionError'; globalThis.__pmd_mismatch = [show2(actual), show2(expected)]; }
  }
  const show2 = (v) => (typeof v === 'string' ? JSON.stringify(v) : show(v));
  const check = (ok, actual, expected, message, what) => {
    if (!ok) throw new AssertionError(message || 'expected ' + show2(expected) + ', got ' + show2(actual) + ' (' + what + ')', actual, expected);
  };
  const assert = (value, message) => { if (!value) throw new AssertionError(message || 'assertion failed', value, true); };
  assert.ok = assert;
  assert.equal = (a, b, m) => check(a == b, a, b, m, '==');
  assert.notEqual = (a, b, m) => check(a != b, a, b, m, '!=');
  assert.strictEqual = (a, b, m) => check(a === b, a, b, m, '===');
  assert.notStrictEqual = (a, b, m) => check(a !== b, a, b, m, '!==');
  assert.deepEqual = (a, b, m) => check(same(a, b), a, b, m, 'deep equality');
  assert.deepStrictEqual = assert.deepEqual;
  globalThis.assert = assert;
  globalThis.__pmd_isExit = (e) => e instanceof ExitCalled;
  globalThis.__pmd_finish = () => {
    for (; next < lines.length; ) { const l = lines[next++]; for (const fn of handlers.line) fn(l); }
    for (const fn of handlers.close) fn();
  };
  globalThis.__pmd_call = (fn, name, owner, argsJson) => {
    let target = fn;
    if (owner !== null) {
      if (typeof owner !== 'function') throw new ReferenceError('the code does not define class ' + name.split('.')[0]);
      const obj = new owner();
      target = typeof obj[name.split('.')[1]] === 'function' ? obj[name.split('.')[1]].bind(obj) : undefined;
    } else if (typeof target !== 'function') {
      const ex = globalThis.module.exports;
      target = typeof ex === 'function' ? ex : ex && ex[name];
    }
    if (typeof target !== 'function') throw new ReferenceError('the code does not define function ' + name);
    const result = target(...JSON.parse(argsJson));
    globalThis.__pmd_result = { done: false };
    Promise.resolve(result).then(
      (v) => { globalThis.__pmd_result = { done: true, value: v }; },
      (e) => { globalThis.__pmd_result = { done: true, error: e }; },
    );
  };
  globalThis.__pmd_report = () => {
    const r = globalThis.__pmd_result;
    if (!r.done) throw new Error('the returned promise never settled');
    if ('error' in r) throw r.error;
    return JSON.stringify({ json: JSON.stringify(r.value), shown: show2(r.value) });
  };
})();
`;

/** `export function f` / `export default` / `export { f }` are not script syntax: drop the export. */
function asScript(code: string): string {
  return code.replace(/^(\s*)export\s+default\s+(?=(async\s+)?function|class)/gm, '$1').replace(/^(\s*)export\s+(?=(async\s+)?function|class|const|let|var)/gm, '$1').replace(/^\s*export\s*\{[^}]*\};?\s*$/gm, '');
}

/** A place in the submitted code from a QuickJS stack ("at f (solution.js:3:9)"). */
function lineOf(stack: string | undefined, code: string): { line?: number; lineText?: string } {
  const m = stack ? /solution\.js:(\d+)/.exec(stack) : null;
  if (!m) return {};
  const line = Number(m[1]);
  return { line, lineText: code.split('\n')[line - 1] ?? '' };
}

export class JavaScriptRunner {
  private constructor(
    private readonly qjs: QuickJSWASMModule,
    private readonly heapLimitBytes: number,
  ) {}

  static async start(wasm: () => Promise<ArrayBuffer>, heapLimitBytes: number): Promise<JavaScriptRunner> {
    const variant = newVariant(RELEASE_SYNC, { wasmBinary: wasm });
    return new JavaScriptRunner(await newQuickJSWASMModuleFromVariant(variant), heapLimitBytes);
  }

  run(job: SandboxJob): RawOutcome {
    const t0 = performance.now();
    const deadline = Date.now() + job.timeLimitMs;
    let interrupted = false;
    const streams = [new CappedText(job.outputLimit), new CappedText(job.outputLimit)];
    const rt = this.qjs.newRuntime();
    rt.setMemoryLimit(this.heapLimitBytes);
    rt.setMaxStackSize(1 << 20);
    rt.setInterruptHandler(() => (interrupted ||= Date.now() > deadline));
    const ctx = rt.newContext();
    const code = asScript(job.code);
    const finish = (o: Omit<RawOutcome, 'ms'>): RawOutcome => {
      const out: RawOutcome = { ...o, ms: performance.now() - t0 };
      if (streams[0].exceeded || streams[1].exceeded) out.status = 'output-limit';
      else if (interrupted) out.status = 'timeout';
      if (job.test.kind === 'io') out.actual = streams[0].text();
      return out;
    };
    try {
      const write = ctx.newFunction('__pmd_write', (text, fd) => {
        if (!streams[ctx.getNumber(fd) === 2 ? 1 : 0].add(ctx.getString(text))) throw new Error('output limit exceeded');
      });
      ctx.setProp(ctx.global, '__pmd_write', write);
      write.dispose();
      const stdin = ctx.newString(job.test.kind === 'io' ? job.test.input : '');
      ctx.setProp(ctx.global, '__pmd_stdin', stdin);
      stdin.dispose();
      this.evalOrThrow(ctx, PRELUDE, 'prelude.js');
      if (job.setup) {
        const err = this.evaluate(ctx, job.setup, 'setup.js');
        if (err) return finish({ status: 'error', error: `in the task's setup code: ${err.message}` });
      }
      const solutionError = this.evaluate(ctx, code, 'solution.js');
      if (solutionError && !solutionError.exit) return finish(this.errorOutcome(ctx, solutionError, code));
      const test = job.test;
      if (test.kind === 'io') {
        const err = solutionError ?? this.evaluate(ctx, '__pmd_finish()', 'run.js');
        rt.executePendingJobs();
        if (err && !err.exit) return finish(this.errorOutcome(ctx, err, code));
        return finish({ status: 'ran' });
      }
      if (solutionError) return finish({ status: 'error', error: 'process.exit was called before the test ran' });
      if (test.kind === 'assert') {
        const err = this.evaluate(ctx, test.code, 'test.js');
        rt.executePendingJobs();
        return finish(err ? this.errorOutcome(ctx, err, code) : { status: 'passed' });
      }
      const entry = job.entryPoint ?? '';
      const ref = (id: string) => `(typeof ${id} !== 'undefined' ? ${id} : undefined)`;
      const call = job.className
        ? `__pmd_call(null, ${JSON.stringify(`${job.className}.${entry}`)}, ${ref(job.className)}, ${JSON.stringify(JSON.stringify(test.args))})`
        : `__pmd_call(${ref(entry)}, ${JSON.stringify(entry)}, null, ${JSON.stringify(JSON.stringify(test.args))})`;
      const callError = this.evaluate(ctx, call, 'call.js');
      if (callError) return finish(this.errorOutcome(ctx, callError, code));
      rt.executePendingJobs();
      const report = ctx.evalCode('__pmd_report()', 'report.js');
      if (report.error) {
        const err = this.describe(ctx, report.error);
        report.error.dispose();
        return finish(this.errorOutcome(ctx, err, code));
      }
      const { json, shown } = JSON.parse(ctx.getString(report.value)) as { json?: string; shown: string };
      report.value.dispose();
      const actual = json === undefined ? undefined : (JSON.parse(json) as unknown);
      return finish({ status: sameJsonValue(actual, test.expected) ? 'passed' : 'failed', actual: shown });
    } finally {
      ctx.dispose();
      rt.dispose();
    }
  }

  private evalOrThrow(ctx: QuickJSContext, source: string, file: string): void {
    const err = this.evaluate(ctx, source, file);
    if (err) throw new Error(`${file}: ${err.message}`);
  }

  /** Run a script; null when it finished, else what it threw. */
  private evaluate(ctx: QuickJSContext, source: string, file: string): ThrownValue | null {
    const r = ctx.evalCode(source, file, { type: 'global' });
    if (!r.error) {
      r.value.dispose();
      return null;
    }
    const err = this.describe(ctx, r.error);
    r.error.dispose();
    return err;
  }

  private describe(ctx: QuickJSContext, handle: QuickJSHandle): ThrownValue {
    const isExit = ctx.getProp(ctx.global, '__pmd_isExit');
    const exitResult = ctx.callFunction(isExit, ctx.undefined, handle);
    isExit.dispose();
    let exit = false;
    if (!exitResult.error) {
      exit = ctx.dump(exitResult.value) === true;
      exitResult.value.dispose();
    } else exitResult.error.dispose();
    const v = ctx.dump(handle) as unknown;
    if (v && typeof v === 'object') {
      const e = v as { name?: string; message?: string; stack?: string };
      const message = e.name && e.message !== undefined ? `${e.name}: ${e.message}` : String(e.message ?? JSON.stringify(v));
      return { message, stack: e.stack, exit };
    }
    return { message: `uncaught ${typeof v === 'string' ? JSON.stringify(v) : String(v)}`, exit };
  }

  private errorOutcome(ctx: QuickJSContext, err: ThrownValue, code: string): Omit<RawOutcome, 'ms'> {
    if (/out of memory/i.test(err.message)) return { status: 'memory-limit', error: err.message };
    if (err.message.startsWith('AssertionError')) {
      const mismatch = ctx.getProp(ctx.global, '__pmd_mismatch');
      const pair = ctx.dump(mismatch) as [string, string] | undefined;
      mismatch.dispose();
      return { status: 'failed', error: err.message, ...(Array.isArray(pair) ? { actual: pair[0], expected: pair[1] } : {}) };
    }
    return { status: 'error', error: err.message, ...lineOf(err.stack, code) };
  }
}

interface ThrownValue {
  message: string;
  stack?: string;
  exit: boolean;
}

/** Captured output with a size cap; add() returns false once the cap is passed. */
class CappedText {
  private parts: string[] = [];
  private size = 0;
  exceeded = false;

  constructor(private readonly cap: number) {}

  add(s: string): boolean {
    this.size += s.length;
    if (this.size > this.cap) this.exceeded = true;
    if (this.exceeded) return false;
    this.parts.push(s);
    return true;
  }

  text(): string {
    return this.parts.join('');
  }
}
