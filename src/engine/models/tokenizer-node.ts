/**
 * A TextTokenizer for Node that renders chat templates and encodes text in a worker thread, so a
 * tokenizer that hangs (a template looping 10^8 times, a regex that backtracks catastrophically)
 * is stopped at its time limit: the thread is terminated, the call fails naming the file and the
 * limit, and the next call starts a fresh thread. decode() and the metadata run in the calling
 * thread. Node only (worker_threads); the browser uses LocalTokenizer inside its engine worker.
 */

import { Worker } from 'node:worker_threads';
import {
  buildTransformersTokenizer,
  type ChatMessage,
  encodeFailed,
  encodeTimeout,
  type LoadTokenizerOptions,
  LocalTokenizer,
  renderedText,
  resolveLimits,
  templateFailed,
  templateTimeout,
  type TextTokenizer,
  type TokenizerLimits,
} from './tokenizer';
import { TOKENIZER_CONFIG, TOKENIZER_JSON } from './tokenizer-validate';
import { ModelFormatError } from './types';

export interface WorkerTokenizerOptions extends LoadTokenizerOptions {
  /**
   * Heap limit of the worker thread in MB. Node ends the thread cleanly when a template's
   * allocations reach it, but an allocation that outruns that (such as copying ever larger
   * arrays) aborts the whole process instead, so keep it well above what a template can allocate
   * within templateMs; the time limits are the main guard.
   */
  workerMemoryMb?: number;
}

export const DEFAULT_WORKER_MEMORY_MB = 1024;

/** How long a fresh thread may take to build the tokenizer before it counts as hung. */
const STARTUP_MS = 60_000;

const WORKER_URL = new URL('./tokenizer-worker.mjs', import.meta.url);

type Request =
  | { op: 'template'; messages: ChatMessage[]; addGenerationPrompt: boolean }
  | { op: 'encode'; text: string; addSpecialTokens: boolean };

type Reply = { text: string } | { tooLong: number } | { ids: number[] } | { error: string };

/** How a call ended when no reply came: its time ran out, or the thread died (out of memory, crash). */
type Stop = { kind: 'timeout' } | { kind: 'died'; outOfMemory: boolean; message: string };

class StoppedCall extends Error {
  constructor(readonly stop: Stop) {
    super(stop.kind === 'timeout' ? 'timed out' : stop.message);
  }
}

/** One worker thread holding the tokenizer; it serves one request at a time. */
class TokenizerThread {
  private readonly worker: Worker;
  private readonly ready: Promise<void>;
  private waiting: ((reply: Reply | StoppedCall) => void) | null = null;
  dead = false;

  constructor(files: { tokenizerJson: unknown; tokenizerConfig: unknown }, templateChars: number, memoryMb: number) {
    this.worker = new Worker(WORKER_URL, {
      workerData: { ...files, templateChars },
      resourceLimits: { maxOldGenerationSizeMb: memoryMb },
    });
    // Idle threads must not keep the process alive; request() holds a reference while it waits.
    this.worker.unref();
    this.ready = new Promise<void>((resolve, reject) => {
      this.started = (err) => (err ? reject(err) : resolve());
    });
    this.ready.catch(() => {}); // seen by request(); never an unhandled rejection

    this.worker.on('message', (m: Reply | { ready: true } | { loadError: string }) => {
      if ('ready' in m) this.started();
      else if ('loadError' in m) this.stop({ kind: 'died', outOfMemory: false, message: `the tokenizer could not be built: ${m.loadError}` });
      else this.settle(m);
    });
    this.worker.on('error', (err: Error & { code?: string }) =>
      this.stop({ kind: 'died', outOfMemory: err.code === 'ERR_WORKER_OUT_OF_MEMORY', message: err.message }),
    );
    this.worker.on('exit', (code) => this.stop({ kind: 'died', outOfMemory: false, message: `the tokenizer thread exited (code ${code})` }));
  }

  /** Settles `ready` (once; later calls do nothing). */
  private started: (err?: Error) => void = () => {};

  private settle(reply: Reply | StoppedCall): void {
    const w = this.waiting;
    this.waiting = null;
    w?.(reply);
  }

  /** The thread is done for: whoever waits (to start, or for a reply) ends with `stop`. */
  private stop(stop: Stop): void {
    this.dead = true;
    const err = new StoppedCall(stop);
    this.started(err);
    this.settle(err);
  }

  /** Terminate the thread; a call waiting on it ends with `stop`. */
  kill(stop: Stop): void {
    this.stop(stop);
    void this.worker.terminate();
  }

