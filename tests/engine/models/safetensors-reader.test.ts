/**
 * The three ways openSafetensors reads tensors: straight into the weights' own arrays (a source
 * with readInto, i.e. Node files), by ranges of at most 64 MiB (picked files, HTTP), or from the
 * whole file. All must give the same bits, and the in-place way must fail as clearly as the others.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTinyCheckpoint } from '../../../scripts/tiny-model';
import { loadCheckpoint } from '../../../src/engine/models/checkpoint';
import { NodeFolderSource } from '../../../src/engine/models/node-source';
import { openSafetensors, readSafetensors, writeSafetensors } from '../../../src/engine/models/safetensors';
import { ModelFormatError, type FileSource } from '../../../src/engine/models/types';
import { CountingSource, MemorySource } from '../../support/memory-source';

const F = 'model.safetensors';
const dtypes = ['F32', 'F16', 'BF16'] as const;

/** A source that forwards everything but lets a test change what readInto does. */
function withReadInto(inner: FileSource, readInto: FileSource['readInto']): FileSource {
  return {
    label: inner.label,
    has: (n) => inner.has(n),
    bytes: (n) => inner.bytes(n),
    text: (n) => inner.text(n),
    size: (n) => inner.size!(n),
    range: (n, s, e) => inner.range!(n, s, e),
    readInto,
  };
}

describe('openSafetensors on Node files (read into place)', () => {
  const dirs = new Map<string, string>();
  const files = new Map(dtypes.map((d) => [d, makeTinyCheckpoint({ family: 'qwen3', seed: 11, dtype: d })]));

  beforeAll(async () => {
    for (const [d, fs] of files) {
      const dir = await mkdtemp(join(tmpdir(), `reader-${d}-`));
      for (const [name, bytes] of fs) await writeFile(join(dir, name), bytes);
      dirs.set(d, dir);
    }
  });
  afterAll(async () => {
    for (const dir of dirs.values()) await rm(dir, { recursive: true, force: true });
  });

  for (const d of dtypes) {
    it(`${d}: the same bits as range reads and as the whole file, one readInto per tensor`, async () => {
      const disk = new CountingSource(new NodeFolderSource(dirs.get(d)!));
      const fromDisk = await loadCheckpoint(disk);
      const ranged = await loadCheckpoint(new MemorySource(files.get(d)!));
      const whole = readSafetensors(files.get(d)!.get(F)!, F).tensors;
      expect(disk.log.readsInto.get(F)).toBe(fromDisk.weights.size);
      expect([...fromDisk.weights.keys()].sort()).toEqual([...ranged.weights.keys()].sort());
      for (const [name, t] of fromDisk.weights) {
        expect(t.dims, name).toEqual(ranged.weights.get(name)!.dims);
        expect(Buffer.from(t.data.buffer).equals(Buffer.from(ranged.weights.get(name)!.data.buffer)), name).toBe(true);
        expect(Buffer.from(t.data.buffer).equals(Buffer.from(whole.get(name)!.data.buffer)), name).toBe(true);
      }
    });
  }

  it('a file that ends inside a tensor (shrunk after its header was read) is named with the byte', async () => {
    const disk = new NodeFolderSource(dirs.get('BF16')!);
    const short = withReadInto(disk, async (n, pos, into) => {
      const got = await disk.readInto(n, pos, into);
      return into.length > 1000 ? got - 6 : got;
    });
    const err = await loadCheckpoint(short).catch((e) => e);
    expect(err).toBeInstanceOf(ModelFormatError);
    expect(err.message).toMatch(/^model\.safetensors: tensor ".*": the file ends inside its data \(byte \d+\)$/);
  });

  it('stops at a tensor holding NaN; reads already started elsewhere fail quietly', async () => {
    const t = (v: number[]) => ({ dims: [v.length], data: new Float32Array(v) });
    const bytes = writeSafetensors(new Map([['a', t([1, Number.NaN])], ['b', t([2, 3])], ['c', t([6, 7])]]), 'BF16');
    const mem = new MemorySource(new Map([[F, bytes]]));
    let failed = 0;
    const src = withReadInto(mem, async (n, pos, into) => {
      const raw = await mem.range(n, pos, pos + into.length);
      if (raw[0] !== 0x80) {
        // Every tensor but "a" (whose first element, 1.0 in BF16, starts with byte 0x80): fail late.
        await new Promise((r) => setTimeout(r, 20));
        failed++;
        throw new Error('disk gone');
      }
      into.set(raw);
      return raw.length;
    });
    const reader = await openSafetensors(src, F);
    const seen: string[] = [];
    const err = await (async () => {
      for await (const [e] of reader.readEachF32([...reader.header.tensors.values()])) seen.push(e.name);
    })().catch((e) => e);
    expect(err).toBeInstanceOf(ModelFormatError);
    expect(err.message).toBe('model.safetensors: tensor "a": element 1 is NaN; weights must be finite (a NaN or infinite value makes every output NaN)');
    expect(seen).toEqual([]);
    // Give the reads that were started ahead time to fail: an unhandled rejection would fail the run.
    await new Promise((r) => setTimeout(r, 60));
    expect(failed).toBe(2);
  });
});
