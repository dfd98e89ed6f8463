/**
 * Broken external-data entries (issue 8): an offset or length far past the end of the data file
 * must fail with a ModelFormatError naming the .onnx file, the tensor and the data file, before
 * anything of that size is allocated (it used to end in "Invalid typed array length").
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTinyCheckpoint } from '../../../../scripts/tiny-model';
import { importOnnxWeights } from '../../../../src/engine/models/onnx-import/import';
import { openModel } from '../../../../src/engine/models/open-model';
import { NodeFolderSource } from '../../../../src/engine/models/node-source';
import { MemorySource } from '../../../../src/engine/models/sources';
import { ModelFormatError } from '../../../../src/engine/models/types';
import { withExternalData, writeOptimumStyle } from './helpers';

const ABSURD = 2 ** 34;
const TARGET = 'model.embed_tokens.weight';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A tiny onnx-community style folder with external data; `entry` names what to break in the embedding's entry. */
async function exportFolder(entry: 'length' | 'offset' | 'none') {
  const base = makeTinyCheckpoint({ family: 'llama', seed: 3 });
  const st = await openModel(new MemorySource(base, 'st'));
  const wr = writeOptimumStyle(st.config, st.weights, { dtype: 'float32', linear: 'matmul' });
  const { bytes, dataFile } = withExternalData(wr, { entry: (name, e) => (name === TARGET && entry !== 'none' ? { ...e, [entry]: String(ABSURD) } : e) });
  const dir = mkdtempSync(join(tmpdir(), 'onnx-ext-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'onnx'));
  writeFileSync(join(dir, 'config.json'), base.get('config.json')!);
  writeFileSync(join(dir, 'onnx', 'model.onnx'), bytes);
  writeFileSync(join(dir, 'onnx', 'model.onnx_data'), dataFile);
  return { dir, bytes, dataFile, config: st.config };
}

describe('external data entries past the end of the data file', () => {
  for (const entry of ['length', 'offset'] as const) {
    it(`${entry} = 2^34: openModel over a folder fails naming the .onnx file, the tensor and the data file`, async () => {
      const { dir } = await exportFolder(entry);
      const err = await openModel(new NodeFolderSource(dir)).catch((e) => e);
      expect(err).toBeInstanceOf(ModelFormatError);
      expect(err.message).toMatch(/^onnx\/model\.onnx: /);
      expect(err.message).toContain(`tensor "${TARGET}"`);
      expect(err.message).toMatch(/external data file "model\.onnx_data"/);
      expect(err.message).not.toMatch(/Invalid typed array length/);
    });
  }

  it('importOnnxWeights checks each entry before reading it; a sound file asks its size once', async () => {
    const { bytes, dataFile, config } = await exportFolder('length');
    const reads: number[] = [];
    const sizeAsked: string[] = [];
    // Allocates what it is asked for, like NodeFolderSource.range.
    const externalData = (_location: string, offset: number, length: number) => {
      reads.push(length);
      const out = new Uint8Array(length);
      out.set(dataFile.subarray(offset, offset + length));
      return out;
    };
    const externalDataSize = (location: string) => {
      sizeAsked.push(location);
      return dataFile.length;
    };
    for (const opts of [{ externalData }, { externalData, externalDataSize }]) {
      const err = await importOnnxWeights(bytes, config, { ...opts, fileName: 'onnx/model.onnx' }).catch((e) => e);
      expect(err).toBeInstanceOf(ModelFormatError);
      expect(err.message).toMatch(new RegExp(`^onnx/model\\.onnx: .*tensor "${TARGET}" \\(float \\[\\d+, \\d+\\]\\) takes \\d+ bytes, but its entry in the external data file "model\\.onnx_data" gives length ${ABSURD}`));
    }
    expect(reads).not.toContain(ABSURD);

    const shifted = await exportFolder('offset');
    const err = await importOnnxWeights(shifted.bytes, shifted.config, { externalData, externalDataSize, fileName: 'onnx/model.onnx' }).catch((e) => e);
    expect(err).toBeInstanceOf(ModelFormatError);
    expect(err.message).toMatch(new RegExp(`tensor "${TARGET}" is stored at bytes \\[${ABSURD}, \\d+\\) of the external data file "model\\.onnx_data", which has only ${shifted.dataFile.length} bytes`));
    expect(reads.every((n) => n < ABSURD)).toBe(true);

    // A sound file imports with the checks on, the size asked once for all its tensors.
    const good = await exportFolder('none');
    sizeAsked.length = 0;
    reads.length = 0;
    const weights = await importOnnxWeights(good.bytes, good.config, { externalData, externalDataSize });
    expect(weights.get(TARGET)?.dims).toEqual([good.config.vocabSize, good.config.hiddenSize]);
    expect(reads.length).toBeGreaterThan(1);
    expect(sizeAsked).toEqual(['model.onnx_data']);
    expect((await openModel(new NodeFolderSource(good.dir))).weights.get(TARGET)?.data).toEqual(weights.get(TARGET)?.data);
  });
});
