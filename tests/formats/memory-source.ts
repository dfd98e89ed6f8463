import type { FileSource } from '../../src/engine/models/types';

/** In-memory FileSource over a name -> bytes map; counts reads so tests can check them. */
export class MemorySource implements FileSource {
  readonly reads = new Map<string, number>();

  constructor(readonly files: Map<string, Uint8Array>, readonly label = 'memory') {}

  async has(name: string): Promise<boolean> {
    return this.files.has(name);
  }

  async bytes(name: string): Promise<Uint8Array> {
    const f = this.files.get(name);
    if (!f) throw new Error(`${this.label}: file "${name}" not found`);
    this.reads.set(name, (this.reads.get(name) ?? 0) + 1);
    return f;
  }

  async text(name: string): Promise<string> {
    return new TextDecoder().decode(await this.bytes(name));
  }

  async size(name: string): Promise<number> {
    return (await this.bytes(name)).length;
  }

  async range(name: string, start: number, end: number): Promise<Uint8Array> {
    return (await this.bytes(name)).slice(start, end);
  }
}

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
export const jsonBytes = (v: unknown): Uint8Array => utf8(JSON.stringify(v));
export const parseJsonFile = (files: Map<string, Uint8Array>, name: string): Record<string, unknown> =>
  JSON.parse(new TextDecoder().decode(files.get(name)!)) as Record<string, unknown>;
