/**
 * Whole `pmd-lab generate` processes, the measure the performance issue compared with Hugging
 * Face: start Node, open the model folder (bf16 safetensors of the Qwen3-0.6B shape), generate
 * 4 × 64-token prompts + 32 greedy tokens, write the result, exit. Several builds of pmd-lab (for
 * example a clean copy of an older commit, with node_modules linked) run alternately, round
 * after round, so they share the machine's drift; the tokens of every build are compared.
 *   npx tsx bench/generate-process.ts [--builds .,/tmp/before] [--rounds 3] [--model <dir>]
 *                                     [--batch 4] [--prompt 64] [--new-tokens 32] [--flags "--constant-weights"]
 *                                     [--out bench/out/generate-process.json]
 * Wall time is measured here; peak RSS comes from GNU time (/usr/bin/time) when installed.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Args } from '../src/cli/args';
import { ensureQwen3Checkpoint } from './checkpoints';
import { loadAvg, machineLine } from './proc';
import { qwen3_06bConfig } from './shapes';

interface ProcessRun {
  build: string;
  round: number;
  wallS: number;
  peakRssMiB: number | null;
  loadBefore: number;
  sameTokensAsFirstBuild: boolean;
}

const GNU_TIME = '/usr/bin/time';

function runOnce(build: string, cliArgs: string[], outFile: string): { wallS: number; peakRssMiB: number | null } {
  const bin = path.join(build, 'bin/pmd-lab.mjs');
  const timeFile = `${outFile}.time`;
  const useTime = existsSync(GNU_TIME);
  const [cmd, argv] = useTime ? [GNU_TIME, ['-f', '%M', '-o', timeFile, process.execPath, bin, ...cliArgs]] : [process.execPath, [bin, ...cliArgs]];
  const t0 = performance.now();
  const r = spawnSync(cmd, argv, { cwd: build, encoding: 'utf8', maxBuffer: 1 << 26 });
  const wallS = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${build}: pmd-lab generate failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const peakKiB = useTime ? Number(readFileSync(timeFile, 'utf8').trim().split('\n').pop()) : NaN;
  return { wallS, peakRssMiB: Number.isFinite(peakKiB) ? peakKiB / 1024 : null };
}

const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
const median = (a: number[]) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  const args = new Args(process.argv.slice(2), []);
  const builds = (args.string('builds') ?? '.').split(',').map((b) => path.resolve(b));
  const rounds = args.integer('rounds', 3, 1);
  const model = path.resolve(args.string('model') ?? 'bench/out/models/qwen3-0.6b-random');
  const batch = args.integer('batch', 4, 1);
  const promptLen = args.integer('prompt', 64, 1);
  const newTokens = args.integer('new-tokens', 32, 1);
  const flags = (args.string('flags') ?? '').split(/\s+/).filter(Boolean);
  const outFile = args.string('out') ?? 'bench/out/generate-process.json';
  args.rejectUnknown();
  if (!existsSync(path.join(model, 'config.json'))) await ensureQwen3Checkpoint(model, 28, true);

  const V = qwen3_06bConfig(28).vocabSize;
  const ids = Array.from({ length: batch }, (_, b) => Array.from({ length: promptLen }, (_, i) => 100 + ((i * 7919 + b * 104729) % (V - 100))).join(',')).join(';');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'generate-process-'));
  const runs: ProcessRun[] = [];
  try {
    for (let round = 1; round <= rounds; round++) {
      let firstIds: string | null = null;
      for (const build of builds) {
        const out = path.join(tmp, `r${round}-${runs.length}.json`);
        const loadBefore = loadAvg()[0];
        const { wallS, peakRssMiB } = runOnce(build, ['generate', '--model', model, '--ids', ids, '--max-new-tokens', String(newTokens), '--out', out, ...flags], out);
        const got = JSON.stringify((JSON.parse(readFileSync(out, 'utf8')) as { ids: number[][] }).ids);
        firstIds ??= got;
        runs.push({ build, round, wallS, peakRssMiB, loadBefore, sameTokensAsFirstBuild: got === firstIds });
        console.log(`round ${round} ${build}: ${wallS.toFixed(2)} s, peak ${peakRssMiB?.toFixed(0) ?? '?'} MiB, load ${loadBefore}${got === firstIds ? '' : ', TOKENS DIFFER from the first build'}`);
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const summary = builds.map((build) => {
    const walls = runs.filter((r) => r.build === build).map((r) => r.wallS);
    return { build, meanS: mean(walls), medianS: median(walls) };
  });
  for (const s of summary) {
    const base = summary[0];
    console.log(`${s.build}: mean ${s.meanS.toFixed(2)} s, median ${s.medianS.toFixed(2)} s${s === base ? '' : `; the first build takes ${(base.meanS / s.meanS).toFixed(2)}x (mean), ${(base.medianS / s.medianS).toFixed(2)}x (median) as long`}`);
  }
  const result = { bench: 'generate-process', date: new Date().toISOString(), machine: machineLine(), node: process.version, model, shape: { batch, promptLen, newTokens }, flags, runs, summary };
  await mkdir(path.dirname(outFile), { recursive: true });
  await writeFile(outFile, JSON.stringify(result, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
