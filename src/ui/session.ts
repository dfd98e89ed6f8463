/**
 * The page's one session with the engine worker: it creates the worker client once, and knows
 * what the worker is busy with, so panels never start two long jobs at once (a load, a
 * generation, training, a PMD run advancing). Controllers reach the worker only through it.
 *
 * When the worker fails (an uncaught error, a lost GPU device) the session hands the message to
 * the failure handler (ui/recovery.ts), which restarts the engine and resumes; `reset` drops the
 * old worker so the next request starts a fresh one.
 */
import { create } from 'zustand';
import { EngineClient, type FinalEvent } from '../worker/client';
import type { EngineEvent, EngineRequest } from '../worker/protocol';

export type Activity = 'loading' | 'generating' | 'training' | 'exporting' | 'running' | 'preparing';

/** The session's live state, for components to render. */
export const useSession = create<{ activity: Activity | null }>(() => ({ activity: null }));

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

class LabSession {
  private client: EngineClient | null = null;
  private failureHandler: ((message: string) => void) | null = null;
  /** Bumped by reset: activities of an abandoned worker must not clear the new one's state. */
  private generation = 0;

  /** The worker client, created on first use. */
  connect(): EngineClient {
    if (!this.client) {
      const client = EngineClient.create();
      client.onFailure = (message) => {
        if (this.client === client) this.failureHandler?.(message);
      };
      this.client = client;
    }
    return this.client;
  }

  get connected(): boolean {
    return this.client !== null;
  }

  /** Who hears about a failed worker (set once by the recovery module). */
  onFailure(handler: (message: string) => void): void {
    this.failureHandler = handler;
  }

  /** Give up on the current worker: pending requests fail with `why`; the next request starts a new worker. */
  reset(why: string): void {
    const c = this.client;
    this.client = null;
    this.generation++;
    c?.abandon(why);
    useSession.setState({ activity: null });
  }

  busy(): boolean {
    return useSession.getState().activity !== null;
  }

  /** One request, outside any activity (init, adapter choice, export for a download). */
  request<T extends FinalEvent>(req: WithoutId<EngineRequest>, onEvent?: (e: EngineEvent) => void): Promise<T> {
    return this.connect().request<T>(req, onEvent);
  }

  /**
   * Run `fn` as the session's one activity; returns null without running it when the worker is
   * already busy with something else.
   */
  async exclusive<T>(activity: Activity, fn: () => Promise<T>): Promise<T | null> {
    if (this.busy()) return null;
    const gen = this.generation;
    useSession.setState({ activity });
    try {
      return await fn();
    } finally {
      if (gen === this.generation) useSession.setState({ activity: null });
    }
  }

  /** Ask the worker to stop the running generation, training or run (after its current piece of work). */
  async stop(): Promise<void> {
    if (!this.client) return;
    try {
      await this.client.request({ type: 'stop' });
    } catch {
      // the running request's own promise reports any failure
    }
  }
}

export const session = new LabSession();
