import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubSource, checkRepoId } from '../../../../src/engine/models/sources/hub';
import { MemoryFileCache, type FileCache } from '../../../../src/engine/models/sources/file-cache';
import { SourceError } from '../../../../src/engine/models/sources/errors';
import type { DownloadProgress } from '../../../../src/engine/models/sources/http';
import { commitOf, startHubServer, type HubServer } from '../../../support/hub-server';

/** Deterministic pseudo-random bytes. */
function fixtureBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

const enc = new TextEncoder();
const REPO = 'test-org/tiny-model';
const GATED = 'gated-org/locked';
const config = enc.encode(JSON.stringify({ model_type: 'qwen3', hidden_size: 8 }));
const tokenizer = enc.encode(JSON.stringify({ model: { type: 'BPE', vocab: { a: 0, b: 1 } } }));
const weights = fixtureBytes(300_000, 7); // > threshold and *.safetensors: redirected
const bigJson = fixtureBytes(100_000, 9); // > threshold: redirected although not LFS-suffixed

let hub: HubServer;

beforeAll(async () => {
  hub = await startHubServer({
    repos: {
      [REPO]: {
        'config.json': config,
        'tokenizer.json': tokenizer,
        'model.safetensors': weights,
        'big.json': bigJson,
        'onnx/nested.txt': enc.encode('nested'),
        'cut.bin': fixtureBytes(50_000, 3),
        'cut.json': fixtureBytes(20_000, 4),
      },
      [GATED]: { 'config.json': config },
    },
    gated: [GATED],
    tokens: ['hf_good'],
    truncate: { [`${REPO}/cut.bin`]: 12_345, [`${REPO}/cut.json`]: 100 },
    lfsThreshold: 64 * 1024,
    chunkSize: 8 * 1024,
  });
});

afterAll(async () => {
  await hub?.close();
});