  async request(req: Request, ms: number): Promise<Reply> {
    this.worker.ref();
    try {
      await withTimeout(this.ready, STARTUP_MS, () => this.kill({ kind: 'died', outOfMemory: false, message: `the tokenizer thread did not start within ${STARTUP_MS} ms` }));
      const reply = await new Promise<Reply | StoppedCall>((resolve) => {
        const timer = setTimeout(() => this.kill({ kind: 'timeout' }), ms);
        this.waiting = (r) => {
          clearTimeout(timer);
          resolve(r);
        };
        this.worker.postMessage(req);
      });
      if (reply instanceof StoppedCall) throw reply;
      return reply;
    } finally {
      if (!this.dead) this.worker.unref();
    }
  }
}

/** `p`, unless `ms` pass first: then `onTimeout` runs (and must make `p` settle). */
async function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => void): Promise<T> {
  const timer = setTimeout(onTimeout, ms);
  try {
    return await p;
  } finally {
    clearTimeout(timer);
  }
}

class WorkerTokenizer extends LocalTokenizer {
  private thread: TokenizerThread | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private disposed = false;

  constructor(
    tok: ConstructorParameters<typeof LocalTokenizer>[0],
    limits: TokenizerLimits,
    private readonly files: { tokenizerJson: unknown; tokenizerConfig: unknown },
    private readonly memoryMb: number,
  ) {
    super(tok, limits);
  }

  override async applyChatTemplate(messages: ChatMessage[], opts: { addGenerationPrompt: boolean }): Promise<string> {
    this.checkTemplate();
    const reply = await this.call({ op: 'template', messages, addGenerationPrompt: opts.addGenerationPrompt }, this.limits.templateMs, {
      file: TOKENIZER_CONFIG,
      what: 'rendering the chat_template',
      timeout: () => templateTimeout(this.limits),
      failed: templateFailed,
    });
    return renderedText(reply as { text: string } | { tooLong: number }, this.limits);
  }

  override async encode(text: string, opts: { addSpecialTokens?: boolean } = {}): Promise<number[]> {
    const reply = await this.call({ op: 'encode', text, addSpecialTokens: opts.addSpecialTokens ?? true }, this.limits.encodeMs, {
      file: TOKENIZER_JSON,
      what: `encoding ${text.length} characters`,
      timeout: () => encodeTimeout(text.length, this.limits),
      failed: encodeFailed,
    });
    return (reply as { ids: number[] }).ids;
  }

  override async dispose(): Promise<void> {
    this.disposed = true;
    const t = this.thread;
    this.thread = null;
    t?.kill({ kind: 'died', outOfMemory: false, message: 'the tokenizer was disposed' });
  }

  /** Calls run one after another, so each one's time limit measures only its own work. */
  private call(
    req: Request,
    ms: number,
    errors: { file: string; what: string; timeout(): ModelFormatError; failed(message: string): ModelFormatError },
  ): Promise<Reply> {
    const run = async (): Promise<Reply> => {
      if (this.disposed) throw new Error('this tokenizer was disposed');
      const thread = (this.thread ??= new TokenizerThread(this.files, this.limits.templateChars, this.memoryMb));
      let reply: Reply;
      try {
        reply = await thread.request(req, ms);
      } catch (e) {
        if (this.thread === thread && thread.dead) this.thread = null;
        if (!(e instanceof StoppedCall)) throw e;
        if (e.stop.kind === 'timeout') throw errors.timeout();
        if (e.stop.outOfMemory) {
          throw new ModelFormatError(errors.file, `${errors.what} ran out of memory (the tokenizer thread's limit is ${this.memoryMb} MB, workerMemoryMb)`);
        }
        throw new ModelFormatError(errors.file, `${errors.what} failed: ${e.message}`);
      }
      if ('error' in reply) throw errors.failed(reply.error);
      return reply;
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => {});
    return result;
  }
}

/**
 * Validate the files and build a TextTokenizer whose template rendering and encoding run in a
 * worker thread under the time limits. The thread starts on first use and is replaced after a
 * call is stopped; call dispose() when done (an idle thread does not keep the process alive).
 */
export async function loadTokenizerInWorker(
  tokenizerJson: unknown,
  tokenizerConfig: unknown,
  opts: WorkerTokenizerOptions = {},
): Promise<TextTokenizer> {
  const limits = resolveLimits(opts.limits);
  const { tok, config } = buildTransformersTokenizer(tokenizerJson, tokenizerConfig, opts.vocabSize);
  const memoryMb = opts.workerMemoryMb ?? DEFAULT_WORKER_MEMORY_MB;
  return new WorkerTokenizer(tok, limits, { tokenizerJson, tokenizerConfig: config }, memoryMb);
}
