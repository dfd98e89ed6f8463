/**
 * ZIP archives through fflate, for the adapter download (two PEFT files in one click) and the
 * run bundle (a whole run as one re-importable file), in Node and the browser alike. Names that
 * could escape the folder an archive is unpacked into are refused both ways, and reading checks
 * sizes first, so a hostile archive cannot claim gigabytes of memory.
 */
import { unzipSync, zipSync, type Zippable } from 'fflate';

export interface ZipEntry {
  name: string;
  data: Uint8Array | string;
}

/** Archive limits: entry count and total uncompressed bytes. */
export interface UnzipLimits {
  maxEntries: number;
  maxBytes: number;
}

export const DEFAULT_UNZIP_LIMITS: UnzipLimits = { maxEntries: 10_000, maxBytes: 2 * 2 ** 30 };

export class ZipError extends Error {
  override name = 'ZipError';
}

/** A relative path of plain segments: no absolute paths, backslashes, "." or ".." segments, or empty names. */
export function isSafeZipName(name: string): boolean {
  if (name === '' || name.startsWith('/') || name.includes('\\') || name.includes('\0')) return false;
  return name.split('/').every((seg) => seg !== '' && seg !== '.' && seg !== '..');
}

/** An archive of `entries`; `compress` deflates (level 6) instead of storing. */
export function makeZip(entries: readonly ZipEntry[], opts: { compress?: boolean } = {}): Uint8Array {
  const enc = new TextEncoder();
  const tree: Zippable = {};
  for (const e of entries) {
    if (!isSafeZipName(e.name)) throw new ZipError(`unsafe file name ${JSON.stringify(e.name)} in an archive`);
    if (e.name in tree) throw new ZipError(`the archive lists ${e.name} twice`);
    tree[e.name] = [typeof e.data === 'string' ? enc.encode(e.data) : e.data, { level: opts.compress ? 6 : 0 }];
  }
  // A fixed timestamp keeps archives of the same files byte-identical.
  return zipSync(tree, { mtime: new Date(Date.UTC(2020, 0, 1)) });
}

/** The files of an archive by name; bad or hostile archives are a ZipError that says why. */
export function readZip(bytes: Uint8Array, limits: UnzipLimits = DEFAULT_UNZIP_LIMITS): Map<string, Uint8Array> {
  let count = 0;
  let total = 0;
  let out: Record<string, Uint8Array>;
  try {
    out = unzipSync(bytes, {
      filter: (f) => {
        if (!isSafeZipName(f.name.replace(/\/$/, '') || '/')) throw new ZipError(`the archive holds an unsafe file name ${JSON.stringify(f.name)}`);
        if (++count > limits.maxEntries) throw new ZipError(`the archive holds more than ${limits.maxEntries} files`);
        total += f.originalSize;
        if (total > limits.maxBytes) throw new ZipError(`the archive unpacks to more than ${limits.maxBytes} bytes`);
        return !f.name.endsWith('/');
      },
    });
  } catch (e) {
    if (e instanceof ZipError) throw e;
    throw new ZipError(`not a readable ZIP archive (${(e as Error).message})`);
  }
  return new Map(Object.entries(out));
}
