/// <reference lib="webworker" />
/**
 * The engine worker: owns onnxruntime-web (WebGPU, or wasm as the fallback), the model and its
 * device buffers. The UI talks to it only through the messages in protocol.ts.
 */
import { initOrtWeb, webEngineBackend } from '../engine/runtime/ort-web';
import { createBrowserSandbox } from '../pmd/sandbox/browser-host';
import '../pmd/world/register';
import { IdbRunLibrary } from '../store/idb-run-store';
import { EngineHost } from './engine-host';
import type { EngineEvent, EngineRequest } from './protocol';

const scope = self as unknown as DedicatedWorkerGlobalScope;

const host = new EngineHost(
  {
    async init(preferWebGpu) {
      const rt = await initOrtWeb({ preferWebGpu });
      const backend = await webEngineBackend(rt);
      return {
        backend,
        info: {
          backend: rt.backend,
          adapterInfo: rt.adapterInfo,
          shaderF16: rt.shaderF16,
          maxStorageBindingBytes: rt.maxStorageBindingBytes,
          fallbackReason: rt.fallbackReason,
        },
      };
    },
    runs: {
      library: () => IdbRunLibrary.open(),
      sandbox: async () => createBrowserSandbox(),
      fetch: (url, init) => fetch(url, init),
    },
  },
  (e: EngineEvent) => {
    if (e.type === 'logits') {
      const buffers = e.logits.flatMap((s) => s.map((row) => row.buffer as ArrayBuffer));
      scope.postMessage(e, buffers);
    } else scope.postMessage(e);
  },
);

scope.onmessage = (ev: MessageEvent<EngineRequest>) => {
  void host.handle(ev.data);
};
