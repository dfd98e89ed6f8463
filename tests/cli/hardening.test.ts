/**
 * The CLI part of issue 8, each class tested with the input that exposed it: outputs are never
 * left half written (a write cut off by a file-size limit leaves the previous adapter intact),
 * output paths are checked before any work, limits are checked before work and named
 * (positions, new tokens, rank), numbers are parsed strictly, and non-finite results are errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeTinyCheckpoint } from '../../scripts/tiny-model';
import { importPeftAdapter } from '../../src/engine/lora/peft';
import { NodeFolderSource } from '../../src/engine/models/node-source';
import { loadCheckpoint } from '../../src/engine/models/checkpoint';
import { readSafetensors, writeSafetensors } from '../../src/engine/models/safetensors';
import { runCli } from './run-cli';

let dir: string;
let model: string;
let data: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pmd-hard-'));
  model = path.join(dir, 'model');
  await writeTinyCheckpoint(model, { family: 'qwen3', seed: 5 });
  data = path.join(dir, 'data.jsonl');
  await writeFile(data, ['{"prompt": "2+2?", "response": "4"}', '{"prompt": "Say hi.", "response": "hi"}'].join('\n'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Run the CLI under a file-size limit (bash `ulimit -f`, in KiB). */
function runLimited(kib: number, args: string[]): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve) => {
    const cmd = `ulimit -f ${kib}; exec "${process.execPath}" "${path.resolve('bin/pmd-lab.mjs')}" ${args.map((a) => `'${a}'`).join(' ')}`;
    execFile('bash', ['-c', cmd], (err, _stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? null) : 0, signal: (err as { signal?: string } | null)?.signal ?? null, stderr }));
  });
}

describe('data loss', () => {
  it('a write cut off midway (file-size limit) leaves the previous adapter whole and readable', async () => {
    const out = path.join(dir, 'adapter');
    const first = await runCli(['sft', '--model', model, '--data', data, '--out', out, '--steps', '1', '--no-progress']);
    expect(first.code).toBe(0);
    const before = { config: await readFile(path.join(out, 'adapter_config.json')), weights: await readFile(path.join(out, 'adapter_model.safetensors')) };
    expect(before.weights.length).toBeGreaterThan(16 * 1024);
    // A larger adapter (rank 16) cannot be written within 8 KiB per file: the process is cut off mid-write.
    const r = await runLimited(8, ['sft', '--model', model, '--data', data, '--out', out, '--steps', '1', '--rank', '16', '--no-progress']);
    expect(r.code === 0 && r.signal === null).toBe(false);
    expect((await readFile(path.join(out, 'adapter_config.json'))).equals(before.config)).toBe(true);
    expect((await readFile(path.join(out, 'adapter_model.safetensors'))).equals(before.weights)).toBe(true);
    const ckpt = await loadCheckpoint(new NodeFolderSource(model));
    expect((await importPeftAdapter(new NodeFolderSource(out), ckpt.config)).config.r).toBe(8);
    expect((await readdir(out)).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
  });

  it('--out pointing at an existing file is refused before any work (even before the model is read)', async () => {
    await writeFile(path.join(dir, 'afile'), 'keep me');
    const r = await runCli(['sft', '--model', path.join(dir, 'no-such-model'), '--data', data, '--out', path.join(dir, 'afile')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/--out .*afile: is a file; give a folder/);
    expect(await readFile(path.join(dir, 'afile'), 'utf8')).toBe('keep me');
    const g = await runCli(['generate', '--model', path.join(dir, 'no-such-model'), '--ids', '1', '--max-new-tokens', '1', '--out', dir]);
    expect(g.stderr).toMatch(/is a folder; give a file name/);
  });
});

describe('limits before work', () => {
  it('positions past max_position_embeddings and unbounded --max-new-tokens are refused with the limit named', async () => {
    const huge = await runCli(['generate', '--model', model, '--ids', '1,2,3', '--max-new-tokens', '1000000000', '--out', path.join(dir, 'g.json')]);
    expect(huge.code).toBe(1);
    expect(huge.stderr).toMatch(/a prompt of 3 tokens plus 1000000000 new tokens exceeds the model's max_position_embeddings \(2048\)/);
    const ids = Array.from({ length: 2049 }, (_, i) => (i % 50) + 1).join(',');
    const long = await runCli(['logits', '--model', model, '--ids', ids, '--out', path.join(dir, 'l.json')]);
    expect(long.code).toBe(1);
    expect(long.stderr).toMatch(/position 2048 is beyond the model's max_position_embeddings \(2048\)/);
  });

  it('--rank is held to the config limit and to the widths of the projections', async () => {
    const big = await runCli(['sft', '--model', model, '--data', data, '--out', path.join(dir, 'r1'), '--rank', '1000000']);
    expect(big.code).toBe(2);
    expect(big.stderr).toMatch(/--rank must be a whole number <= 4096, got 1000000/);
    const wide = await runCli(['sft', '--model', model, '--data', data, '--out', path.join(dir, 'r2'), '--rank', '100']);
    expect(wide.code).toBe(1);
    expect(wide.stderr).toMatch(/LoRA rank 100 is larger than q_proj can use \(its smaller side is 64\)/);
  });
});

describe('strict numbers', () => {
  it('--ids 1e2 and 0x10 are not token ids; --max-new-tokens 1e2 is not a whole number', async () => {
    for (const ids of ['1e2', '0x10', '1.0', '-1']) {
      const r = await runCli(['logits', '--model', model, '--ids', ids, '--out', path.join(dir, 'x.json')]);
      expect(r.code, ids).toBe(2);
      expect(r.stderr).toMatch(/is not a token id/);
    }
    const n = await runCli(['generate', '--model', model, '--ids', '1', '--max-new-tokens', '1e2', '--out', path.join(dir, 'x.json')]);
    expect(n.code).toBe(2);
    expect(n.stderr).toMatch(/--max-new-tokens must be a whole number, got "1e2"/);
  });
});

describe('non-finite results are errors', () => {
  it('finite weights that overflow in the computation: logits and grad stop with a message, nothing written', async () => {
    const bad = path.join(dir, 'overflow');
    await writeTinyCheckpoint(bad, { family: 'qwen3', seed: 6 });
    const file = path.join(bad, 'model.safetensors');
    const { tensors } = readSafetensors(new Uint8Array(await readFile(file)), 'model.safetensors');
    const w = tensors.get('model.layers.0.mlp.down_proj.weight')!;
    w.data.fill(3e38); // finite, but every sum of products overflows
    await writeFile(file, writeSafetensors(tensors, 'F32'));
    const out = path.join(dir, 'nf.json');
    const r = await runCli(['logits', '--model', bad, '--ids', '1,2,3', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/non-finite logit/);
    await expect(readFile(out)).rejects.toThrow();
    const batch = path.join(dir, 'batch.json');
    await writeFile(batch, JSON.stringify({ loss: { kind: 'ce' }, samples: [{ ids: [1, 2, 3, 4], response_start: 2 }] }));
    const adapter = path.join(dir, 'adapter');
    const g = await runCli(['grad', '--model', bad, '--adapter', adapter, '--batch', batch, '--out', path.join(dir, 'gout')]);
    expect(g.code).toBe(1);
    expect(g.stderr).toMatch(/the loss is (NaN|Infinity|-Infinity): the computation overflowed/);
    await expect(readdir(path.join(dir, 'gout'))).rejects.toThrow();
  });
});
