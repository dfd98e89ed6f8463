/** How PMD Lab launches Debian's Chromium for tests and benchmarks (see DEVELOPERS.md). */

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Keep the browser quiet and offline-friendly (no update/sync/QUIC traffic, no first-run UI). */
export const BASE_ARGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'];

/** WebGPU through SwiftShader's Vulkan implementation: works headless, without a GPU. */
export const WEBGPU_ARGS = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-webgpu-adapter=swiftshader'];
