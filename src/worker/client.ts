/**
 * UI-side handle on the engine worker: each request returns a promise for its final event, and
 * intermediate events (progress, streamed tokens) go to the listener given with the request.
 */
import type { EngineEvent, EngineRequest } from './protocol';

/** Events that end a request; the rest (progress, tokens, per-step training logs) stream to its listener. */
const INTERMEDIATE_TYPES = ['progress', 'token', 'stage', 'train-progress', 'train-log', 'run-progress', 'run-transition'] as const;
const INTERMEDIATE = new Set<EngineEvent['type']>(INTERMEDIATE_TYPES);
export type FinalEvent = Exclude<EngineEvent, { type: (typeof INTERMEDIATE_TYPES)[number] | 'error' }>;
type Pending = { resolve: (e: FinalEvent) => void; reject: (e: Error) => void; onEvent?: (e: EngineEvent) => void };

/** Omit that distributes over a union, so each request keeps its own fields. */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

export class EngineClient {
  private nextId = 1;
  private pending = new Map<number, Pending>();
  /** Told when the worker fails (an error nothing in it caught), after pending requests are rejected. */
  onFailure: ((message: string) => void) | null = null;

  constructor(private readonly worker: Worker) {
    worker.onmessage = (ev: MessageEvent<EngineEvent>) => this.dispatch(ev.data);
    worker.onerror = (ev) => {
      const err = new Error(`engine worker failed: ${ev.message || 'unknown error'}`);
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
      this.onFailure?.(ev.message || 'unknown error');
    };
  }

  static create(): EngineClient {
    return new EngineClient(new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module' }));
  }

  request<T extends FinalEvent>(req: WithoutId<EngineRequest>, onEvent?: (e: EngineEvent) => void): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (e: FinalEvent) => void, reject, onEvent });
      this.worker.postMessage({ ...req, id } as EngineRequest);
    });
  }

  private dispatch(e: EngineEvent): void {
    const p = this.pending.get(e.id);
    if (!p) return;
    if (e.type === 'error') {
      this.pending.delete(e.id);
      p.reject(new Error(e.message));
    } else if (INTERMEDIATE.has(e.type)) {
      p.onEvent?.(e);
    } else {
      this.pending.delete(e.id);
      p.resolve(e as FinalEvent);
    }
  }

  terminate(): void {
    this.worker.terminate();
  }

  /** Terminate the worker and reject what was pending with `message` (a worker given up on). */
  abandon(message: string): void {
    this.worker.terminate();
    const err = new Error(message);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}
