import { describe, expect, it } from 'vitest';
import { BrowserFilesSource, type DirectoryHandleLike } from '../../../../src/engine/models/sources/browser-files';
import { SourceError } from '../../../../src/engine/models/sources/errors';
import { loadCheckpoint } from '../../../../src/engine/models/checkpoint';
import { makeTinyCheckpoint } from '../../../../scripts/tiny-model';
import { CountingSource } from '../../../support/memory-source';

/** A File as `<input webkitdirectory>` gives it, with a webkitRelativePath. */
function picked(path: string, content: string | Uint8Array): File {
  const name = path.split('/').at(-1)!;
  const f = new File([content as BlobPart], name);
  Object.defineProperty(f, 'webkitRelativePath', { value: path });
  return f;
}

const weights = Uint8Array.from({ length: 4096 }, (_, i) => i & 0xff);

describe('BrowserFilesSource from <input webkitdirectory>', () => {
  const src = new BrowserFilesSource([
    picked('Qwen3-0.6B/config.json', '{"model_type":"qwen3"}'),
    picked('Qwen3-0.6B/model.safetensors', weights),
    picked('Qwen3-0.6B/onnx/model.onnx', 'onnx'),
  ]);

  it('strips the top folder and uses it as the label', async () => {
    expect(src.label).toBe('Qwen3-0.6B');
    expect(await src.names()).toEqual(['config.json', 'model.safetensors', 'onnx/model.onnx']);
    expect(await src.has('config.json')).toBe(true);
    expect(await src.has('tokenizer.json')).toBe(false);
    expect(await src.text('config.json')).toBe('{"model_type":"qwen3"}');
    expect(await src.text('onnx/model.onnx')).toBe('onnx');
  });

  it('reads whole files, sizes and ranges', async () => {
    expect(await src.bytes('model.safetensors')).toEqual(weights);
    expect(await src.size('model.safetensors')).toBe(4096);
    expect(await src.range('model.safetensors', 100, 110)).toEqual(weights.subarray(100, 110));
    await expect(src.range('model.safetensors', 4000, 5000)).rejects.toThrow(/past the end/);
  });

  it('names the folder and file when a file is missing', async () => {
    const err = await src.bytes('tokenizer.json').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).code).toBe('not-found');
    expect((err as Error).message).toBe('Folder "Qwen3-0.6B" has no file "tokenizer.json"');
  });

  it('falls back to File.name for files picked one by one', async () => {
    const single = new BrowserFilesSource([new File(['{}'], 'config.json')]);
    expect(single.label).toBe('config.json');
    expect(await single.text('config.json')).toBe('{}');
    const labelled = new BrowserFilesSource([new File(['{}'], 'config.json'), new File(['x'], 'a.txt')], 'my model');
    expect(labelled.label).toBe('my model');
    expect(await labelled.text('a.txt')).toBe('x');
  });
});

describe('BrowserFilesSource from showDirectoryPicker()', () => {
  function fakeDir(name: string, files: Record<string, string>): DirectoryHandleLike & { opened: string[] } {
    const opened: string[] = [];
    return {
      kind: 'directory',
      name,
      opened,
      async *values() {
        for (const [n, content] of Object.entries(files)) {
          yield { kind: 'file' as const, name: n, getFile: async () => (opened.push(n), new File([content], n)) };
        }
        yield { kind: 'directory' as const, name: 'nested' };
      },
    };
  }

  it('lists one level and opens files lazily', async () => {
    const dir = fakeDir('tiny-qwen3', { 'config.json': '{"a":1}', 'tokenizer.json': '{}' });
    const src = await BrowserFilesSource.fromDirectory(dir);
    expect(src.label).toBe('tiny-qwen3');
    expect(await src.names()).toEqual(['config.json', 'tokenizer.json']);
    expect(dir.opened).toEqual([]);
    expect(await src.text('config.json')).toBe('{"a":1}');
    expect(dir.opened).toEqual(['config.json']);
    expect(await src.has('nested')).toBe(false);
    await expect(src.bytes('model.safetensors')).rejects.toThrow('Folder "tiny-qwen3" has no file "model.safetensors"');
  });

  it('works through the constructor too', async () => {
    const src = new BrowserFilesSource(fakeDir('d', { 'x.txt': 'hello' }));
    expect(await src.range('x.txt', 1, 4)).toEqual(new TextEncoder().encode('ell'));
  });
});

describe('BrowserFilesSource feeding the checkpoint loader', () => {
  it('reads weights with Blob.slice, tensor by tensor, never the whole file', async () => {
    const files = makeTinyCheckpoint({ family: 'llama', seed: 8, dtype: 'F16', shards: 2 });
    const picked = [...files].map(([name, bytes]) => {
      const f = new File([bytes as BlobPart], name);
      Object.defineProperty(f, 'webkitRelativePath', { value: `tiny/${name}` });
      return f;
    });
    const sliced: string[] = [];
    const wholeReads: string[] = [];
    for (const f of picked) {
      const slice = f.slice.bind(f);
      f.slice = (start?: number, end?: number) => (sliced.push(f.name), slice(start, end));
      const arrayBuffer = f.arrayBuffer.bind(f);
      f.arrayBuffer = () => (wholeReads.push(f.name), arrayBuffer());
    }
    const src = new CountingSource(new BrowserFilesSource(picked));
    const ck = await loadCheckpoint(src);
    expect(ck.weights.size).toBeGreaterThan(10);
    const shards = [...files.keys()].filter((n) => n.endsWith('.safetensors'));
    for (const shard of shards) {
      expect(src.log.wholeReads.get(shard) ?? 0).toBe(0);
      expect(src.log.bytesRead.get(shard)).toBe(files.get(shard)!.length);
      expect(sliced.filter((n) => n === shard).length).toBeGreaterThan(2);
    }
    expect(wholeReads.filter((n) => n.endsWith('.safetensors'))).toEqual([]);
  });
});
