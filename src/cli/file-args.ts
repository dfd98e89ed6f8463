/**
 * Files named on the command line. An output path is checked before any work starts and the file
 * is written atomically (a temporary name in the same folder, then a rename), so a failed or
 * interrupted run never leaves half a file under the requested name. Input files that cannot be
 * read are errors naming the flag and the file.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

export class FileArgumentError extends Error {
  override name = 'FileArgumentError';
}

/** Fail early when `out` cannot be the output: a folder, a missing folder, or one of the inputs. */
export async function checkOutputPath(flag: string, out: string, inputs: readonly string[]): Promise<void> {
  const abs = path.resolve(out);
  for (const input of inputs) if (path.resolve(input) === abs) throw new FileArgumentError(`--${flag} ${out}: is also an input file; write the output elsewhere`);
  const dir = path.dirname(abs);
  const folder = await stat(dir).catch(() => null);
  if (!folder?.isDirectory()) throw new FileArgumentError(`--${flag} ${out}: the folder ${path.dirname(out)} does not exist`);
  const existing = await stat(abs).catch(() => null);
  if (existing?.isDirectory()) throw new FileArgumentError(`--${flag} ${out}: is a folder; give a file name`);
}

export async function writeFileAtomic(out: string, data: string): Promise<void> {
  const tmp = path.join(path.dirname(out), `.${path.basename(out)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, data);
    await rename(tmp, out);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** An input file's text, or an error that names the flag and the file. */
export async function readInputFile(flag: string, file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new FileArgumentError(`--${flag} ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
