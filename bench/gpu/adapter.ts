/**
 * Which WebGPU adapter the Chromium benchmarks ask for. Default: SwiftShader (CPU Vulkan, what
 * CI has). `BENCH_GPU=hardware` asks for the machine's GPU through Vulkan instead (for a lent
 * GPU machine: an NVIDIA driver with Vulkan, and Debian's chromium).
 */
import { WEBGPU_ARGS } from '../../e2e/chromium';

export const HARDWARE_WEBGPU_ARGS = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=native', '--ignore-gpu-blocklist', '--disable-vulkan-surface', '--use-angle=vulkan'];

export function webgpuArgs(): string[] {
  return process.env.BENCH_GPU === 'hardware' ? HARDWARE_WEBGPU_ARGS : WEBGPU_ARGS;
}
