import { describe, expect, it } from 'vitest';
import { MemorySource } from '../../../../src/engine/models/sources/memory';
import { SourceError } from '../../../../src/engine/models/sources/errors';

describe('MemorySource', () => {
  const src = new MemorySource(new Map([['config.json', new TextEncoder().encode('{"a":1}')]]), 'fixture');
  it('reads, ranges and sizes files', async () => {
    expect(await src.has('config.json')).toBe(true);
    expect(await src.has('x')).toBe(false);
    expect(await src.text('config.json')).toBe('{"a":1}');
    expect(await src.size('config.json')).toBe(7);
    expect(new TextDecoder().decode(await src.range('config.json', 1, 4))).toBe('"a"');
  });
  it('accepts a record of strings', async () => {
    const s = new MemorySource({ 'a.txt': 'héllo', 'b.bin': new Uint8Array([1, 2]) });
    expect(s.label).toBe('memory');
    expect(await s.text('a.txt')).toBe('héllo');
    expect(await s.bytes('b.bin')).toEqual(new Uint8Array([1, 2]));
  });
  it('names the source and file when missing or out of range', async () => {
    await expect(src.bytes('nope.json')).rejects.toThrow(SourceError);
    await expect(src.bytes('nope.json')).rejects.toThrow('fixture: file "nope.json" not found');
    await expect(src.range('config.json', 0, 100)).rejects.toThrow(/past the end of "config.json" \(7 bytes\)/);
  });
});
