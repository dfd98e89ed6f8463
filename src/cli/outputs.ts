/**
 * The CLI's outputs: paths are checked before any work starts, so a long run never ends in
 * "cannot write there", and files and folders are written atomically (store/atomic-files.ts),
 * so a failure at any point (disk full, a size limit, a kill) leaves the previous good output as
 * it was.
 */
import { access, readdir, stat } from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import { FileArgumentError } from './args';

async function kind(p: string): Promise<'file' | 'dir' | 'none' | 'other'> {
  try {
    const s = await stat(p);
    return s.isFile() ? 'file' : s.isDirectory() ? 'dir' : 'other';
  } catch {
    return 'none';
  }
}

export interface OutputCheck {
  /** Input files of the command: the output may not be one of them. */
  inputs?: readonly string[];
  /**
   * For a folder output: names it may already hold (the files the command writes). A folder
   * holding anything else is refused, so --out never deletes other work.
   */
  replaces?: readonly string[];
}

/** Throw a FileArgumentError now if `target` cannot become the output file (or folder). */
export async function checkOutputPath(flag: string, target: string, what: 'file' | 'folder', opts: OutputCheck = {}): Promise<void> {
  const abs = path.resolve(target);
  for (const input of opts.inputs ?? []) if (path.resolve(input) === abs) throw new FileArgumentError(`--${flag} ${target}: is also an input file; write the output elsewhere`);
  const parent = path.dirname(abs);
  if ((await kind(parent)) !== 'dir') throw new FileArgumentError(`--${flag} ${target}: the folder ${path.dirname(target)} does not exist`);
  try {
    await access(parent, constants.W_OK);
  } catch {
    throw new FileArgumentError(`--${flag} ${target}: the folder ${path.dirname(target)} is not writable`);
  }
  const k = await kind(abs);
  if (what === 'file' && k === 'dir') throw new FileArgumentError(`--${flag} ${target}: is a folder; give a file name`);
  if (k === 'other') throw new FileArgumentError(`--${flag} ${target}: is not a regular file or folder`);
  if (what === 'folder' && k === 'file') throw new FileArgumentError(`--${flag} ${target}: is a file; give a folder`);
  if (what === 'folder' && k === 'dir') {
    const other = (await readdir(abs)).filter((n) => !(opts.replaces ?? []).includes(n));
    if (other.length) throw new FileArgumentError(`--${flag} ${target}: already holds other files (${other.slice(0, 3).join(', ')}${other.length > 3 ? ', …' : ''}); choose a new or empty folder`);
  }
}

export { writeFileAtomic, writeFolderAtomic } from '../store/atomic-files';
