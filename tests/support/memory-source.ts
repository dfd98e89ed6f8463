import { MemorySource as EngineMemorySource } from '../../src/engine/models/sources/memory';
import type { FileSource } from '../../src/engine/models/types';

/** Per-file read counters: calls (bytes, size, range, readInto), whole-file reads, and bytes handed out. */
export class ReadLog {
  /** Calls of bytes(), size(), range() and readInto() per file. */
  readonly reads = new Map<string, number>();
  /** Calls of bytes() (the whole file) per file. */
  readonly wholeReads = new Map<string, number>();
  /** Bytes returned by bytes() and range(), or read by readInto(), per file. */
  readonly bytesRead = new Map<string, number>();
  /** Calls of readInto() per file. */
  readonly readsInto = new Map<string, number>();

  call(name: string): void {
    this.reads.set(name, (this.reads.get(name) ?? 0) + 1);
  }

  got(name: string, bytes: Uint8Array, whole: boolean): Uint8Array {
    if (whole) this.wholeReads.set(name, (this.wholeReads.get(name) ?? 0) + 1);
    this.bytesRead.set(name, (this.bytesRead.get(name) ?? 0) + bytes.length);
    return bytes;
  }
}

/** The engine's in-memory FileSource, counting every read (bytes, size, range) per file so tests can check them. */
export class MemorySource extends EngineMemorySource {
  readonly log = new ReadLog();
  readonly reads = this.log.reads;
  readonly wholeReads = this.log.wholeReads;
  readonly bytesRead = this.log.bytesRead;

  override async bytes(name: string): Promise<Uint8Array> {
    this.log.call(name);
    return this.log.got(name, await super.bytes(name), true);
  }

  override async size(name: string): Promise<number> {
    this.log.call(name);
    return super.size(name);
  }

  override async range(name: string, start: number, end: number): Promise<Uint8Array> {
    this.log.call(name);
    return this.log.got(name, await super.range(name, start, end), false);
  }
}

/** Any FileSource with the same counters as MemorySource (for Node folders, picked browser files, ...). */
export class CountingSource implements FileSource {
  readonly log = new ReadLog();
  readonly label: string;
  readonly size?: (name: string) => Promise<number>;
  readonly range?: (name: string, start: number, end: number) => Promise<Uint8Array>;
  readonly readInto?: (name: string, position: number, into: Uint8Array) => Promise<number>;

  constructor(private readonly inner: FileSource) {
    this.label = inner.label;
    const { size, range, readInto } = inner;
    if (size) {
      this.size = (name) => (this.log.call(name), size.call(inner, name));
    }
    if (range) {
      this.range = async (name, start, end) => (this.log.call(name), this.log.got(name, await range.call(inner, name, start, end), false));
    }
    if (readInto) {
      this.readInto = async (name, position, into) => {
        this.log.call(name);
        const n = await readInto.call(inner, name, position, into);
        this.log.readsInto.set(name, (this.log.readsInto.get(name) ?? 0) + 1);
        this.log.got(name, into.subarray(0, n), false);
        return n;
      };
    }
  }

  has(name: string): Promise<boolean> {
    return this.inner.has(name);
  }

  async bytes(name: string): Promise<Uint8Array> {
    this.log.call(name);
    return this.log.got(name, await this.inner.bytes(name), true);
  }

  async text(name: string): Promise<string> {
    return new TextDecoder().decode(await this.bytes(name));
  }
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
export const jsonBytes = (v: unknown): Uint8Array => utf8(JSON.stringify(v));
export const parseJsonFile = (files: Map<string, Uint8Array>, name: string): Record<string, unknown> =>
  JSON.parse(new TextDecoder().decode(files.get(name)!)) as Record<string, unknown>;