function source(opts: { repo?: string; cache?: FileCache; onProgress?: (e: DownloadProgress) => void; token?: string; revision?: string } = {}) {
  return new HubSource({ repo: REPO, endpoint: hub.url, ...opts });
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

/** Byte equality; much faster than toEqual on large typed arrays. */
function expectBytes(got: Uint8Array, want: Uint8Array): void {
  expect(got.length).toBe(want.length);
  expect(Buffer.compare(got, want)).toBe(0);
}

const gets = (path: string) => hub.requests.filter((r) => r.method === 'GET' && r.path.includes(path));

describe('HubSource downloads', () => {
  it('reads small files directly and records the commit', async () => {
    const src = source();
    expect(src.label).toBe(REPO);
    expect(await src.text('config.json')).toBe(new TextDecoder().decode(config));
    expect(src.commit).toBe(commitOf(REPO));
    expect(await src.bytes('onnx/nested.txt')).toEqual(enc.encode('nested'));
  });

  it('follows the 302 to the CDN path for LFS files and reports monotone progress', async () => {
    const events: DownloadProgress[] = [];
    const src = source({ onProgress: (e) => events.push(e) });
    const before = hub.requests.length;
    const got = await src.bytes('model.safetensors');
    expectBytes(got, weights);

    const seen = hub.requests.slice(before);
    expect(seen[0]).toMatchObject({ method: 'GET', path: `/${REPO}/resolve/main/model.safetensors` });
    expect(seen[1]!.path).toMatch(/^\/cdn\/[0-9a-f]{64}\?/);

    const mine = events.filter((e) => e.file === 'model.safetensors');
    expect(mine.length).toBeGreaterThan(2);
    for (let i = 1; i < mine.length; i++) expect(mine[i]!.loaded).toBeGreaterThanOrEqual(mine[i - 1]!.loaded);
    expect(mine.every((e) => e.total === weights.length && !e.fromCache)).toBe(true);
    expect(mine[0]!.loaded).toBe(0);
    expect(mine.at(-1)!.loaded).toBe(weights.length);
  });

  it('redirects large non-LFS files too', async () => {
    const before = hub.requests.length;
    expectBytes(await source().bytes('big.json'), bigJson);
    expect(hub.requests.slice(before).some((r) => r.path.startsWith('/cdn/'))).toBe(true);
  });

  it('serves a second source from the cache without GETs', async () => {
    const cache = new MemoryFileCache();
    const first = source({ cache });
    await first.bytes('config.json');
    await first.bytes('model.safetensors');
    expect(cache.entries.size).toBe(2);

    const before = hub.requests.length;
    const events: DownloadProgress[] = [];
    const second = source({ cache, onProgress: (e) => events.push(e) });
    expectBytes(await second.bytes('model.safetensors'), weights);
    expect(await second.text('config.json')).toContain('qwen3');
    expect(await second.has('model.safetensors')).toBe(true);
    expect(hub.requests.slice(before)).toEqual([]);
    expect(events).toEqual([
      { file: 'model.safetensors', loaded: weights.length, total: weights.length, fromCache: true },
      { file: 'config.json', loaded: config.length, total: config.length, fromCache: true },
    ]);

    // A different revision is a different cache entry.
    const pinned = source({ cache, revision: commitOf(REPO) });
    await pinned.bytes('config.json');
    expect(hub.requests.slice(before).filter((r) => r.method === 'GET')).toHaveLength(1);
    expect(pinned.label).toBe(`${REPO}@${commitOf(REPO)}`);
  });

  it('shares one request between concurrent reads of a file', async () => {
    const before = gets('tokenizer.json').length;
    const src = source();
    const [a, b] = await Promise.all([src.bytes('tokenizer.json'), src.bytes('tokenizer.json')]);
    expectBytes(a, tokenizer);
    expect(b).toBe(a);
    expect(gets('tokenizer.json').length - before).toBe(1);
  });

  it('has() uses HEAD; size() reads x-linked-size / content-length', async () => {
    const src = source();
    const before = hub.requests.length;
    expect(await src.has('config.json')).toBe(true);
    expect(await src.has('model.safetensors')).toBe(true);
    expect(await src.has('missing.json')).toBe(false);
    expect(hub.requests.slice(before).every((r) => r.method === 'HEAD')).toBe(true);
    expect(await src.size('model.safetensors')).toBe(weights.length);
    expect(await src.size('config.json')).toBe(config.length);
  });

  it('encodes the revision in the URL', () => {
    const src = new HubSource({ repo: REPO, revision: 'refs/pr/1', endpoint: 'https://hub.example/' });
    expect(src.url('a b.json')).toBe('https://hub.example/test-org/tiny-model/resolve/refs%2Fpr%2F1/a%20b.json');
    expect(src.url('onnx/model.onnx')).toBe('https://hub.example/test-org/tiny-model/resolve/refs%2Fpr%2F1/onnx/model.onnx');
  });
});

describe('HubSource errors', () => {
  it('a missing file names the repo and file', async () => {
    const err = await rejection(source().bytes('nope.json'));
    expect(err.code).toBe('not-found');
    expect(err.status).toBe(404);
    expect(err.file).toBe('nope.json');
    expect(err.message).toContain('"nope.json"');
    expect(err.message).toContain(REPO);
  });

  it('a missing repo says so (and has() throws rather than answering false)', async () => {
    const src = source({ repo: 'nobody/nothing' });
    const err = await rejection(src.bytes('config.json'));
    expect(err.code).toBe('not-found');
    expect(err.message).toMatch(/Hub repo nobody\/nothing not found/);
    expect(err.message).toContain('config.json');
    await rejection(src.has('config.json'));
  });

  it('a missing revision says so', async () => {
    const err = await rejection(source({ revision: 'v9' }).bytes('config.json'));
    expect(err.code).toBe('not-found');
    expect(err.message).toContain('Revision "v9" not found');
  });

  it('a gated repo asks for a token; a wrong token is refused; the right one works', async () => {
    const noToken = await rejection(source({ repo: GATED }).bytes('config.json'));
    expect(noToken.code).toBe('unauthorized');
    expect(noToken.status).toBe(401);
    expect(noToken.message).toContain(GATED);
    expect(noToken.message).toContain('config.json');
    expect(noToken.message).toMatch(/token is needed/);

    const bad = await rejection(source({ repo: GATED, token: 'hf_bad' }).bytes('config.json'));
    expect(bad.code).toBe('unauthorized');
    expect(bad.status).toBe(403);
    expect(bad.message).toMatch(/token was refused/);

    await expect(source({ repo: GATED }).has('config.json')).rejects.toThrow(/token is needed/);
    expectBytes(await source({ repo: GATED, token: 'hf_good' }).bytes('config.json'), config);
  });

  it('a body cut short after the redirect is a truncation error', async () => {
    const err = await rejection(source().bytes('cut.bin'));
    expect(err.code).toBe('truncated');
    expect(err.message).toContain('"cut.bin"');
    expect(err.message).toContain(REPO);
    expect(err.message).toMatch(/of 50000 bytes/);
  });

  it('a small body cut short is a truncation error and is not cached', async () => {
    const cache = new MemoryFileCache();
    const err = await rejection(source({ cache }).bytes('cut.json'));
    expect(err.code).toBe('truncated');
    expect(err.message).toContain('cut.json');
    expect(cache.entries.size).toBe(0);
  });

  it('a body that ends early without a connection error is a truncation error', async () => {
    const fakeFetch: typeof fetch = async () =>
      new Response(new Uint8Array(10), { status: 200, headers: { 'content-length': '20' } });
    // undici would refuse the mismatch; a Response built by hand does not check it.
    const err = await rejection(new HubSource({ repo: REPO, fetch: fakeFetch }).bytes('x.bin'));
    expect(err.code).toBe('truncated');
    expect(err.message).toMatch(/got 10 of 20 bytes/);
  });

  it('a lying content-length allocates nothing: the body is streamed', async () => {
    const announced = 1_500_000_000;
    const fakeFetch: typeof fetch = async () =>
      new Response(new Uint8Array(10), { status: 200, headers: { 'content-length': String(announced) } });
    const before = process.memoryUsage().arrayBuffers;
    let peak = before;
    const onProgress = () => (peak = Math.max(peak, process.memoryUsage().arrayBuffers));
    const err = await rejection(new HubSource({ repo: REPO, fetch: fakeFetch, onProgress }).bytes('model.safetensors'));
    expect(err.code).toBe('truncated');
    expect(err.message).toMatch(/got 10 of 1500000000 bytes/);
    expect(peak - before).toBeLessThan(100 * 2 ** 20);
  });

  it('a content-length over the cap is refused before reading, naming the file and the cap', async () => {
    let pulled = 0;
    const body = () => new ReadableStream<Uint8Array>({ pull: (c) => void (pulled++, c.enqueue(new Uint8Array(1000))) });
    const fakeFetch: typeof fetch = async () =>
      new Response(body(), { status: 200, headers: { 'content-length': '1000000000000' } });
    const err = await rejection(new HubSource({ repo: REPO, fetch: fakeFetch }).bytes('model.safetensors'));
    expect(err.code).toBe('too-large');
    expect(err.file).toBe('model.safetensors');
    expect(err.message).toBe(
      `Download of "model.safetensors" from Hub repo ${REPO} refused: the server announces 1000000000000 bytes; ` +
        `the cap on one file is 17179869184 bytes (maxFileBytes)`,
    );
    expect(pulled).toBeLessThanOrEqual(1);
  });

  it('a body that grows past the cap is stopped there, with or without a content-length', async () => {
    for (const headers of [{}, { 'content-length': '5000' }] as Record<string, string>[]) {
      let pulled = 0;
      const fakeFetch: typeof fetch = async () =>
        new Response(new ReadableStream<Uint8Array>({ pull: (c) => void (pulled++, c.enqueue(new Uint8Array(1000))) }), { status: 200, headers });
      const cache = new MemoryFileCache();
      const err = await rejection(new HubSource({ repo: REPO, fetch: fakeFetch, cache, maxFileBytes: 5000 }).bytes('tokenizer.json'));
      expect(err.code).toBe('too-large');
      expect(err.message).toBe(
        `Download of "tokenizer.json" from Hub repo ${REPO} refused: the body grew past 5000 bytes; the cap on one file is 5000 bytes (maxFileBytes)`,
      );
      expect(pulled).toBeLessThan(10);
      expect(cache.entries.size).toBe(0);
    }
  });

  it('an unreachable endpoint is a network error naming repo and file', async () => {
    const dead = await startHubServer({ repos: {} });
    const url = dead.url;
    await dead.close();
    const err = await rejection(new HubSource({ repo: REPO, endpoint: url }).bytes('config.json'));
    expect(err.code).toBe('network');
    expect(err.message).toContain('config.json');
    expect(err.message).toContain(REPO);
    expect(err.message).toContain(url);
  });

  it('rejects bad repo ids', () => {
    for (const bad of ['', 'gpt2', 'a/b/c', '/a', 'a/', 'https://huggingface.co/a/b', 'a/-b', 'a/b.', 'a--x/b', 'a/b..c', 'a b/c', 'a/b.git']) {
      expect(() => new HubSource({ repo: bad }), bad).toThrow(SourceError);
      expect(() => checkRepoId(bad), bad).toThrow(/Invalid Hugging Face repo id/);
    }
    for (const good of ['Qwen/Qwen3-0.6B', 'allenai/OLMo-2-0425-1B', 'a_b/c.d-e', 'HuggingFaceTB/SmolLM2-135M']) {
      expect(() => checkRepoId(good), good).not.toThrow();
    }
  });

  it('rejects bad file names before any request', async () => {
    const src = source();
    const before = hub.requests.length;
    for (const bad of ['../secret', '/etc/passwd', 'a/../b', '', 'a//b', './x', 'a\\b']) {
      const err = await rejection(src.bytes(bad));
      expect(err.code).toBe('invalid');
      expect(err.message).toContain('invalid file name');
      await expect(src.has(bad)).rejects.toThrow(SourceError);
    }
    expect(hub.requests.length).toBe(before);
  });
});
