/**
 * Benchmark page: exposes `window.__trainBench.run(params)` to Playwright. Each call starts a
 * fresh worker (bench/pages/train.worker.ts) that builds the model and trainer and runs one
 * setting; its progress lines go to the console (bench/train-webgpu.ts prints them).
 */
import type { TrainRunParams, TrainRunResult, TrainWorkerMessage } from './train.worker';

const status = document.getElementById('status')!;

const api = {
  run(params: TrainRunParams): Promise<TrainRunResult> {
    const worker = new Worker(new URL('./train.worker.ts', import.meta.url), { type: 'module' });
    return new Promise<TrainRunResult>((resolve, reject) => {
      worker.onmessage = (ev: MessageEvent<TrainWorkerMessage>) => {
        const m = ev.data;
        if (m.type === 'log') {
          console.log(m.text);
          status.textContent = m.text;
        } else {
          worker.terminate();
          if (m.type === 'result') resolve(m.result);
          else reject(new Error(m.message));
        }
      };
      worker.onerror = (e) => {
        worker.terminate();
        reject(new Error(`worker error: ${e.message}`));
      };
      worker.postMessage(params);
    });
  },
};

declare global {
  interface Window {
    __trainBench?: typeof api;
  }
}
window.__trainBench = api;
status.textContent = 'ready';
