/**
 * GPU buffers made by hand and wrapped as ORT input tensors (`Tensor.fromGpuBuffer`), for the
 * op smoke test only: the engine uploads weights through ORT's own allocator instead (see
 * DEVELOPERS.md), because buffers created this way were rejected by the decoder sessions.
 */
import type { Tensor } from 'onnxruntime-web';
import type { OrtWeb } from '../../src/engine/runtime/ort-web';

// GPUBufferUsage / GPUMapMode values (not every TypeScript DOM lib declares the constants).
const USAGE_MAP_READ = 0x0001;
const USAGE_COPY_SRC = 0x0004;
const USAGE_COPY_DST = 0x0008;
const USAGE_STORAGE = 0x0080;
const MAP_MODE_READ = 0x0001;

type GpuDType = 'float32' | 'int32' | 'int64' | 'uint8' | 'float16';
type GpuData = Float32Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array;

/**
 * Upload host data into a new GPUBuffer on ORT's device and wrap it as an input tensor. The
 * tensor owns the buffer: tensor.dispose() destroys it. Keep it alive across runs to avoid
 * re-uploading (e.g. for weights).
 */
export function createGpuTensor(ort: OrtWeb, device: GPUDevice, dataType: GpuDType, data: GpuData, dims: readonly number[]): Tensor {
  const size = Math.max(16, Math.ceil(data.byteLength / 16) * 16);
  const buffer = device.createBuffer({ size, usage: USAGE_STORAGE | USAGE_COPY_SRC | USAGE_COPY_DST, mappedAtCreation: true });
  new Uint8Array(buffer.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  buffer.unmap();
  const byteLength = data.byteLength;
  return ort.Tensor.fromGpuBuffer(buffer, {
    dataType,
    dims,
    download: async () => {
      const bytes = await readGpuBuffer(device, buffer, byteLength);
      return typedFromBytes(dataType, bytes) as never;
    },
    dispose: () => buffer.destroy(),
  });
}

/** Copy the first byteLength bytes of a GPUBuffer (with COPY_SRC usage) back to the host. */
export async function readGpuBuffer(device: GPUDevice, buffer: GPUBuffer, byteLength: number): Promise<ArrayBuffer> {
  const size = Math.ceil(byteLength / 16) * 16;
  const staging = device.createBuffer({ size, usage: USAGE_MAP_READ | USAGE_COPY_DST });
  try {
    const enc = device.createCommandEncoder();
    enc.copyBufferToBuffer(buffer, 0, staging, 0, size);
    device.queue.submit([enc.finish()]);
    await staging.mapAsync(MAP_MODE_READ);
    return staging.getMappedRange().slice(0, byteLength);
  } finally {
    staging.destroy();
  }
}

function typedFromBytes(dataType: GpuDType, bytes: ArrayBuffer): GpuData {
  switch (dataType) {
    case 'float32':
      return new Float32Array(bytes);
    case 'int32':
      return new Int32Array(bytes);
    case 'int64':
      return new BigInt64Array(bytes);
    case 'uint8':
      return new Uint8Array(bytes);
    case 'float16':
      return new Uint16Array(bytes);
  }
}
