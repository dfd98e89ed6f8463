/**
 * A model folder served over plain HTTP, e.g. the embedded default model under the app's
 * public/ dir (`/models/tiny-qwen3/`). The base URL may be relative (resolved by fetch against
 * the page or worker location) or absolute.
 *
 * Dev servers with an SPA fallback (Vite) answer a missing file with 200 and index.html; an
 * HTML answer for a file that is not .html is therefore treated as "not found".
 * The browser's HTTP cache is the only cache here; see HubSource for a persistent one.
 */

import type { FileSource } from '../types';
import { checkFileName, checkRange, decodeText, SourceError } from './errors';
import { bodyLength, fetchOrThrow, globalFetch, readBody, joinUrl, type FetchLike, type ProgressCallback } from './http';

export interface UrlFolderSourceOptions {
  /** Folder URL, e.g. `/models/tiny-qwen3/` or `http://127.0.0.1:5173/models/tiny-qwen3`. */
  url: string;
  /** Name in error messages; default the URL. */
  label?: string;
  fetch?: FetchLike;
  onProgress?: ProgressCallback;
  /** Extra request headers (e.g. authorization for a private mirror). */
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Largest file accepted, in bytes (default DEFAULT_MAX_FILE_BYTES); checked as bytes arrive. */
  maxFileBytes?: number;
}

export class UrlFolderSource implements FileSource {
  readonly label: string;
  readonly baseUrl: string;
  private readonly fetchImpl: FetchLike;
  private readonly onProgress: ProgressCallback | undefined;
  private readonly headers: Record<string, string>;
  private readonly signal: AbortSignal | undefined;
  private readonly maxFileBytes: number | undefined;
  /** Bytes read so far by range() per file, for progress (a checkpoint is read tensor by tensor). */
  private readonly rangeBytes = new Map<string, number>();

  constructor(opts: UrlFolderSourceOptions | string) {
    const o = typeof opts === 'string' ? { url: opts } : opts;
    if (!o.url) throw new SourceError('invalid', '(url folder)', null, 'UrlFolderSource: the folder URL is empty');
    this.baseUrl = o.url.endsWith('/') ? o.url : `${o.url}/`;
    this.label = o.label ?? this.baseUrl;
    this.fetchImpl = o.fetch ?? globalFetch;
    this.onProgress = o.onProgress;
    this.headers = o.headers ?? {};
    this.signal = o.signal;
    this.maxFileBytes = o.maxFileBytes;
  }

  url(name: string): string {
    checkFileName(this.label, name);
    return joinUrl(this.baseUrl, name);
  }

  async has(name: string): Promise<boolean> {
    const res = await this.request('HEAD', name);
    if (res.ok) return !isHtmlFallback(res, name);
    if (res.status === 404 || res.status === 410) return false;
    throw this.statusError(res, name);
  }

  async size(name: string): Promise<number> {
    const res = await this.request('HEAD', name);
    if (!res.ok || isHtmlFallback(res, name)) throw this.statusError(res, name);
    return bodyLength(res) ?? (await this.bytes(name)).length;
  }

  async text(name: string): Promise<string> {
    return decodeText(await this.bytes(name));
  }

  async bytes(name: string): Promise<Uint8Array> {
    const res = await this.request('GET', name);
    if (!res.ok || isHtmlFallback(res, name)) {
      await res.body?.cancel().catch(() => {});
      throw this.statusError(res, name);
    }
    return readBody(res, {
      source: this.label,
      file: name,
      what: `Download of "${name}" from ${this.label}`,
      total: bodyLength(res),
      onProgress: this.onProgress,
      signal: this.signal,
      maxBytes: this.maxFileBytes,
    });
  }

  /** Bytes [start, end) with a Range request; a server that ignores Range sends it all and we slice. */
  async range(name: string, start: number, end: number): Promise<Uint8Array> {
    checkRange(this.label, name, start, end);
    if (start === end) return new Uint8Array(0);
    const res = await this.request('GET', name, { range: `bytes=${start}-${end - 1}` });
    if (res.status === 416) {
      await res.body?.cancel().catch(() => {});
      throw this.outOfRange(name, start, end, contentRangeTotal(res));
    }
    if (!res.ok || isHtmlFallback(res, name)) {
      await res.body?.cancel().catch(() => {});
      throw this.statusError(res, name);
    }
    const what = `Reading bytes [${start}, ${end}) of "${name}" from ${this.label}`;
    const ctx = { source: this.label, file: name, what, total: bodyLength(res), signal: this.signal, maxBytes: this.maxFileBytes };
    if (res.status === 206) {
      const bytes = await readBody(res, ctx);
      // Servers clamp a range that runs past the end of the file.
      if (bytes.length !== end - start) throw this.outOfRange(name, start, end, contentRangeTotal(res));
      this.reportRange(name, bytes.length, contentRangeTotal(res));
      return bytes;
    }
    const all = await readBody(res, ctx);
    checkRange(this.label, name, start, end, all.length);
    this.reportRange(name, end - start, all.length);
    return all.slice(start, end);
  }

  /** Progress of a file read in ranges: the bytes read so far (at most its size) against its size. */
  private reportRange(name: string, n: number, size: number | null): void {
    if (!this.onProgress) return;
    const sofar = (this.rangeBytes.get(name) ?? 0) + n;
    this.rangeBytes.set(name, sofar);
    this.onProgress({ file: name, loaded: size === null ? sofar : Math.min(sofar, size), total: size, fromCache: false });
  }

  private outOfRange(name: string, start: number, end: number, size: number | null): SourceError {
    return new SourceError(
      'out-of-range',
      this.label,
      name,
      `${this.label}: byte range [${start}, ${end}) is past the end of "${name}"${size !== null ? ` (${size} bytes)` : ''}`,
    );
  }

  private request(method: 'GET' | 'HEAD', name: string, extra: Record<string, string> = {}): Promise<Response> {
    const url = this.url(name);
    return fetchOrThrow(
      this.fetchImpl,
      url,
      { method, headers: { ...this.headers, ...extra }, signal: this.signal },
      { source: this.label, file: name, what: `Could not ${method === 'HEAD' ? 'check' : 'download'} "${name}" from ${this.label}` },
    );
  }

  private statusError(res: Response, name: string): SourceError {
    if (res.status === 404 || res.status === 410 || isHtmlFallback(res, name)) {
      return new SourceError('not-found', this.label, name, `${this.label}: file "${name}" not found (${this.url(name)})`, res.status);
    }
    if (res.status === 401 || res.status === 403) {
      return new SourceError('unauthorized', this.label, name, `${this.label}: access to "${name}" was refused (HTTP ${res.status})`, res.status);
    }
    return new SourceError(
      'http',
      this.label,
      name,
      `${this.label}: could not download "${name}": HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`,
      res.status,
    );
  }
}

function isHtmlFallback(res: Response, name: string): boolean {
  if (!res.ok) return false;
  const type = res.headers.get('content-type') ?? '';
  return /^text\/html\b/i.test(type) && !/\.html?$/i.test(name);
}

/** The full size from `content-range: bytes a-b/size` (also in a 416 answer), if given. */
function contentRangeTotal(res: Response): number | null {
  const m = /\/(\d+)\s*$/.exec(res.headers.get('content-range') ?? '');
  return m ? Number(m[1]) : null;
}
