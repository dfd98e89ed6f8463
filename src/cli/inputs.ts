/** Reading the user's input files: whole-file reads with errors that name the flag and the file, strict UTF-8. */
import { readFile } from 'node:fs/promises';
import { FileArgumentError } from './args';

/** Largest text input read at once (task suites, JSONL data, batch files). */
export const MAX_INPUT_BYTES = 512 * 2 ** 20;

/** A UTF-8 text file; bytes that are not UTF-8 are an error naming the file and offset, never replaced. */
export async function readTextInput(flag: string, file: string): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new FileArgumentError(`--${flag} ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (bytes.length > MAX_INPUT_BYTES) throw new FileArgumentError(`--${flag} ${file}: is ${bytes.length} bytes; the limit is ${MAX_INPUT_BYTES}`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    let at = 0;
    const dec = new TextDecoder('utf-8', { fatal: true });
    for (let n = 1; n <= bytes.length; n++) {
      try {
        dec.decode(bytes.subarray(0, n), { stream: true });
      } catch {
        at = n - 1;
        break;
      }
    }
    throw new FileArgumentError(`--${flag} ${file}: is not valid UTF-8 (the first bad byte is near offset ${at})`);
  }
}
