import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UrlFolderSource } from '../../../../src/engine/models/sources/url-folder';
import { SourceError } from '../../../../src/engine/models/sources/errors';
import type { DownloadProgress } from '../../../../src/engine/models/sources/http';
import { startHubServer, type HubServer } from '../../../support/hub-server';

const enc = new TextEncoder();
const weights = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 31 + 7) & 0xff);
const config = enc.encode('{"model_type":"qwen3"}');

let server: HubServer;
let base: string;

beforeAll(async () => {
  // The Hub server's resolve path doubles as a plain folder of files over HTTP.
  server = await startHubServer({
    repos: { 'local/tiny-qwen3': { 'config.json': config, 'model.safetensors': weights, 'cut.bin': weights } },
    truncate: { 'local/tiny-qwen3/cut.bin': 1000 },
  });
  base = `${server.url}/local/tiny-qwen3/resolve/main`;
});

afterAll(async () => {
  await server?.close();
});

function same(got: Uint8Array, want: Uint8Array): boolean {
  return got.length === want.length && Buffer.compare(got, want) === 0;
}

async function rejection(p: Promise<unknown>): Promise<SourceError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(SourceError);
    return err as SourceError;
  }
  throw new Error('expected a rejection');
}

describe('UrlFolderSource', () => {
  it('reads files with progress, has(), size()', async () => {
    const events: DownloadProgress[] = [];
    const src = new UrlFolderSource({ url: base, label: 'tiny-qwen3', onProgress: (e) => events.push(e) });
    expect(await src.text('config.json')).toBe('{"model_type":"qwen3"}');
    expect(same(await src.bytes('model.safetensors'), weights)).toBe(true);
    const w = events.filter((e) => e.file === 'model.safetensors');
    expect(w[0]).toEqual({ file: 'model.safetensors', loaded: 0, total: weights.length, fromCache: false });
    expect(w.at(-1)).toEqual({ file: 'model.safetensors', loaded: weights.length, total: weights.length, fromCache: false });
    for (let i = 1; i < w.length; i++) expect(w[i]!.loaded).toBeGreaterThanOrEqual(w[i - 1]!.loaded);

    expect(await src.has('config.json')).toBe(true);
    expect(await src.has('nope.json')).toBe(false);
    expect(await src.size('model.safetensors')).toBe(weights.length);
  });

  it('range() sends a Range request (through the redirect too)', async () => {
    const src = new UrlFolderSource(base + '/');
    const before = server.requests.length;
    expect(same(await src.range('model.safetensors', 1000, 1100), weights.subarray(1000, 1100))).toBe(true);
    expect(same(await src.range('config.json', 2, 12), config.subarray(2, 12))).toBe(true);
    expect(await src.range('config.json', 5, 5)).toEqual(new Uint8Array(0));
    const ranged = server.requests.slice(before).filter((r) => r.range);
    expect(ranged.map((r) => r.range)).toContain('bytes=1000-1099');

    const past = await rejection(src.range('config.json', 0, config.length + 10));
    expect(past.code).toBe('out-of-range');
    expect(past.message).toContain('config.json');
    const after = await rejection(src.range('config.json', config.length + 5, config.length + 10));
    expect(after.code).toBe('out-of-range');
    expect((await rejection(src.range('config.json', 5, 2))).code).toBe('invalid');
  });

  it('range() reports progress as the bytes of the file read so far, against its size', async () => {
    const events: DownloadProgress[] = [];
    const src = new UrlFolderSource({ url: base, label: 'tiny-qwen3', onProgress: (e) => events.push(e) });
    const cuts = [0, 8, 70_000, 150_000, weights.length];
    for (let i = 1; i < cuts.length; i++) await src.range('model.safetensors', cuts[i - 1]!, cuts[i]!);
    const w = events.filter((e) => e.file === 'model.safetensors');
    expect(w.length).toBeGreaterThanOrEqual(cuts.length - 1);
    for (const e of w) expect(e.total).toBe(weights.length);
    for (let i = 1; i < w.length; i++) expect(w[i]!.loaded).toBeGreaterThanOrEqual(w[i - 1]!.loaded);
    expect(w.at(-1)).toEqual({ file: 'model.safetensors', loaded: weights.length, total: weights.length, fromCache: false });
  });

  it('range() slices when the server ignores Range', async () => {
    const fakeFetch: typeof fetch = async () => new Response(config, { status: 200, headers: { 'content-length': String(config.length) } });
    const src = new UrlFolderSource({ url: '/models/x/', fetch: fakeFetch });
    expect(await src.range('config.json', 3, 9)).toEqual(config.subarray(3, 9));
  });

  it('missing files, HTML fallbacks, truncation and dead servers give clear errors', async () => {
    const src = new UrlFolderSource({ url: base, label: 'tiny-qwen3' });
    const missing = await rejection(src.bytes('missing.json'));
    expect(missing.code).toBe('not-found');
    expect(missing.message).toContain('tiny-qwen3');
    expect(missing.message).toContain('"missing.json"');

    const cut = await rejection(src.bytes('cut.bin'));
    expect(cut.code).toBe('truncated');
    expect(cut.message).toContain('cut.bin');

    // A dev server's SPA fallback answers any path with index.html.
    const spa: typeof fetch = async () => new Response('<!doctype html><html></html>', { headers: { 'content-type': 'text/html' } });
    const viaSpa = new UrlFolderSource({ url: '/models/tiny-qwen3/', fetch: spa });
    expect(await viaSpa.has('config.json')).toBe(false);
    expect((await rejection(viaSpa.text('config.json'))).code).toBe('not-found');

    const dead = await startHubServer({ repos: {} });
    await dead.close();
    const net = await rejection(new UrlFolderSource(`${dead.url}/models/x`).bytes('config.json'));
    expect(net.code).toBe('network');
    expect(net.message).toContain('config.json');

    await expect(src.bytes('../etc/passwd')).rejects.toThrow(/invalid file name/);
  });

  it('builds URLs from relative folders with encoded segments', () => {
    const fakeFetch: typeof fetch = async () => new Response(null, { status: 404 });
    const src = new UrlFolderSource({ url: '/models/tiny-qwen3', fetch: fakeFetch });
    expect(src.label).toBe('/models/tiny-qwen3/');
    expect(src.url('onnx/a b.onnx')).toBe('/models/tiny-qwen3/onnx/a%20b.onnx');
  });

  it('streams bodies under a cap: a lying content-length allocates nothing, a large body is refused', async () => {
    const lying: typeof fetch = async () => new Response(new Uint8Array(10), { status: 200, headers: { 'content-length': '1500000000' } });
    const before = process.memoryUsage().arrayBuffers;
    const cut = await rejection(new UrlFolderSource({ url: 'http://x.invalid/m', fetch: lying }).bytes('model.safetensors'));
    expect(cut.code).toBe('truncated');
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(100 * 2 ** 20);

    const src = new UrlFolderSource({ url: base, label: 'tiny-qwen3', maxFileBytes: 100_000 });
    const big = await rejection(src.bytes('model.safetensors'));
    expect(big.code).toBe('too-large');
    expect(big.message).toBe('Download of "model.safetensors" from tiny-qwen3 refused: the server announces 200000 bytes; the cap on one file is 100000 bytes (maxFileBytes)');
    expect(same(await src.range('model.safetensors', 10, 20), weights.subarray(10, 20))).toBe(true);
  });
});
