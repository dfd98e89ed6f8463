/** Reading the user's input files: whole-file reads with errors that name the file, strict UTF-8. */
import { readFile } from 'node:fs/promises';
import { InputFileError } from '../engine/train/sft-data';

/** Largest text input read at once (task suites, JSONL data, batch files). */
export const MAX_INPUT_BYTES = 512 * 2 ** 20;

/** A UTF-8 text file; bytes that are not UTF-8 are an error naming the file and offset, never replaced. */
export async function readTextInput(file: string, what: string): Promise<string> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new InputFileError(file, `cannot read the ${what}: ${(e as Error).message}`);
  }
  if (bytes.length > MAX_INPUT_BYTES) throw new InputFileError(file, `the ${what} is ${bytes.length} bytes; the limit is ${MAX_INPUT_BYTES}`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    let at = 0;
    for (let n = 1; n <= bytes.length; n++) {
      try {
        new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, n), { stream: true });
      } catch {
        at = n - 1;
        break;
      }
    }
    throw new InputFileError(file, `the ${what} is not valid UTF-8 (first bad byte near offset ${at})`);
  }
}
