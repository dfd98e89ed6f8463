/**
 * A local stand-in for the Hugging Face Hub's file endpoints, for Vitest and Playwright tests.
 * Node only (node:http, node:crypto); no Vite imports, so a Playwright global setup can load it.
 *
 *   GET/HEAD /{owner}/{name}/resolve/{revision}/{file}
 *     small files:  200, body, etag (git blob sha1), x-repo-commit, content-length
 *     large files (size > lfsThreshold, or *.safetensors / *.bin / *.gguf / *.onnx):
 *                   302, location: {server}/cdn/{sha256}?..., x-linked-size, x-linked-etag,
 *                   x-repo-commit (the way the Hub sends LFS/Xet files to its CDN)
 *     errors:       404 + x-error-code EntryNotFound | RepoNotFound | RevisionNotFound,
 *                   401 + GatedRepo for gated repos without a token, 403 + GatedRepo for a
 *                   token the server does not accept (when `tokens` is given)
 *   GET/HEAD /cdn/{sha256}?repo=..&file=..   the bytes, with accept-ranges, etag and Range -> 206
 *
 * Revisions: `main` and the repo's fake commit sha (see `commitOf`) resolve; others are
 * RevisionNotFound. All answers carry permissive CORS headers so a page on another port can
 * fetch from it. Every request is recorded in `requests`.
 */

import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface HubServerOptions {
  /** repo id -> file name -> bytes. Read on every request, so tests may change it later. */
  repos: Record<string, Record<string, Uint8Array>>;
  /** Repos that answer 401 without an Authorization header. */
  gated?: string[];
  /** When given, only these bearer tokens open gated repos; others get 403. */
  tokens?: string[];
  /** Port to listen on; default 0 (any free port). */
  port?: number;
  /** Files larger than this many bytes are redirected to the CDN path; default 64 KiB. */
  lfsThreshold?: number;
  /**
   * `repo/file` -> number of bytes to send before dropping the connection, while content-length
   * announces the whole file. Simulates a download cut short.
   */
  truncate?: Record<string, number>;
  /** Bytes per write when streaming bodies (so clients see several chunks); default 16 KiB. */
  chunkSize?: number;
}

export interface RecordedRequest {
  method: string;
  /** Path and query as requested, e.g. `/a/b/resolve/main/config.json`. */
  path: string;
  range?: string;
  authorized: boolean;
}

export interface HubServer {
  /** `http://127.0.0.1:{port}`, to pass as the HubSource endpoint. */
  url: string;
  close(): Promise<void>;
  requests: RecordedRequest[];
}

const LFS_SUFFIXES = ['.safetensors', '.bin', '.gguf', '.onnx', '.pt', '.pth', '.h5'];

/** The fake commit sha the server reports for a repo (a sha1 of its id). */
export function commitOf(repo: string): string {
  return createHash('sha1').update(`commit:${repo}`).digest('hex');
}

/** The etag the Hub gives a small file: the git blob sha1, quoted. */
function gitBlobEtag(bytes: Uint8Array): string {
  return `"${createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex')}"`;
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const CORS_HEADERS: Record<string, string> = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, HEAD, OPTIONS',
  'access-control-allow-headers': 'authorization, range, content-type',
  'access-control-expose-headers':
    'content-length, content-range, accept-ranges, etag, x-repo-commit, x-linked-size, x-linked-etag, x-error-code, x-error-message',
  'access-control-max-age': '600',
};

