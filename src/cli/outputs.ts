/**
 * Outputs that are never left half written. A file is written under a temporary name in the
 * same folder, flushed, then renamed over the target; a folder of outputs is written as a
 * temporary sibling folder and swapped in whole, so a failure at any point (disk full, a size
 * limit, a kill) leaves the previous good output as it was. Output paths are checked before any
 * work starts, so a long run never ends in "cannot write there".
 */
import { open, mkdir, readdir, rename, rm, stat, access } from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import { UsageError } from './args';

let counter = 0;
const tempName = (target: string, tag: string) => path.join(path.dirname(target), `.${path.basename(target)}.${tag}-${process.pid}-${++counter}`);

async function kind(p: string): Promise<'file' | 'dir' | 'none' | 'other'> {
  try {
    const s = await stat(p);
    return s.isFile() ? 'file' : s.isDirectory() ? 'dir' : 'other';
  } catch {
    return 'none';
  }
}

/**
 * Throw a UsageError now if `target` cannot become an output file (or, with `folder`, a folder).
 * An existing folder is only replaced when everything in it is one of `replaces` (the files the
 * command writes), so pointing --out at a folder of other work never deletes that work.
 */
export async function checkOutputPath(flag: string, target: string, what: 'file' | 'folder', replaces: readonly string[] = []): Promise<void> {
  const k = await kind(target);
  if (what === 'file' && k === 'dir') throw new UsageError(`--${flag} ${target} is a folder; expected a file path`);
  if (what === 'folder' && (k === 'file' || k === 'other')) throw new UsageError(`--${flag} ${target} exists and is not a folder`);
  if (what === 'folder' && k === 'dir') {
    const other = (await readdir(target)).filter((n) => !replaces.includes(n));
    if (other.length) throw new UsageError(`--${flag} ${target} already holds other files (${other.slice(0, 3).join(', ')}${other.length > 3 ? ', …' : ''}); choose a new or empty folder`);
  }
  if (k === 'other') throw new UsageError(`--${flag} ${target} is not a regular file`);
  const parent = path.dirname(path.resolve(target));
  const pk = await kind(parent);
  if (pk === 'none') {
    try {
      await mkdir(parent, { recursive: true });
    } catch (e) {
      throw new UsageError(`--${flag}: cannot create the folder ${parent} (${(e as Error).message})`);
    }
  } else if (pk !== 'dir') throw new UsageError(`--${flag}: ${parent} is not a folder`);
  try {
    await access(parent, constants.W_OK);
  } catch {
    throw new UsageError(`--${flag}: the folder ${parent} is not writable`);
  }
}

/** Write `data` to `target` atomically (temp file in the same folder, fsync, rename). */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempName(target, 'tmp');
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
  await fh.close();
  try {
    await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/**
 * Replace the folder `target` by one holding exactly `files` (name -> contents), or change
 * nothing: the files go to a temporary sibling folder first, which is then swapped in.
 */
export async function writeFolderAtomic(target: string, files: Record<string, string | Uint8Array>): Promise<void> {
  const tmp = tempName(target, 'new');
  await mkdir(tmp, { recursive: true });
  try {
    for (const [name, data] of Object.entries(files)) {
      if (name.includes('/') || name.includes('\\') || name === '..' || name === '.') throw new Error(`refusing to write the file name ${JSON.stringify(name)}`);
      const fh = await open(path.join(tmp, name), 'w');
      try {
        await fh.writeFile(data);
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  const old = (await kind(target)) === 'dir' ? tempName(target, 'old') : null;
  if (old) await rename(target, old);
  try {
    await rename(tmp, target);
  } catch (e) {
    if (old) await rename(old, target);
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  if (old) await rm(old, { recursive: true, force: true });
}
