/**
 * A Hugging Face Hub model repo as a FileSource.
 *
 * Files come from `${endpoint}/${repo}/resolve/${revision}/${file}`. How the Hub answers:
 * - small (git) files: 200 with the body, `etag` and `x-repo-commit` (the commit the revision
 *   resolved to);
 * - LFS / Xet files (weights): 302 to a signed CDN URL, with `x-linked-size` and
 *   `x-linked-etag` describing the target. fetch follows the redirect (and drops Authorization
 *   on the cross-origin hop, as the CDN URL is signed), so in a browser only the final
 *   response's headers are visible; `x-linked-size` is used when present, content-length
 *   otherwise;
 * - errors carry `x-error-code` (`RepoNotFound`, `RevisionNotFound`, `EntryNotFound`,
 *   `GatedRepo`) and `x-error-message`. A private or missing repo answers 401 without a token,
 *   so "not found" and "needs a token" cannot always be told apart.
 *
 * Whole files are kept in a FileCache keyed by the resolve URL, so a reload reads them back
 * without a request (progress then reports fromCache: true). A cached revision such as `main` is
 * not re-validated: pin a commit sha for reproducible runs, or clear the cache to refresh.
 *
 * There is deliberately no range(): loaders then read whole files through bytes(), which is
 * what lets the cache serve the next reload.
 */

import type { FileSource } from '../types';
import { checkFileName, decodeText, SourceError } from './errors';
import type { FileCache } from './file-cache';
import {
  bodyLength,
  fetchOrThrow,
  globalFetch,
  intHeader,
  readBody,
  type FetchLike,
  type ProgressCallback,
} from './http';

export const HF_ENDPOINT = 'https://huggingface.co';

export interface HubSourceOptions {
  /** `owner/name`, e.g. `Qwen/Qwen3-0.6B`. */
  repo: string;
  /** Branch, tag or commit sha; default `main`. */
  revision?: string;
  /** Hub base URL; default https://huggingface.co (a mirror or a local test server also work). */
  endpoint?: string;
  /** Where whole files are kept between loads; none means every load downloads. */
  cache?: FileCache;
  fetch?: FetchLike;
  onProgress?: ProgressCallback;
  /** Hugging Face access token for gated or private repos. */
  token?: string;
  /** Cancels downloads in flight. */
  signal?: AbortSignal;
  /** Largest file accepted, in bytes (default DEFAULT_MAX_FILE_BYTES); checked as bytes arrive. */
  maxFileBytes?: number;
}

// Same rules as huggingface_hub's validate_repo_id, but an owner is required: word characters,
// '-' and '.', not starting or ending with '-' or '.', no '--' or '..', name at most 96 chars.
const REPO_PART = /^(?![-.])[\w.-]+(?<![-.])$/;

