/**
 * The host side of a sandbox, shared by Node and the browser: one worker, one test at a time,
 * time limits, and replacing the worker when it is lost. The environment supplies only
 * `spawn` (node-host.ts: worker_threads; browser-host.ts: a Web Worker).
 *
 * Time limits. Each test's clock starts when it is sent (interpreter start-up is awaited before,
 * never counted). At the limit:
 *   - Python with a SharedArrayBuffer (Node; a cross-origin isolated page): the host raises
 *     KeyboardInterrupt through Pyodide's interrupt flag; the program ends as a timeout and the
 *     interpreter stays. If it ignores the interrupt (a busy C call, a caught KeyboardInterrupt)
 *     the worker is terminated after `graceMs`.
 *   - Python without one (a page that is not cross-origin isolated): the worker is terminated.
 *   - JavaScript: QuickJS's own interrupt handler stops the program at the limit; the host
 *     terminates the worker only if that has not happened `graceMs` later.
 * A terminated or crashed worker is replaced, with its interpreters, before the next test.
 */
import type { CodeLanguage } from '../tasks/types';
import { DEFAULT_MEMORY_LIMIT_BYTES, type FromWorker, type Sandbox, type SandboxJob, type SandboxStats, type TestOutcome, type ToWorker } from './protocol';

export interface WorkerHandle {
  post(msg: ToWorker): void;
  terminate(): void;
}

export interface WorkerEvents {
  message(msg: FromWorker): void;
  /** The worker is gone; `outOfMemory` when it hit its resource limits. */
  exit(reason: string, outOfMemory: boolean): void;
}

export type SpawnWorker = (events: WorkerEvents) => WorkerHandle;

export interface SandboxHostOptions {
  /** Heap limit of each interpreter (WebAssembly memory), bytes. */
  memoryLimitBytes?: number;
  /** How long after the limit a program that ignores the interrupt may run before the worker is terminated. */
  graceMs?: number;
  /** Longest an interpreter may take to load. */
  startupTimeoutMs?: number;
  /** Browser: the URL folder holding pyodide/ and quickjs/. */
  assetsBase?: string;
}

export class SandboxStartError extends Error {
  override name = 'SandboxStartError';
}

interface Current {
  id: number;
  started: number;
  done: (o: TestOutcome) => void;
}

class LiveWorker {
  current: Current | null = null;
  gone = false;

  constructor(
    readonly handle: WorkerHandle,
    readonly languages: ReadonlySet<CodeLanguage>,
    readonly ready: Promise<void>,
  ) {}
}

const now = () => performance.now();

export class SandboxHost implements Sandbox {
  private worker: LiveWorker | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private nextId = 0;
  private closed = false;
  private readonly data: SandboxStats = { startups: {}, restarts: 0, tests: 0 };
  /** Every language asked for so far: a replacement worker loads them all again. */
  private readonly languages = new Set<CodeLanguage>();
  private readonly interrupt: SharedArrayBuffer | undefined;
  private readonly memoryLimitBytes: number;
  private readonly graceMs: number;
  private readonly startupTimeoutMs: number;

  constructor(
    private readonly spawn: SpawnWorker,
    private readonly opts: SandboxHostOptions = {},
  ) {
    this.memoryLimitBytes = opts.memoryLimitBytes ?? DEFAULT_MEMORY_LIMIT_BYTES;
    this.graceMs = opts.graceMs ?? 1_000;
    this.startupTimeoutMs = opts.startupTimeoutMs ?? 120_000;
    const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated !== false;
    this.interrupt = typeof SharedArrayBuffer === 'function' && isolated ? new SharedArrayBuffer(4) : undefined;
  }

  /** Whether Python timeouts can interrupt the program (else they cost a worker restart). */
  get canInterruptPython(): boolean {
    return this.interrupt !== undefined;
  }

