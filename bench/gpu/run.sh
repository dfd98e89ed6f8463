#!/usr/bin/env bash
# Engine and training benchmarks on a lent GPU machine (see bench/gpu/gpu-bench.ts).
# Needs: this checkout with node_modules installed (npm ci), Debian's chromium, and a Vulkan
# driver for the GPU (NVIDIA: the driver's Vulkan ICD). Usage:
#   bench/gpu/run.sh [gpu-bench.ts flags]            # the GPU (BENCH_GPU=hardware)
#   BENCH_GPU=swiftshader bench/gpu/run.sh --layers 1 --prompt 8 --new 3 --batches 1 --train-seq 16
set -euo pipefail
cd "$(dirname "$0")/../.."
export BENCH_GPU="${BENCH_GPU:-hardware}"
missing=()
command -v node >/dev/null || missing+=("node (20+)")
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || missing+=("chromium (apt-get install chromium)")
[ -d node_modules/onnxruntime-web ] || missing+=("node_modules (npm ci)")
if [ "$BENCH_GPU" = hardware ]; then
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
  ls /usr/share/vulkan/icd.d/ /etc/vulkan/icd.d/ 2>/dev/null | grep -qi . || missing+=("a Vulkan ICD for the GPU")
fi
if [ ${#missing[@]} -gt 0 ]; then
  printf 'missing: %s\n' "${missing[@]}" >&2
  exit 2
fi
[ -f public/ort/ort-wasm-simd-threaded.asyncify.wasm ] || npx tsx scripts/prepare-assets.ts
exec npx tsx bench/gpu/gpu-bench.ts "$@"