/** Throws a SourceError('invalid') unless `repo` looks like `owner/name`. */
export function checkRepoId(repo: string): void {
  const bad = (why: string): never => {
    throw new SourceError('invalid', repo, null, `Invalid Hugging Face repo id "${repo}": ${why}`);
  };
  if (typeof repo !== 'string' || repo.trim() === '') bad('it is empty; expected "owner/name", e.g. "Qwen/Qwen3-0.6B"');
  if (/^https?:\/\//i.test(repo)) bad('give the repo id ("owner/name"), not a URL');
  const parts = repo.split('/');
  if (parts.length !== 2) bad('expected exactly one "/", as in "owner/name" (e.g. "Qwen/Qwen3-0.6B")');
  const [owner, name] = parts as [string, string];
  if (!REPO_PART.test(owner) || !REPO_PART.test(name)) {
    bad('owner and name may use letters, digits, "_", "-" and ".", and may not start or end with "-" or "."');
  }
  if (repo.includes('--') || repo.includes('..')) bad('"--" and ".." are not allowed');
  if (name.length > 96) bad('the name is longer than 96 characters');
  if (name.endsWith('.git')) bad('drop the ".git" suffix');
}

export class HubSource implements FileSource {
  readonly label: string;
  readonly repo: string;
  readonly revision: string;
  readonly endpoint: string;
  /** Commit the revision resolved to, from `x-repo-commit`, once any file was fetched. */
  commit: string | null = null;

  private readonly cache: FileCache | undefined;
  private readonly fetchImpl: FetchLike;
  private readonly onProgress: ProgressCallback | undefined;
  private readonly token: string | undefined;
  private readonly signal: AbortSignal | undefined;
  private readonly maxFileBytes: number | undefined;
  /** Downloads in flight, so concurrent bytes() calls for one file share a request. */
  private readonly pending = new Map<string, Promise<Uint8Array>>();

  constructor(opts: HubSourceOptions) {
    checkRepoId(opts.repo);
    this.repo = opts.repo;
    this.revision = opts.revision ?? 'main';
    if (this.revision === '') throw new SourceError('invalid', opts.repo, null, `Hub repo ${opts.repo}: empty revision`);
    this.endpoint = (opts.endpoint ?? HF_ENDPOINT).replace(/\/+$/, '');
    this.label = this.revision === 'main' ? this.repo : `${this.repo}@${this.revision}`;
    this.cache = opts.cache;
    this.fetchImpl = opts.fetch ?? globalFetch;
    this.onProgress = opts.onProgress;
    this.token = opts.token || undefined;
    this.signal = opts.signal;
    this.maxFileBytes = opts.maxFileBytes;
  }

  /** The resolve URL of a file; also its cache key. */
  url(name: string): string {
    checkFileName(this.label, name);
    const path = name.split('/').map(encodeURIComponent).join('/');
    return `${this.endpoint}/${this.repo}/resolve/${encodeURIComponent(this.revision)}/${path}`;
  }

  async has(name: string): Promise<boolean> {
    const url = this.url(name);
    if (this.cache && (await cacheHas(this.cache, url))) return true;
    const res = await this.request('HEAD', name, url);
    if (res.ok) return true;
    if (res.status === 404 && errorCode(res) !== 'RepoNotFound' && errorCode(res) !== 'RevisionNotFound') return false;
    throw this.statusError(res, name);
  }

  /** Size from a HEAD request (x-linked-size or content-length); the cache answers when offline. */
  async size(name: string): Promise<number> {
    const url = this.url(name);
    const cachedSize = async (): Promise<number | null> => (this.cache ? ((await this.cache.get(url))?.length ?? null) : null);
    let res: Response;
    try {
      res = await this.request('HEAD', name, url);
    } catch (err) {
      const n = await cachedSize();
      if (n !== null) return n;
      throw err;
    }
    if (!res.ok) {
      const n = await cachedSize();
      if (n !== null) return n;
      throw this.statusError(res, name);
    }
    const n = intHeader(res, 'x-linked-size') ?? bodyLength(res);
    return n ?? (await this.bytes(name)).length;
  }

  async text(name: string): Promise<string> {
    return decodeText(await this.bytes(name));
  }

  bytes(name: string): Promise<Uint8Array> {
    let url: string;
    try {
      url = this.url(name);
    } catch (err) {
      return Promise.reject(err);
    }
    let p = this.pending.get(url);
    if (!p) {
      p = this.load(name, url).finally(() => this.pending.delete(url));
      this.pending.set(url, p);
    }
    return p;
  }

  private async load(name: string, url: string): Promise<Uint8Array> {
    if (this.cache) {
      const hit = await this.cache.get(url);
      if (hit) {
        this.onProgress?.({ file: name, loaded: hit.length, total: hit.length, fromCache: true });
        return hit;
      }
    }
    const res = await this.request('GET', name, url);
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw this.statusError(res, name);
    }
    const bytes = await readBody(res, {
      source: this.label,
      file: name,
      what: `Download of "${name}" from Hub repo ${this.label}`,
      // content-length describes the body we read; x-linked-size only matters when the body is
      // encoded and content-length is withheld.
      total: bodyLength(res, intHeader(res, 'x-linked-size')),
      onProgress: this.onProgress,
      signal: this.signal,
      maxBytes: this.maxFileBytes,
    });
    if (this.cache) await this.cache.put(url, bytes);
    return bytes;
  }

  private async request(method: 'GET' | 'HEAD', name: string, url: string): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const res = await fetchOrThrow(
      this.fetchImpl,
      url,
      { method, headers, redirect: 'follow', signal: this.signal },
      { source: this.label, file: name, what: `Could not ${method === 'HEAD' ? 'check' : 'download'} "${name}" from Hub repo ${this.label}` },
    );
    const commit = res.headers.get('x-repo-commit');
    if (commit) this.commit = commit;
    return res;
  }

  private statusError(res: Response, name: string): SourceError {
    const code = errorCode(res);
    const where = `Hub repo ${this.repo}`;
    const status = res.status;
    const mk = (c: 'not-found' | 'unauthorized' | 'http', msg: string) =>
      new SourceError(c, this.label, name, msg, status);

    if (code === 'RepoNotFound' && (status === 404 || !this.token)) {
      return mk(
        status === 404 ? 'not-found' : 'unauthorized',
        `${where} not found (while fetching "${name}"). Check the repo id` +
          (this.token ? '.' : '; if the repo is private or gated, a Hugging Face access token is needed.'),
      );
    }
    if (code === 'RevisionNotFound') {
      return mk('not-found', `Revision "${this.revision}" not found in ${where} (while fetching "${name}").`);
    }
    if (status === 404) {
      return mk('not-found', `File "${name}" not found in ${where} at revision "${this.revision}".`);
    }
    if (status === 401 || status === 403) {
      const gated = code === 'GatedRepo' ? 'is gated' : 'is gated or private';
      const advice = this.token
        ? status === 403
          ? 'the token was refused: accept the model\'s terms on huggingface.co with this account, or use a token with access to it.'
          : 'the token was rejected (invalid or expired?); create a new access token on huggingface.co.'
        : 'a Hugging Face access token is needed (accept the model\'s terms on huggingface.co, then pass a token).';
      return mk('unauthorized', `${where} ${gated}, cannot download "${name}": ${advice}`);
    }
    const detail = res.headers.get('x-error-message');
    return mk(
      'http',
      `Could not download "${name}" from ${where}: HTTP ${status}${res.statusText ? ` ${res.statusText}` : ''}` +
        (detail ? ` (${detail})` : ''),
    );
  }
}

function errorCode(res: Response): string | null {
  return res.headers.get('x-error-code');
}

async function cacheHas(cache: FileCache, key: string): Promise<boolean> {
  if (cache.has) return cache.has(key);
  return (await cache.get(key)) !== null;
}
