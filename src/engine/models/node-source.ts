/**
 * FileSource over a folder on the Node file system. bytes() reads a whole file, which Node
 * refuses above 2 GiB; range() and readInto() read any part of a file of any size. The
 * checkpoint loader reads weights with readInto(), straight into their fp32 arrays.
 */

import { open, readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, normalize, sep } from 'node:path';
import type { FileSource } from './types';

const MAX_READ_BYTES = 2 ** 30;

export class NodeFolderSource implements FileSource {
  readonly label: string;

  constructor(readonly dir: string) {
    this.label = dir;
  }

  /** Resolve a file name inside the folder, refusing anything that would escape it. */
  private path(name: string): string {
    const n = normalize(name);
    if (isAbsolute(n) || n === '..' || n.startsWith(`..${sep}`) || n.split(/[\\/]/).includes('..')) {
      throw new Error(`${this.label}: file name "${name}" points outside the model folder`);
    }
    return join(this.dir, n);
  }

  private missing(name: string, err: unknown): Error {
    const code = (err as NodeJS.ErrnoException)?.code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return new Error(`${this.label}: file "${name}" not found`);
    return new Error(`${this.label}: cannot read "${name}": ${(err as Error)?.message ?? String(err)}`);
  }

  async has(name: string): Promise<boolean> {
    try {
      return (await stat(this.path(name))).isFile();
    } catch {
      return false;
    }
  }

  async bytes(name: string): Promise<Uint8Array> {
    try {
      const buf = await readFile(this.path(name));
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    } catch (e) {
      throw this.missing(name, e);
    }
  }

  async text(name: string): Promise<string> {
    return new TextDecoder().decode(await this.bytes(name));
  }

  async size(name: string): Promise<number> {
    try {
      return (await stat(this.path(name))).size;
    } catch (e) {
      throw this.missing(name, e);
    }
  }

  async range(name: string, start: number, end: number): Promise<Uint8Array> {
    const out = new Uint8Array(Math.max(0, end - start));
    const done = await this.readInto(name, start, out);
    return done === out.length ? out : out.subarray(0, done);
  }

  async readInto(name: string, position: number, into: Uint8Array): Promise<number> {
    let fh;
    try {
      fh = await open(this.path(name), 'r');
    } catch (e) {
      throw this.missing(name, e);
    }
    try {
      let done = 0;
      while (done < into.length) {
        // One read() moves at most 2 GiB; ask for less so tensors of any size come through.
        const want = Math.min(into.length - done, MAX_READ_BYTES);
        const { bytesRead } = await fh.read(into, done, want, position + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return done;
    } finally {
      await fh.close();
    }
  }
}
