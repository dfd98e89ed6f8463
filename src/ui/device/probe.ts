/**
 * What the page can see of WebGPU before the engine starts, and which backend to ask the worker
 * for. The choice follows speed, not availability: a software adapter (SwiftShader, llvmpipe,
 * WARP) runs WebGPU kernels on the CPU, which on this project's decoder was 15 times slower
 * than the wasm backend (2.6 against 40 tokens per second), so "auto" prefers wasm there. The
 * user can force either backend in the settings or with ?backend=webgpu|wasm in the URL.
 */
export type BackendPref = 'auto' | 'webgpu' | 'wasm';
export const BACKEND_PREFS: readonly BackendPref[] = ['auto', 'webgpu', 'wasm'];

export interface AdapterReport {
  found: boolean;
  /** "vendor / architecture (device description)", or why there is none. */
  name: string;
  /** Runs on the CPU (a fallback or known software adapter). */
  software: boolean;
  shaderF16: boolean;
  limits: { maxBufferSize: number; maxStorageBufferBindingSize: number; maxComputeWorkgroupStorageSize: number; maxComputeInvocationsPerWorkgroup: number };
}

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|basic render|\bwarp\b|software/i;

type InfoLike = { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };

export async function probeAdapter(): Promise<AdapterReport> {
  const none = (name: string): AdapterReport => ({
    found: false,
    name,
    software: false,
    shaderF16: false,
    limits: { maxBufferSize: 0, maxStorageBufferBindingSize: 0, maxComputeWorkgroupStorageSize: 0, maxComputeInvocationsPerWorkgroup: 0 },
  });
  if (typeof navigator === 'undefined' || !('gpu' in navigator) || !navigator.gpu) return none('this browser has no navigator.gpu (WebGPU is off or unsupported)');
  let adapter: GPUAdapter | null;
  try {
    adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    return none(`requestAdapter() failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!adapter) return none('navigator.gpu.requestAdapter() found no WebGPU adapter');
  const info = ((adapter as GPUAdapter & { info?: InfoLike }).info ?? {}) as InfoLike;
  const head = [info.vendor, info.architecture].filter(Boolean).join(' / ') || 'unknown adapter';
  const tail = [info.device, info.description].filter(Boolean).join(' ');
  const name = tail ? `${head} (${tail})` : head;
  const fallback = Boolean(info.isFallbackAdapter ?? (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter);
  const l = adapter.limits;
  return {
    found: true,
    name,
    software: fallback || SOFTWARE.test(`${name}`),
    shaderF16: adapter.features.has('shader-f16'),
    limits: {
      maxBufferSize: Number(l.maxBufferSize),
      maxStorageBufferBindingSize: Number(l.maxStorageBufferBindingSize),
      maxComputeWorkgroupStorageSize: Number(l.maxComputeWorkgroupStorageSize),
      maxComputeInvocationsPerWorkgroup: Number(l.maxComputeInvocationsPerWorkgroup),
    },
  };
}

export interface BackendChoice {
  preferWebGpu: boolean;
  /** One or two sentences: what was chosen and why. */
  why: string;
}

export function chooseBackend(pref: BackendPref, report: AdapterReport): BackendChoice {
  if (pref === 'webgpu') {
    return { preferWebGpu: true, why: `WebGPU, as chosen in the settings${report.found && report.software ? ` (the adapter ${report.name} is a software renderer, so expect the CPU's speed or less)` : ''}.` };
  }
  if (pref === 'wasm') return { preferWebGpu: false, why: 'wasm on the CPU, as chosen in the settings.' };
  if (!report.found) return { preferWebGpu: false, why: `wasm on the CPU: no WebGPU adapter (${report.name}).` };
  if (report.software) {
    return {
      preferWebGpu: false,
      why: `wasm on the CPU: the only WebGPU adapter, ${report.name}, is a software renderer that runs GPU kernels on the CPU, slower than wasm (2.6 against 40 tokens per second measured on this project's decoder). Choose WebGPU to use it anyway.`,
    };
  }
  return { preferWebGpu: true, why: `WebGPU: ${report.name} is a hardware adapter, so the model runs on the GPU.` };
}

/** ?backend=auto|webgpu|wasm from the page URL, if given. */
export function backendFromUrl(search = typeof window === 'undefined' ? '' : window.location.search): BackendPref | null {
  const v = new URLSearchParams(search).get('backend');
  return (BACKEND_PREFS as readonly string[]).includes(v ?? '') ? (v as BackendPref) : null;
}
