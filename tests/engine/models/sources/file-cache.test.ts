import { describe, expect, it } from 'vitest';
import { BrowserCacheStorage, MemoryFileCache, cacheRequestUrl } from '../../../../src/engine/models/sources/file-cache';

/** Enough of the Cache API (keyed by URL) to exercise BrowserCacheStorage in Node. */
function fakeCaches(): CacheStorage & { stores: Map<string, Map<string, Response>> } {
  const stores = new Map<string, Map<string, Response>>();
  const open = async (name: string) => {
    let m = stores.get(name);
    if (!m) stores.set(name, (m = new Map()));
    const store = m;
    const key = (r: RequestInfo | URL) => (typeof r === 'string' ? r : r instanceof URL ? r.href : r.url);
    return {
      async match(r: RequestInfo | URL) {
        return store.get(key(r))?.clone();
      },
      async put(r: RequestInfo | URL, res: Response) {
        new URL(key(r)); // the real Cache API rejects keys that are not URLs
        store.set(key(r), res);
      },
      async delete(r: RequestInfo | URL) {
        return store.delete(key(r));
      },
    } as unknown as Cache;
  };
  return {
    stores,
    open,
    delete: async (name: string) => stores.delete(name),
  } as unknown as CacheStorage & { stores: Map<string, Map<string, Response>> };
}

describe('BrowserCacheStorage', () => {
  it('stores Responses in the pmd-lab-models cache and reads them back', async () => {
    const caches = fakeCaches();
    const c = new BrowserCacheStorage(undefined, caches);
    const key = 'https://huggingface.co/Qwen/Qwen3-0.6B/resolve/main/config.json';
    expect(await c.get(key)).toBeNull();
    await c.put(key, new Uint8Array([1, 2, 3]));
    expect([...caches.stores.keys()]).toEqual(['pmd-lab-models']);
    expect(await c.get(key)).toEqual(new Uint8Array([1, 2, 3]));
    expect(await c.has(key)).toBe(true);
    expect(await c.delete(key)).toBe(true);
    expect(await c.get(key)).toBeNull();
  });

  it('wraps non-URL keys and ignores entries of the wrong size', async () => {
    const caches = fakeCaches();
    const c = new BrowserCacheStorage('test', caches);
    await c.put('some key', new Uint8Array([9]));
    expect(cacheRequestUrl('some key')).toMatch(/^https:\/\//);
    expect(await c.get('some key')).toEqual(new Uint8Array([9]));
    caches.stores.get('test')!.set(cacheRequestUrl('bad'), new Response(new Uint8Array(3), { headers: { 'x-pmd-size': '5' } }));
    expect(await c.get('bad')).toBeNull();
  });

  it('treats a missing Cache API as misses and reports failed writes', async () => {
    const errors: string[] = [];
    const c = new BrowserCacheStorage('x', undefined, (op, key) => errors.push(`${op} ${key}`));
    expect(await c.get('k')).toBeNull();
    await c.put('k', new Uint8Array(1));
    expect(errors).toEqual(['put k']);
  });
});

describe('MemoryFileCache', () => {
  it('copies on put and get', async () => {
    const c = new MemoryFileCache();
    const b = new Uint8Array([1, 2]);
    await c.put('k', b);
    b[0] = 9;
    const got = (await c.get('k'))!;
    expect(got).toEqual(new Uint8Array([1, 2]));
    got[1] = 9;
    expect(await c.get('k')).toEqual(new Uint8Array([1, 2]));
    expect(await c.delete('k')).toBe(true);
    expect(await c.get('k')).toBeNull();
  });
});
