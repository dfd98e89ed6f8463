/**
 * A small version of `npm run build:world`: a few training steps of a tiny world model from
 * scratch (plain rows, then memory rows) must lower the loss, and the written folder must load.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildWorld, MODEL_DIR, TASKS_FILE, WORLD_BUILD_DEFAULTS, type WorldBuildSettings } from '../../../scripts/world/build';
import { NodeFolderSource } from '../../../src/engine/models/node-source';
import { openModel } from '../../../src/engine/models/open-model';

const SMALL: WorldBuildSettings = {
  ...WORLD_BUILD_DEFAULTS,
  seed: 3,
  tokenizer: { sampleRows: 200, merges: 100 },
  model: { hiddenSize: 32, layers: 1, heads: 2, kvHeads: 1, headDim: 16, intermediate: 64, vocabSize: null },
  pretrain: {
    phases: [[{ steps: 12, lr: 1e-2, warmup: 0, memoryShare: 0 }], [{ steps: 3, lr: 1e-2, warmup: 0, memoryShare: 1 }]],
    batch: { plain: 8, memory: 2 },
    poolBatches: 1,
    weightDecay: 0.01,
  },
};

let dir = '';
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('build:world (small)', () => {
  it('trains from scratch with the engine, the loss falls, and the folder loads', async () => {
    dir = await mkdtemp(join(tmpdir(), 'pmd-world-'));
    const b = await buildWorld(SMALL, dir);
    const plain = b.log.filter((l) => l.kind === 'plain').map((l) => l.loss);
    expect(b.log.filter((l) => l.kind === 'memory')).toHaveLength(3);
    const first = (plain[0] + plain[1]) / 2;
    const last = (plain[plain.length - 2] + plain[plain.length - 1]) / 2;
    expect(last).toBeLessThan(0.8 * first);
    expect(b.log.every((l) => Number.isFinite(l.loss))).toBe(true);

    expect((await readdir(join(dir, MODEL_DIR))).sort()).toEqual(['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    const ck = await openModel(new NodeFolderSource(join(dir, MODEL_DIR)));
    expect(ck.config.family).toBe('qwen3');
    expect(ck.config.hiddenSize).toBe(32);
    const lines = (await readFile(join(dir, TASKS_FILE), 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(b.suite.length);
    expect(JSON.parse(lines[0])).toEqual(b.suite[0]);
  });

  it('gives the same floats twice on one thread (multi-threaded kernels may not)', async () => {
    const a = await mkdtemp(join(tmpdir(), 'pmd-world-a-'));
    const b = await mkdtemp(join(tmpdir(), 'pmd-world-b-'));
    try {
      await buildWorld(SMALL, a, undefined, undefined, 1);
      await buildWorld(SMALL, b, undefined, undefined, 1);
      const [x, y] = await Promise.all([a, b].map((d) => readFile(join(d, MODEL_DIR, 'model.safetensors'))));
      expect(Buffer.compare(x, y)).toBe(0);
    } finally {
      await rm(a, { recursive: true, force: true });
      await rm(b, { recursive: true, force: true });
    }
  });
});
