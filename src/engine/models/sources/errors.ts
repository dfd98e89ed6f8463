/**
 * Errors and small helpers shared by the model sources. Every error names the source (repo id,
 * folder label or URL) and the file, so the UI can show it to the user as is.
 */

export type SourceErrorCode =
  | 'not-found' // the file (or the repo / revision / folder) does not exist
  | 'unauthorized' // gated or private Hub repo: a token is needed, or the token was refused
  | 'network' // the request never got an answer (offline, DNS, CORS, connection reset)
  | 'truncated' // the body ended before content-length bytes arrived
  | 'http' // any other unexpected HTTP status
  | 'too-large' // the file is larger than the source's cap (announced or found while reading)
  | 'invalid' // a bad repo id, file name or byte range, caught before any request
  | 'out-of-range'; // a byte range past the end of the file

export class SourceError extends Error {
  constructor(
    readonly code: SourceErrorCode,
    /** The source label: repo id, folder name or base URL. */
    readonly source: string,
    /** The file inside the source, or null when the error is about the source itself. */
    readonly file: string | null,
    message: string,
    readonly status: number | null = null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SourceError';
  }
}

/**
 * Rejects names that could escape the model folder or are not plain relative paths: empty
 * names, a leading '/', backslashes, and '.' / '..' / empty segments. Nested names such as
 * `onnx/model.onnx` are fine.
 */
export function checkFileName(source: string, name: string): void {
  const bad = (why: string): never => {
    throw new SourceError('invalid', source, name, `${source}: invalid file name "${name}": ${why}`);
  };
  if (typeof name !== 'string' || name.length === 0) bad('the name is empty');
  if (name.startsWith('/')) bad('it must be relative to the model folder, not start with "/"');
  if (name.includes('\\')) bad('use "/" to separate folders, not "\\"');
  if (name.includes('..')) bad('".." is not allowed');
  if (/[\u0000-\u001f]/.test(name)) bad('it contains control characters');
  for (const seg of name.split('/')) {
    if (seg === '' || seg === '.') bad('it has an empty or "." path segment');
  }
}

/** Checks [start, end) against a file of `size` bytes (when known). */
export function checkRange(source: string, name: string, start: number, end: number, size?: number): void {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new SourceError('invalid', source, name, `${source}: invalid byte range [${start}, ${end}) for "${name}"`);
  }
  if (size !== undefined && end > size) {
    throw new SourceError(
      'out-of-range',
      source,
      name,
      `${source}: byte range [${start}, ${end}) is past the end of "${name}" (${size} bytes)`,
    );
  }
}

export function notFound(source: string, name: string): SourceError {
  return new SourceError('not-found', source, name, `${source}: file "${name}" not found`);
}

const decoder = new TextDecoder('utf-8');

/** UTF-8 text of a file; a leading BOM is dropped. */
export function decodeText(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}