  run(job: SandboxJob): Promise<TestOutcome> {
    const next = this.queue.then(() => this.runNow(job));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Load the interpreters for these languages now (tests would otherwise load them on first use). */
  async prepare(languages: readonly CodeLanguage[]): Promise<unknown> {
    const next = this.queue.then(() => this.workerFor(languages));
    this.queue = next.catch(() => undefined);
    return next;
  }

  stats(): SandboxStats {
    return { startups: Object.fromEntries(Object.entries(this.data.startups).map(([k, v]) => [k, [...v]])), restarts: this.data.restarts, tests: this.data.tests };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    if (this.worker) this.discard(this.worker, false);
  }

  private async runNow(job: SandboxJob): Promise<TestOutcome> {
    if (this.closed) throw new Error('the sandbox is closed');
    const w = await this.workerFor([job.language]);
    this.data.tests++;
    const id = ++this.nextId;
    const flag = this.interrupt ? new Int32Array(this.interrupt) : null;
    return new Promise<TestOutcome>((resolve) => {
      let limitTimer: ReturnType<typeof setTimeout> | undefined;
      let killTimer: ReturnType<typeof setTimeout> | undefined;
      const started = now();
      const done = (o: TestOutcome) => {
        if (w.current?.id !== id) return;
        w.current = null;
        clearTimeout(limitTimer);
        clearTimeout(killTimer);
        resolve(o);
      };
      w.current = { id, started, done };
      const kill = () => {
        this.discard(w, true);
        done({ status: 'timeout', ms: now() - started, error: `stopped after the time limit of ${job.timeLimitMs} ms` });
      };
      if (flag) Atomics.store(flag, 0, 0);
      w.handle.post({ type: 'run', id, job });
      limitTimer = setTimeout(() => {
        if (job.language === 'python') {
          if (!flag) return kill();
          Atomics.store(flag, 0, 2); // SIGINT: Pyodide raises KeyboardInterrupt
        }
        killTimer = setTimeout(kill, this.graceMs);
      }, job.timeLimitMs);
    });
  }

  /** The worker, started or replaced so that it has these languages' interpreters. */
  private async workerFor(wanted: readonly CodeLanguage[]): Promise<LiveWorker> {
    const w = this.worker;
    if (w && !w.gone && wanted.every((l) => w.languages.has(l))) {
      await w.ready;
      return w;
    }
    for (const l of wanted) this.languages.add(l);
    if (w && !w.gone) this.discard(w, false);
    const fresh = this.start(new Set(this.languages));
    this.worker = fresh;
    await fresh.ready;
    return fresh;
  }

  private start(languages: Set<CodeLanguage>): LiveWorker {
    let settle!: { resolve: () => void; reject: (e: Error) => void };
    const ready = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    let timer: ReturnType<typeof setTimeout> | undefined;
    let w!: LiveWorker;
    const fail = (message: string) => {
      clearTimeout(timer);
      settle.reject(new SandboxStartError(`could not start the ${[...languages].join(' and ')} sandbox: ${message}`));
    };
    const handle = this.spawn({
      message: (msg) => {
        if (msg.type === 'ready') {
          clearTimeout(timer);
          for (const [lang, ms] of Object.entries(msg.startupMs)) (this.data.startups[lang as CodeLanguage] ??= []).push(ms);
          settle.resolve();
        } else if (msg.type === 'init-failed') {
          fail(msg.message);
          this.discard(w, false);
        } else if (msg.type === 'result') {
          if (w.current?.id === msg.id) w.current.done(msg.outcome);
        } else if (msg.type === 'crashed') {
          const cur = w.current;
          this.discard(w, true);
          if (cur?.id === msg.id) cur.done({ status: 'crashed', ms: now() - cur.started, error: msg.message });
        }
      },
      exit: (reason, outOfMemory) => {
        const cur = w.current;
        if (!w.gone) {
          w.gone = true;
          fail(reason);
          if (this.worker === w) this.worker = null;
        }
        if (cur) cur.done({ status: outOfMemory ? 'memory-limit' : 'crashed', ms: now() - cur.started, error: `the sandbox worker stopped: ${reason}` });
      },
    });
    w = new LiveWorker(handle, languages, ready);
    ready.catch(() => undefined);
    timer = setTimeout(() => {
      fail(`no answer within ${this.startupTimeoutMs} ms`);
      this.discard(w, false);
    }, this.startupTimeoutMs);
    handle.post({ type: 'init', languages: [...languages], memoryLimitBytes: this.memoryLimitBytes, interrupt: this.interrupt, assetsBase: this.opts.assetsBase });
    return w;
  }

  /** Terminate a worker; `restart` counts it as a replacement caused by a test. */
  private discard(w: LiveWorker, restart: boolean): void {
    if (w.gone) return;
    w.gone = true;
    if (restart) this.data.restarts++;
    if (this.worker === w) this.worker = null;
    w.handle.terminate();
  }
}
