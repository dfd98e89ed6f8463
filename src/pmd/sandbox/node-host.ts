/**
 * The Node sandbox host (Node only): the shared SandboxHost over a worker_threads worker with
 * V8 resource limits. The worker's own console output is drained, never shown.
 */
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { SandboxHost, type SandboxHostOptions } from './host';

export interface NodeSandboxOptions extends SandboxHostOptions {
  /** V8 limits of the worker's JavaScript heap (the interpreters' heaps are capped separately). */
  resourceLimits?: ResourceLimits;
}

export const DEFAULT_RESOURCE_LIMITS: ResourceLimits = { maxOldGenerationSizeMb: 512, maxYoungGenerationSizeMb: 64, stackSizeMb: 8 };

export function createNodeSandbox(opts: NodeSandboxOptions = {}): SandboxHost {
  return new SandboxHost((events) => {
    const worker = new Worker(new URL('./node-worker.mjs', import.meta.url), {
      execArgv: [],
      resourceLimits: { ...DEFAULT_RESOURCE_LIMITS, ...opts.resourceLimits },
      stdout: true,
      stderr: true,
    });
    worker.stdout.resume();
    worker.stderr.resume();
    worker.unref();
    worker.on('message', events.message);
    worker.on('error', (e: Error & { code?: string }) => events.exit(e.message, e.code === 'ERR_WORKER_OUT_OF_MEMORY'));
    worker.on('exit', (code) => events.exit(`exited with code ${code}`, false));
    return { post: (m) => worker.postMessage(m), terminate: () => void worker.terminate() };
  }, opts);
}
