/** A FileSource over in-memory bytes; used by tests all over the project. */

import type { FileSource } from '../types';
import { checkRange, decodeText, notFound } from './errors';

export class MemorySource implements FileSource {
  readonly files: Map<string, Uint8Array>;

  /** Strings are stored as UTF-8. bytes() hands out the stored arrays themselves, not copies. */
  constructor(
    files: Map<string, Uint8Array | string> | Record<string, Uint8Array | string> = {},
    readonly label: string = 'memory',
  ) {
    const entries = files instanceof Map ? [...files] : Object.entries(files);
    const enc = new TextEncoder();
    this.files = new Map(entries.map(([k, v]) => [k, typeof v === 'string' ? enc.encode(v) : v]));
  }

  private get(name: string): Uint8Array {
    const b = this.files.get(name);
    if (!b) throw notFound(this.label, name);
    return b;
  }

  async has(name: string): Promise<boolean> {
    return this.files.has(name);
  }
  async bytes(name: string): Promise<Uint8Array> {
    return this.get(name);
  }
  async text(name: string): Promise<string> {
    return decodeText(this.get(name));
  }
  async size(name: string): Promise<number> {
    return this.get(name).length;
  }
  async range(name: string, start: number, end: number): Promise<Uint8Array> {
    const b = this.get(name);
    checkRange(this.label, name, start, end, b.length);
    return b.subarray(start, end);
  }
}