export async function startHubServer(opts: HubServerOptions): Promise<HubServer> {
  const requests: RecordedRequest[] = [];
  const threshold = opts.lfsThreshold ?? 64 * 1024;
  const chunkSize = Math.max(1, opts.chunkSize ?? 16 * 1024);
  const sockets = new Set<Socket>();

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain', ...CORS_HEADERS });
        res.end(String(err));
      } else {
        res.destroy();
      }
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const rawPath = req.url ?? '/';
    const auth = req.headers.authorization;
    requests.push({
      method,
      path: rawPath,
      ...(req.headers.range ? { range: req.headers.range } : {}),
      authorized: typeof auth === 'string' && auth.length > 0,
    });

    if (method === 'OPTIONS') {
      res.writeHead(204, CORS_HEADERS);
      res.end();
      return;
    }
    if (method !== 'GET' && method !== 'HEAD') {
      return sendError(res, method, 405, 'MethodNotAllowed', 'Method not allowed');
    }

    const url = new URL(rawPath, 'http://hub.local');
    const segs = url.pathname.split('/').slice(1);

    // CDN: /cdn/{sha256}?repo=..&file=..
    if (segs[0] === 'cdn' && segs.length === 2) {
      const repo = url.searchParams.get('repo') ?? '';
      const file = url.searchParams.get('file') ?? '';
      const bytes = opts.repos[repo]?.[file];
      if (!bytes || sha256(bytes) !== segs[1]) {
        return sendError(res, method, 404, null, 'No such object');
      }
      return sendBytes(req, res, method, bytes, { etag: `"${segs[1]}"`, 'accept-ranges': 'bytes' }, `${repo}/${file}`);
    }

    // Hub: /{owner}/{name}/resolve/{revision}/{file...}
    if (segs.length < 5 || segs[2] !== 'resolve') {
      return sendError(res, method, 404, null, 'Not found');
    }
    let repo: string, revision: string, file: string;
    try {
      repo = `${decodeURIComponent(segs[0]!)}/${decodeURIComponent(segs[1]!)}`;
      revision = decodeURIComponent(segs[3]!);
      file = segs.slice(4).map(decodeURIComponent).join('/');
    } catch {
      return sendError(res, method, 400, null, 'Bad path encoding');
    }
    if (file.split('/').some((s) => s === '..' || s === '.' || s === '')) {
      return sendError(res, method, 400, null, 'Invalid file path');
    }

    const files = opts.repos[repo];
    if (!files) {
      return sendError(res, method, 404, 'RepoNotFound', 'Repository not found');
    }
    if (opts.gated?.includes(repo)) {
      const token = typeof auth === 'string' && /^Bearer\s+(.+)$/i.exec(auth)?.[1];
      if (!token) {
        return sendError(res, method, 401, 'GatedRepo', `Access to model ${repo} is restricted. You must have access to it and be authenticated to access it.`);
      }
      if (opts.tokens && !opts.tokens.includes(token)) {
        return sendError(res, method, 403, 'GatedRepo', `Access to model ${repo} is restricted and you are not in the authorized list.`);
      }
    }
    const commit = commitOf(repo);
    if (revision !== 'main' && revision !== commit) {
      return sendError(res, method, 404, 'RevisionNotFound', 'Invalid rev id: ' + revision, { 'x-repo-commit': commit });
    }
    const bytes = files[file];
    if (!bytes) {
      return sendError(res, method, 404, 'EntryNotFound', 'Entry not found', { 'x-repo-commit': commit });
    }

    const isLfs = bytes.length > threshold || LFS_SUFFIXES.some((s) => file.endsWith(s));
    if (isLfs) {
      const hash = sha256(bytes);
      const host = req.headers.host ?? '127.0.0.1';
      const location = `http://${host}/cdn/${hash}?repo=${encodeURIComponent(repo)}&file=${encodeURIComponent(file)}`;
      res.writeHead(302, {
        ...CORS_HEADERS,
        location,
        'x-repo-commit': commit,
        'x-linked-size': String(bytes.length),
        'x-linked-etag': `"${hash}"`,
        etag: `"${hash}"`,
        'content-type': 'text/plain; charset=utf-8',
        'content-length': '0',
      });
      res.end();
      return;
    }
    return sendBytes(req, res, method, bytes, { etag: gitBlobEtag(bytes), 'x-repo-commit': commit, 'accept-ranges': 'bytes' }, `${repo}/${file}`);
  }

  function sendError(
    res: ServerResponse,
    method: string,
    status: number,
    code: string | null,
    message: string,
    extra: Record<string, string> = {},
  ): void {
    const body = JSON.stringify({ error: message });
    res.writeHead(status, {
      ...CORS_HEADERS,
      ...extra,
      ...(code ? { 'x-error-code': code } : {}),
      'x-error-message': message,
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(body)),
    });
    res.end(method === 'HEAD' ? undefined : body);
  }

  async function sendBytes(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    bytes: Uint8Array,
    headers: Record<string, string>,
    key: string,
  ): Promise<void> {
    let status = 200;
    let body = bytes;
    const extra: Record<string, string> = {};
    const range = req.headers.range;
    if (range) {
      const m = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
      let start = NaN;
      let end = NaN; // inclusive
      if (m && (m[1] !== '' || m[2] !== '')) {
        if (m[1] === '') {
          // suffix range: the last N bytes
          start = Math.max(0, bytes.length - Number(m[2]));
          end = bytes.length - 1;
        } else {
          start = Number(m[1]);
          end = m[2] === '' ? bytes.length - 1 : Math.min(Number(m[2]), bytes.length - 1);
        }
      }
      if (!(start <= end) || start >= bytes.length) {
        res.writeHead(416, { ...CORS_HEADERS, 'content-range': `bytes */${bytes.length}`, 'content-length': '0' });
        res.end();
        return;
      }
      status = 206;
      body = bytes.subarray(start, end + 1);
      extra['content-range'] = `bytes ${start}-${end}/${bytes.length}`;
    }
    res.writeHead(status, {
      ...CORS_HEADERS,
      ...headers,
      ...extra,
      'content-type': 'application/octet-stream',
      'content-length': String(body.length),
    });
    if (method === 'HEAD') {
      res.end();
      return;
    }
    const cut = status === 200 ? opts.truncate?.[key] : undefined;
    const limit = cut !== undefined ? Math.min(cut, body.length) : body.length;
    for (let off = 0; off < limit; off += chunkSize) {
      const chunk = body.subarray(off, Math.min(off + chunkSize, limit));
      if (!res.write(chunk)) await new Promise<void>((r) => res.once('drain', () => r()));
    }
    if (cut !== undefined) {
      // Let the written part reach the client, then drop the connection mid-body.
      await new Promise<void>((r) => setTimeout(r, 20));
      res.socket?.destroy();
      return;
    }
    res.end();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const s of sockets) s.destroy();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
