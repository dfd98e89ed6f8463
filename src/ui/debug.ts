/**
 * A handle on the running app for tests, benchmarks and the browser console (development
 * builds only): send a request through the session, read the stores, and fail the engine on
 * purpose to see the recovery work.
 */
import { recoverEngine } from './recovery';
import { useRun } from './run/store';
import { useSelection } from './run/selection';
import { session } from './session';
import { useSetup } from './setup/store';
import { useLab } from './store';

export function installDebugHandle(): void {
  if (!import.meta.env.DEV) return;
  (window as unknown as { __pmdLab: unknown }).__pmdLab = {
    request: (req: Parameters<typeof session.request>[0]) => session.request(req),
    lab: () => useLab.getState(),
    run: () => useRun.getState(),
    setup: () => useSetup.getState(),
    selection: () => useSelection.getState(),
    /** As if the worker had failed with `raw` (the worker is terminated first). */
    failEngine: (raw = 'the GPU device was lost (simulated)') => {
      session.reset(raw);
      return recoverEngine(raw);
    },
  };
}
