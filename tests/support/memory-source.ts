import { MemorySource as EngineMemorySource } from '../../src/engine/models/sources/memory';

/** The engine's in-memory FileSource, counting every read (bytes, size, range) per file so tests can check them. */
export class MemorySource extends EngineMemorySource {
  readonly reads = new Map<string, number>();

  private count(name: string): void {
    this.reads.set(name, (this.reads.get(name) ?? 0) + 1);
  }

  override async bytes(name: string): Promise<Uint8Array> {
    this.count(name);
    return super.bytes(name);
  }

  override async size(name: string): Promise<number> {
    this.count(name);
    return super.size(name);
  }

  override async range(name: string, start: number, end: number): Promise<Uint8Array> {
    this.count(name);
    return super.range(name, start, end);
  }
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
export const jsonBytes = (v: unknown): Uint8Array => utf8(JSON.stringify(v));
export const parseJsonFile = (files: Map<string, Uint8Array>, name: string): Record<string, unknown> =>
  JSON.parse(new TextDecoder().decode(files.get(name)!)) as Record<string, unknown>;
