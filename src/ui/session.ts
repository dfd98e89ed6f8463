/**
 * The page's one session with the engine worker: it creates the worker client once, and knows
 * what the worker is busy with, so panels never start two long jobs at once (a load, a
 * generation, training). Controllers reach the worker only through it.
 */
import { create } from 'zustand';
import { EngineClient, type FinalEvent } from '../worker/client';
import type { EngineEvent, EngineRequest } from '../worker/protocol';

export type Activity = 'loading' | 'generating' | 'training' | 'exporting';

/** The session's live state, for components to render. */
export const useSession = create<{ activity: Activity | null }>(() => ({ activity: null }));

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

class LabSession {
  private client: EngineClient | null = null;

  /** The worker client, created on first use. */
  connect(): EngineClient {
    this.client ??= EngineClient.create();
    return this.client;
  }

  get connected(): boolean {
    return this.client !== null;
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
    useSession.setState({ activity });
    try {
      return await fn();
    } finally {
      useSession.setState({ activity: null });
    }
  }

  /** Ask the worker to stop the running generation or training (after its current step). */
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
