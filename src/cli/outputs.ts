/**
 * The CLI's outputs: paths are checked before any work starts, so a long run never ends in
 * "cannot write there", and files and folders are written atomically (store/atomic-files.ts),
 * so a failure at any point (disk full, a size limit, a kill) leaves the previous good output as
 * it was.
 */
import { mkdir, readdir, stat, access } from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import { UsageError } from './args';

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

export { writeFileAtomic, writeFolderAtomic } from '../store/atomic-files';
