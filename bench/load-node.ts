/**
 * Opening a model folder in Node (`pmd-lab`'s first step for every command): the Qwen3-0.6B
 * shape with seeded random weights as a bf16 safetensors checkpoint, read and widened to fp32
 * (2.4 GB). Usage:
 *   npx tsx bench/load-node.ts [--model bench/out/models/qwen3-0.6b-random] [--out bench/out/load-node.json]
 * A missing bench model is written first, by a separate process, so the measured process starts
 * with nothing of it in memory (the file itself is then in the OS page cache, as for any re-run).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Args } from '../src/cli/args';
import { openNodeCheckpoint } from '../src/cli/node-model';
import { ensureQwen3Checkpoint } from './checkpoints';
import { loadAvg, machineLine, procStatusMiB } from './proc';

async function main() {
  const args = new Args(process.argv.slice(2), []);
  const model = args.string('model') ?? 'bench/out/models/qwen3-0.6b-random';
  const outFile = args.string('out') ?? 'bench/out/load-node.json';
  args.rejectUnknown();
  if (!existsSync(path.join(model, 'config.json'))) {
    await ensureQwen3Checkpoint(model, 28, true);
    const again = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
    process.exit(again.status ?? 1);
  }
  const loadBefore = loadAvg();
  const t0 = performance.now();
  const c = await openNodeCheckpoint(model);
  const openS = (performance.now() - t0) / 1000;
  let bytes = 0;
  for (const t of c.weights.values()) bytes += t.data.byteLength;
  const result = {
    bench: 'load-node',
    date: new Date().toISOString(),
    machine: machineLine(),
    node: process.version,
    model,
    tensors: c.weights.size,
    fp32GiB: bytes / 2 ** 30,
    openS,
    peakRssMiB: procStatusMiB('VmHWM'),
    loadBefore,
    loadAfter: loadAvg(),
  };
  await mkdir(path.dirname(outFile), { recursive: true });
  await writeFile(outFile, JSON.stringify(result, null, 2));
  console.log(`open ${model}: ${openS.toFixed(2)} s for ${result.tensors} tensors (${result.fp32GiB.toFixed(2)} GiB fp32), peak RSS ${result.peakRssMiB.toFixed(0)} MiB, load ${loadBefore[0]} -> ${result.loadAfter[0]}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
