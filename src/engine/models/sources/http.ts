/**
 * HTTP plumbing shared by HubSource and UrlFolderSource: progress events, streaming a body with
 * a reader, and turning fetch failures into SourceErrors that name the source and file.
 */

import { SourceError } from './errors';

/** One progress report for one file. `total` is null when the server did not say. */
export interface DownloadProgress {
  file: string;
  loaded: number;
  total: number | null;
  /** True when the bytes came from the FileCache and nothing was downloaded. */
  fromCache: boolean;
}

export type ProgressCallback = (e: DownloadProgress) => void;

export type FetchLike = typeof fetch;

/** The global fetch, looked up at call time (so tests can stub it) and never called as a method. */
export const globalFetch: FetchLike = (input, init) => fetch(input, init);

/** `base` + `file` with each path segment of `file` percent-encoded; `base` may be relative. */
export function joinUrl(base: string, file: string): string {
  const path = file.split('/').map(encodeURIComponent).join('/');
  return base.endsWith('/') ? base + path : `${base}/${path}`;
}

export function isAbortError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'AbortError';
}

function describeCause(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // Node's fetch says "fetch failed" and keeps the useful part (ECONNREFUSED, ...) in `cause`.
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error && cause.message && cause.message !== err.message) return `${err.message}: ${cause.message}`;
  const code = (cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? `${err.message} (${code})` : err.message;
}

/**
 * fetch() that turns a thrown TypeError (no answer at all) into a 'network' SourceError whose
 * message starts with `what`. Abort errors pass through untouched.
 */
export async function fetchOrThrow(
  fetchImpl: FetchLike,
  url: string,
  init: RequestInit,
  ctx: { source: string; file: string; what: string },
): Promise<Response> {
  try {
    return await fetchImpl(url, init);
  } catch (err) {
    if (isAbortError(err)) throw err;
    throw new SourceError(
      'network',
      ctx.source,
      ctx.file,
      `${ctx.what}: network error (${describeCause(err)}). Check the connection, the address ${url} ` +
        `and, in a browser, that the server allows cross-origin requests.`,
      null,
      { cause: err },
    );
  }
}

/** A non-negative integer header value, or null. */
export function intHeader(res: Response, name: string): number | null {
  const v = res.headers.get(name);
  if (v === null || !/^\d+$/.test(v.trim())) return null;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : null;
}

/**
 * Expected body length: content-length, unless the body is content-encoded (then the reader
 * yields more bytes than the header says), falling back to `fallback` (e.g. x-linked-size).
 */
export function bodyLength(res: Response, fallback: number | null = null): number | null {
  const encoding = res.headers.get('content-encoding');
  if (encoding && encoding !== 'identity') return fallback;
  return intHeader(res, 'content-length') ?? fallback;
}

/** Largest file a source downloads unless told otherwise. */
export const DEFAULT_MAX_FILE_BYTES = 16 * 2 ** 30;

/**
 * Bytes that arrive in chunks. Capacity doubles as data comes in, clamped to the announced
 * length while the body stays within it, so an honest server's file ends in a buffer of exactly
 * its size and a lying content-length never allocates anything by itself.
 */
class GrowingBytes {
  private buf = new Uint8Array(0);
  length = 0;

  constructor(private readonly announced: number | null) {}

  push(chunk: Uint8Array): void {
    const need = this.length + chunk.length;
    if (need > this.buf.length) {
      let cap = Math.max(need, this.buf.length * 2, 64 * 1024);
      if (this.announced !== null && need <= this.announced) cap = Math.min(cap, this.announced);
      const bigger = new Uint8Array(cap);
      bigger.set(this.buf.subarray(0, this.length));
      this.buf = bigger;
    }
    this.buf.set(chunk, this.length);
    this.length = need;
  }

  bytes(): Uint8Array {
    return this.length === this.buf.length ? this.buf : this.buf.slice(0, this.length);
  }
}

/**
 * Reads a response body chunk by chunk, reporting progress as bytes arrive, and never holding
 * more than `maxBytes` (default DEFAULT_MAX_FILE_BYTES): a body announced or found to be larger
 * is a 'too-large' error naming the file and the cap. When `total` is known, a body that ends
 * early (or a connection that drops mid-body) is a 'truncated' error; with no total a dropped
 * connection is a 'network' error. The last progress event always has loaded === total.
 */
export async function readBody(
  res: Response,
  ctx: {
    source: string;
    file: string;
    /** Start of error messages, e.g. `Download of "x" from Hub repo a/b`. */
    what: string;
    total: number | null;
    onProgress?: ProgressCallback;
    signal?: AbortSignal;
    /** Largest body accepted, in bytes. */
    maxBytes?: number;
  },
): Promise<Uint8Array> {
  const { total, onProgress, file } = ctx;
  const maxBytes = ctx.maxBytes ?? DEFAULT_MAX_FILE_BYTES;
  const report = (loaded: number, t: number | null) => onProgress?.({ file, loaded, total: t, fromCache: false });
  if (total !== null && total > maxBytes) {
    await res.body?.cancel().catch(() => {});
    throw tooLarge(`the server announces ${total} bytes`);
  }
  report(0, total);
  if (!res.body) {
    // Some environments (or HEAD-like answers) give no stream; fall back to arrayBuffer().
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (bytes.length > maxBytes) throw tooLarge(`the body holds ${bytes.length} bytes`);
    checkComplete(bytes.length);
    report(bytes.length, Math.max(total ?? 0, bytes.length));
    return bytes;
  }

  const reader = res.body.getReader();
  const received = new GrowingBytes(total);
  let loaded = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!value || value.length === 0) continue;
      if (loaded + value.length > maxBytes) {
        await reader.cancel().catch(() => {});
        throw tooLarge(`the body grew past ${maxBytes} bytes`);
      }
      received.push(value);
      loaded += value.length;
      report(loaded, total !== null ? Math.max(total, loaded) : null);
    }
  } catch (err) {
    if (err instanceof SourceError && err.code === 'too-large') throw err;
    if (isAbortError(err) || ctx.signal?.aborted) throw err;
    if (total !== null && loaded < total) throw truncated(loaded, err);
    throw new SourceError(
      'network',
      ctx.source,
      file,
      `${ctx.what} failed after ${loaded} bytes: network error (${describeCause(err)})`,
      null,
      { cause: err },
    );
  } finally {
    reader.releaseLock();
  }
  checkComplete(loaded);
  // Make sure the last event says "done" even when no total was known.
  if (total === null) report(loaded, loaded);
  return received.bytes();

  function tooLarge(why: string): SourceError {
    return new SourceError(
      'too-large',
      ctx.source,
      file,
      `${ctx.what} refused: ${why}; the cap on one file is ${maxBytes} bytes (maxFileBytes)`,
    );
  }
  function truncated(got: number, cause?: unknown): SourceError {
    return new SourceError(
      'truncated',
      ctx.source,
      file,
      `${ctx.what} was cut short: got ${got} of ${total} bytes. Try again; if it keeps happening the ` +
        `connection or the server is dropping the download.`,
      null,
      cause === undefined ? undefined : { cause },
    );
  }
  function checkComplete(got: number): void {
    if (total !== null && got < total) throw truncated(got);
  }
}
