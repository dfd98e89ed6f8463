/**
 * `npm run bench`: every benchmark once, one after another, at small sizes that finish in a
 * few minutes on a 2-core machine without a GPU (a smoke run of the scripts, not the numbers in
 * docs/benchmarks.md). Usage:
 *   npx tsx bench/run-all.ts [--only engine-node,engine-webgpu,train-node,train-webgpu,verify-throughput]
 * Each script prints its markdown table and writes its JSON into bench/out/ (the quick runs
 * overwrite the JSON of earlier full-size runs). The browser benches need Debian's chromium
 * and mesa-vulkan-drivers (see DEVELOPERS.md).
 *
 * The full-size runs recorded in docs/benchmarks.md (one at a time, on a quiet machine):
 *   npx tsx bench/engine-node.ts   --layers 28 --prompt 128 --new 16 --batches 1,8
 *   npx tsx bench/engine-webgpu.ts --layers 28 --prompt 16 --new 3 --batches 1,8 --backend webgpu
 *   npx tsx bench/engine-webgpu.ts --layers 28 --prompt 16 --new 3 --batches 1,8 --backend wasm
 *   npx tsx bench/train-node.ts    --layers 28 --batch 8 --seq 512 --micro 1,2,4 --steps 2 --loss ce
 *   npx tsx bench/train-webgpu.ts  (sizes as recorded in docs/benchmarks.md: the full
 *                                   setting, 28 layers x 8 x 512, takes hours on SwiftShader)
 *   npx tsx bench/verify-throughput.ts --rounds 200
 */
import { spawn } from 'node:child_process';
import { Args } from '../src/cli/args';

const QUICK: Record<string, string[]> = {
  'engine-node': ['bench/engine-node.ts', '--layers', '2', '--prompt', '32', '--new', '4', '--batches', '1,2'],
  'engine-webgpu': ['bench/engine-webgpu.ts', '--layers', '2', '--prompt', '8', '--new', '3', '--batches', '1'],
  'train-node': ['bench/train-node.ts', '--layers', '2', '--batch', '2', '--seq', '64', '--micro', '1,2', '--steps', '2'],
  'train-webgpu': ['bench/train-webgpu.ts', '--layers', '1', '--batch', '1', '--seq', '16', '--micro', '1', '--steps', '1'],
  'verify-throughput': ['bench/verify-throughput.ts', '--rounds', '20'],
};

function run(argv: string[]): Promise<number> {
  return new Promise((resolve) => {
    // Same Node and the same tsx loader flags as this process.
    const child = spawn(process.execPath, [...process.execArgv, ...argv], { stdio: 'inherit' });
    child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function main() {
  const args = new Args(process.argv.slice(2));
  const only = args.string('only')?.split(',') ?? Object.keys(QUICK);
  args.rejectUnknown();
  const unknown = only.filter((n) => !QUICK[n]);
  if (unknown.length) throw new Error(`--only: unknown bench ${unknown.join(', ')}; known: ${Object.keys(QUICK).join(', ')}`);
  const failed: string[] = [];
  for (const name of only) {
    console.log(`\n## ${name}: npx tsx ${QUICK[name].join(' ')}\n`);
    const t0 = performance.now();
    const code = await run(QUICK[name]);
    console.log(`\n(${name}: ${((performance.now() - t0) / 1000).toFixed(0)} s, exit code ${code})`);
    if (code !== 0) failed.push(name);
  }
  if (failed.length) {
    console.error(`failed: ${failed.join(', ')}`);
    process.exit(1);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
