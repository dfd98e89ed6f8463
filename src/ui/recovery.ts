/**
 * When the engine worker fails (an uncaught error in it, a lost GPU device), say what happened
 * in plain words, start a new worker with the same backend choice, reload the model that was
 * loaded, and reopen the run at its last persisted transition (run/controller.ts does that on
 * every model load). Nothing the run saved is lost; what was in flight is computed again.
 */
import { restartEngine } from './model/controller';
import { refreshRuns, reopenedRun } from './run/controller';
import { useRun } from './run/store';
import { session } from './session';
import { useLab } from './store';

/** What a worker failure means, for a researcher. */
export function describeFailure(raw: string): string {
  if (/device (was |is )?lost|GPUDevice.*lost|DEVICE_LOST|DXGI_ERROR_DEVICE/i.test(raw)) {
    return 'The GPU device was lost: the graphics driver reset, the browser took the GPU back, or the computer slept. The model weights and working buffers on it are gone.';
  }
  if (/out of memory|\bOOM\b|allocation failed|Array buffer allocation|Cannot enlarge memory/i.test(raw)) {
    return 'The engine ran out of memory. A smaller model, fewer rollouts per step (B × G) or shorter responses need less.';
  }
  if (/RuntimeError|Aborted\(|unreachable|memory access out of bounds/i.test(raw)) {
    return 'The engine’s WebAssembly runtime crashed.';
  }
  return 'The engine worker stopped unexpectedly.';
}

let recovering = false;

export async function recoverEngine(raw: string): Promise<void> {
  if (recovering) return;
  recovering = true;
  const lab = useLab.getState();
  const source = lab.model?.source ?? lab.lastLoaded;
  const wasRunning = useRun.getState().advancing !== null;
  useLab.setState({ failure: { message: describeFailure(raw), detail: raw, status: 'recovering', outcome: null } });
  useRun.setState({ advancing: null, pausing: false, progress: null, busy: null });
  try {
    const model = await restartEngine(`the engine worker failed: ${raw}`, source);
    await refreshRuns();
    const run = model ? await reopenedRun() : null;
    const outcome = !model
      ? 'A new engine started, but the model could not be reloaded by itself: load it again on the left.'
      : `A new engine started and reloaded ${model}.${run ? ` The run was reopened at its last saved transition (${run})${wasRunning ? '; press Run to go on' : ''}.` : ''}`;
    useLab.setState((s) => ({ failure: s.failure && { ...s.failure, status: model ? 'recovered' : 'failed', outcome } }));
  } catch (e) {
    useLab.setState((s) => ({ failure: s.failure && { ...s.failure, status: 'failed', outcome: `Restarting failed too: ${e instanceof Error ? e.message : String(e)}. Reload the page.` } }));
  } finally {
    recovering = false;
  }
}

session.onFailure((raw) => void recoverEngine(raw));
