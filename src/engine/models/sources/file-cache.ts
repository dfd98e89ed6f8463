/**
 * Whole-file caches for downloaded model files, so a page reload does not download a checkpoint
 * again. Keys are opaque strings (HubSource uses the resolve URL, which holds endpoint, repo,
 * revision and file).
 */

export interface FileCache {
  get(key: string): Promise<Uint8Array | null>;
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** Whether `key` is cached, without reading the bytes (optional; falls back to get()). */
  has?(key: string): Promise<boolean>;
  delete?(key: string): Promise<boolean>;
}

export const MODEL_CACHE_NAME = 'pmd-lab-models';

/** Header that records the stored length, so a partially written entry reads as a miss. */
const SIZE_HEADER = 'x-pmd-size';

/**
 * The Cache API (`caches.open('pmd-lab-models')`), storing each file as a Response. Available in
 * windows and workers on secure origins (https or localhost). Read or write failures (quota,
 * private mode, evicted entries) are treated as cache misses, never as load failures; a failed
 * write is reported through `onError` (console.warn by default).
 */
export class BrowserCacheStorage implements FileCache {
  private cache: Promise<Cache> | null = null;

  constructor(
    readonly cacheName: string = MODEL_CACHE_NAME,
    private readonly storage: CacheStorage | undefined = globalThis.caches,
    private readonly onError: (op: string, key: string, err: unknown) => void = (op, key, err) =>
      console.warn(`[pmd-lab] model cache ${op} failed for ${key}:`, err),
  ) {}

  /** Whether the Cache API exists here (it does not in Node or on insecure origins). */
  static available(): boolean {
    return typeof globalThis.caches !== 'undefined' && typeof globalThis.caches.open === 'function';
  }

  private open(): Promise<Cache> {
    if (!this.storage) return Promise.reject(new Error('the Cache API is not available here'));
    this.cache ??= this.storage.open(this.cacheName).catch((err: unknown) => {
      this.cache = null;
      throw err;
    });
    return this.cache;
  }

  async get(key: string): Promise<Uint8Array | null> {
    try {
      const res = await (await this.open()).match(cacheRequestUrl(key));
      if (!res) return null;
      const bytes = new Uint8Array(await res.arrayBuffer());
      const want = res.headers.get(SIZE_HEADER);
      if (want !== null && Number(want) !== bytes.length) return null;
      return bytes;
    } catch {
      return null;
    }
  }

  async has(key: string): Promise<boolean> {
    try {
      return (await (await this.open()).match(cacheRequestUrl(key))) !== undefined;
    } catch {
      return false;
    }
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    try {
      const body = new Blob([bytes as Uint8Array<ArrayBuffer>]);
      const res = new Response(body, {
        headers: {
          'content-type': 'application/octet-stream',
          'content-length': String(bytes.length),
          [SIZE_HEADER]: String(bytes.length),
        },
      });
      await (await this.open()).put(cacheRequestUrl(key), res);
    } catch (err) {
      this.onError('put', key, err);
    }
  }

  async delete(key: string): Promise<boolean> {
    try {
      return await (await this.open()).delete(cacheRequestUrl(key));
    } catch {
      return false;
    }
  }

  /** Drops the whole cache (all models). */
  async clear(): Promise<boolean> {
    this.cache = null;
    return this.storage ? this.storage.delete(this.cacheName) : false;
  }
}

/**
 * Cache API keys must be http(s) URLs. Keys that already are one are used as is; anything else
 * is wrapped into a URL on a reserved host that is never fetched.
 */
export function cacheRequestUrl(key: string): string {
  if (/^https?:\/\//i.test(key)) return key;
  return `https://pmd-lab.invalid/cache/${encodeURIComponent(key)}`;
}

/**
 * An in-memory FileCache for tests and for places without the Cache API. It copies bytes on
 * put and on get, so callers may modify what they receive.
 */
export class MemoryFileCache implements FileCache {
  readonly entries = new Map<string, Uint8Array>();

  async get(key: string): Promise<Uint8Array | null> {
    const v = this.entries.get(key);
    return v ? v.slice() : null;
  }

  async has(key: string): Promise<boolean> {
    return this.entries.has(key);
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    this.entries.set(key, bytes.slice());
  }

  async delete(key: string): Promise<boolean> {
    return this.entries.delete(key);
  }
}

/** The Cache API where it exists, else an in-memory cache (which only lasts for the session). */
export function defaultFileCache(): FileCache {
  return BrowserCacheStorage.available() ? new BrowserCacheStorage() : new MemoryFileCache();
}
