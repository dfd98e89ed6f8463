/**
 * onnxruntime-node (CPU) backend, used by the CLI, the tests and the Node benchmarks.
 */
import * as ortNode from 'onnxruntime-node';
import type { EngineBackend, OrtModule } from './ort-types';

export function nodeCpuBackend(opts: { threads?: number; weightDtype?: 'float32' | 'float16'; constantWeights?: boolean; staticKv?: boolean } = {}): EngineBackend {
  const ort = ortNode as unknown as OrtModule;
  return {
    ort,
    name: 'node-cpu',
    sessionOptions: {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      ...(opts.threads ? { intraOpNumThreads: opts.threads } : {}),
    },
    uploadWeight: (_name, dims, data) => (data instanceof Uint16Array ? new ort.Tensor('float16', data, dims) : new ort.Tensor('float32', data, dims)),
    weightDtype: opts.weightDtype ?? 'float32',
    constantWeights: opts.constantWeights ?? false,
    staticKv: opts.staticKv ?? true,
    keepKvOnDevice: false,
  };
}
