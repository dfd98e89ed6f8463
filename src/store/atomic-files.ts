/**
 * Files that are never left half written (Node): a file is written under a temporary name in
 * the same folder, flushed, then renamed over the target; a folder is written as a temporary
 * sibling and swapped in whole. Used by the CLI's outputs and the run folder store.
 */
import { open, mkdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';

let counter = 0;
const tempName = (target: string, tag: string) => path.join(path.dirname(target), `.${path.basename(target)}.${tag}-${process.pid}-${++counter}`);

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
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
  const old = (await isDir(target)) ? tempName(target, 'old') : null;
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
