import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { writeTinyCheckpoint } from '../../scripts/tiny-model';
import { loadCheckpoint } from '../../src/engine/models/checkpoint';
import { NodeFolderSource } from '../../src/engine/models/node-source';
import { exportPeftAdapter, importPeftAdapter } from '../../src/engine/lora/peft';
import type { LoadedCheckpoint } from '../../src/engine/models/checkpoint';
import type { LoraAdapter } from '../../src/engine/models/types';
import { referenceLogits } from '../reference/forward';
import { randomAdapter } from '../support/random-model';

const run = promisify(execFile);
const BIN = path.resolve('bin/pmd-lab.mjs');

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [BIN, ...args], { maxBuffer: 1 << 28 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

let dir: string;
let modelDir: string;
let adapterDir: string;
let ckpt: LoadedCheckpoint;
let adapter: LoraAdapter;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pmd-cli-'));
  modelDir = path.join(dir, 'model');
  // bf16 weights in two shards, transformers-v5 config layout: the least convenient format.
  await writeTinyCheckpoint(modelDir, { family: 'qwen3', seed: 4, dtype: 'BF16', shards: 2, layout: 'v5' });
  ckpt = await loadCheckpoint(new NodeFolderSource(modelDir));
  adapterDir = path.join(dir, 'adapter');
  await mkdir(adapterDir);
  const files = exportPeftAdapter(randomAdapter(ckpt.config, 3, ['q_proj', 'o_proj', 'up_proj'], 4, 16), 'tiny-qwen3');
  for (const [name, data] of Object.entries(files)) await writeFile(path.join(adapterDir, name), data);
  adapter = await importPeftAdapter(new NodeFolderSource(adapterDir), ckpt.config);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function argmax(row: ArrayLike<number>): number {
  let b = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[b]) b = i;
  return b;
}

describe('pmd-lab CLI', () => {
  it.each([false, true])('logits (adapter=%s) writes [sequence][position][vocab] matching the reference', async (withAdapter) => {
    const out = path.join(dir, `logits-${withAdapter}.json`);
    const args = ['logits', '--model', modelDir, '--ids', '5,17,200,33;9,8', '--out', out];
    if (withAdapter) args.push('--adapter', adapterDir);
    const r = await cli(args);
    expect(r.stderr).not.toContain('Error');
    expect(r.code).toBe(0);
    const { logits } = JSON.parse(await readFile(out, 'utf8')) as { logits: number[][][] };
    const seqs = [[5, 17, 200, 33], [9, 8]];
    expect(logits.map((s) => s.length)).toEqual([4, 2]);
    for (let i = 0; i < seqs.length; i++) {
      const ref = referenceLogits(ckpt.config, ckpt.weights, seqs[i], withAdapter ? adapter : null);
      for (let p = 0; p < seqs[i].length; p++) {
        expect(logits[i][p]).toHaveLength(ckpt.config.vocabSize);
        let m = 0;
        for (let v = 0; v < ckpt.config.vocabSize; v++) m = Math.max(m, Math.abs(logits[i][p][v] - ref[p][v]));
        expect(m).toBeLessThan(1e-4);
      }
    }
  });

  it.each([[[]], [['--constant-weights']]])('generate %s at temperature 0 writes exactly n greedy tokens per sequence', async (flags: string[]) => {
    const out = path.join(dir, 'gen.json');
    const r = await cli(['generate', '--model', modelDir, '--ids', '5,17,200;40', '--max-new-tokens', '5', '--temperature', '0', '--adapter', adapterDir, ...flags, '--out', out]);
    expect(r.code).toBe(0);
    const { ids } = JSON.parse(await readFile(out, 'utf8')) as { ids: number[][] };
    for (const [i, prompt] of [[5, 17, 200], [40]].entries()) {
      const seq = [...prompt];
      for (let s = 0; s < 5; s++) seq.push(argmax(referenceLogits(ckpt.config, ckpt.weights, seq, adapter).at(-1)!));
      expect(ids[i]).toEqual(seq.slice(prompt.length));
    }
  });

  it('seeded sampling is reproducible through the CLI', async () => {
    const outs = [];
    for (const k of [0, 1]) {
      const out = path.join(dir, `s${k}.json`);
      const r = await cli(['generate', '--model', modelDir, '--ids', '1,2,3', '--max-new-tokens', '8', '--temperature', '1', '--top-p', '0.9', '--seed', '7', '--out', out]);
      expect(r.code).toBe(0);
      outs.push(JSON.parse(await readFile(out, 'utf8')).ids);
    }
    expect(outs[0]).toEqual(outs[1]);
    expect(outs[0][0]).toHaveLength(8);
  });

  it('chat prints a reply using the chat template', async () => {
    const r = await cli(['chat', '--model', modelDir, '--max-new-tokens', '6', 'Hello there']);
    expect(r.code).toBe(0);
    expect(r.stdout.length).toBeGreaterThan(0);
  });

  it('bad input gives a clear error and a non-zero exit', async () => {
    const missing = await cli(['logits', '--model', path.join(dir, 'nope'), '--ids', '1', '--out', path.join(dir, 'x.json')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/config\.json/);
    const badIds = await cli(['logits', '--model', modelDir, '--ids', '1,x', '--out', path.join(dir, 'x.json')]);
    expect(badIds.code).toBe(2);
    expect(badIds.stderr).toMatch(/"x"/);
    const outOfVocab = await cli(['logits', '--model', modelDir, '--ids', '999999', '--out', path.join(dir, 'x.json')]);
    expect(outOfVocab.stderr).toMatch(/outside the vocabulary/);
    const noTokens = await cli(['generate', '--model', modelDir, '--ids', '1', '--out', path.join(dir, 'x.json')]);
    expect(noTokens.code).toBe(2);
    expect(noTokens.stderr).toMatch(/max-new-tokens/);
    const unknown = await cli(['frobnicate']);
    expect(unknown.code).toBe(2);
  });
});
