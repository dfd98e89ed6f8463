/**
 * A model.safetensors over 2 GiB (Node's readFile limit) loads through range reads. The file is
 * sparse: a 2 GiB tensor the loader does not need (a rotary inv_freq buffer, which checkpoints
 * may carry) fills a hole at the front, and the real weights sit at the end, past byte 2^31.
 * Only a few hundred KB are ever written or read.
 */
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTinyCheckpoint } from '../../../scripts/tiny-model';
import { loadCheckpoint } from '../../../src/engine/models/checkpoint';
import { NodeFolderSource } from '../../../src/engine/models/node-source';
import { parseSafetensorsHeader, readSafetensors } from '../../../src/engine/models/safetensors';
import { CountingSource, utf8 } from '../../support/memory-source';

const HOLE = 2 ** 31 + 2 ** 20; // bytes of the unneeded tensor in front
const F = 'model.safetensors';

/** Rewrite a fixture's model.safetensors with a HOLE-byte tensor in front of the others. */
async function writeSparseCheckpoint(dir: string, files: Map<string, Uint8Array>): Promise<number> {
  const original = files.get(F)!;
  const header = parseSafetensorsHeader(original, F);
  const json: Record<string, unknown> = {
    'model.rotary_emb.inv_freq': { dtype: 'F32', shape: [HOLE / 4], data_offsets: [0, HOLE] },
  };
  for (const t of header.tensors.values()) {
    json[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [HOLE + t.begin, HOLE + t.end] };
  }
  const text = utf8(JSON.stringify(json));
  const prefix = new Uint8Array(8 + text.length);
  new DataView(prefix.buffer).setUint32(0, text.length, true);
  prefix.set(text, 8);
  const data = original.subarray(header.dataStart);

  for (const [name, bytes] of files) if (name !== F) await writeFile(join(dir, name), bytes);
  const fh = await open(join(dir, F), 'w');
  try {
    await fh.write(prefix, 0, prefix.length, 0);
    await fh.write(data, 0, data.length, prefix.length + HOLE);
  } finally {
    await fh.close();
  }
  return prefix.length + HOLE + data.length;
}

describe('a model.safetensors over 2 GiB', () => {
  let dir = '';
  let size = 0;
  const files = makeTinyCheckpoint({ family: 'qwen3', seed: 4, dtype: 'BF16' });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sparse-ckpt-'));
    size = await writeSparseCheckpoint(dir, files);
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('cannot be read whole in Node, so the loader must not try', async () => {
    expect(size).toBeGreaterThan(2 ** 31);
    await expect(new NodeFolderSource(dir).bytes(F)).rejects.toThrow(/greater than 2 GiB/);
  });

  it('loads by range reads (into the weights themselves) with the right values, reading only the header and the needed tensors', async () => {
    const src = new CountingSource(new NodeFolderSource(dir));
    const ck = await loadCheckpoint(src);
    const want = readSafetensors(files.get(F)!, F).tensors;
    expect([...ck.weights.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [name, t] of want) {
      expect(ck.weights.get(name)!.dims).toEqual(t.dims);
      expect(Buffer.compare(Buffer.from(ck.weights.get(name)!.data.buffer), Buffer.from(t.data.buffer)), name).toBe(0);
    }
    expect(ck.weights.has('model.rotary_emb.inv_freq')).toBe(false);
    expect(src.log.wholeReads.get(F) ?? 0).toBe(0);
    // Node files are read straight into the weights' arrays, one read per tensor.
    expect(src.log.readsInto.get(F)).toBe(ck.weights.size);
    // Everything but the 2 GiB hole, each byte once.
    expect(src.log.bytesRead.get(F)).toBe(size - HOLE);
  });
});
