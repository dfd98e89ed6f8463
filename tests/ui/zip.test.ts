/**
 * The adapter download archive: read back by a separate parser written here from the format
 * description, CRCs checked with Node's zlib, and (where installed) extracted by Info-ZIP unzip.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { crc32, makeZip } from '../../src/ui/files/zip';

/** Walk the central directory from the end record; return name → bytes (stored entries only). */
function readZip(buf: Buffer): Map<string, Buffer> {
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) throw new Error('no end of central directory record');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const out = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error('bad central directory entry');
    const method = buf.readUInt16LE(p + 10);
    const crc = buf.readUInt32LE(p + 16);
    const size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extra = buf.readUInt16LE(p + 30);
    const comment = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    if (buf.readUInt32LE(local) !== 0x04034b50) throw new Error('bad local header');
    const lname = buf.readUInt16LE(local + 26);
    const lextra = buf.readUInt16LE(local + 28);
    expect(buf.subarray(local + 30, local + 30 + lname).toString('utf8')).toBe(name);
    expect(method).toBe(0);
    const data = buf.subarray(local + 30 + lname + lextra, local + 30 + lname + lextra + size);
    expect(zlib.crc32(data)).toBe(crc);
    out.set(name, data);
    p += 46 + nameLen + extra + comment;
  }
  return out;
}

describe('zip writer', () => {
  it('crc32 agrees with zlib on assorted inputs', () => {
    for (const s of ['', 'a', 'The quick brown fox', 'é ünïcode ✓']) expect(crc32(new TextEncoder().encode(s))).toBe(zlib.crc32(s));
    const big = new Uint8Array(100_003).map((_, i) => (i * 7919) & 0xff);
    expect(crc32(big)).toBe(zlib.crc32(big));
  });

  it('archives the adapter files so an independent reader and unzip get them back', async () => {
    const weights = new Uint8Array(4099).map((_, i) => (i * 31 + 7) & 0xff);
    const config = '{"peft_type": "LORA", "r": 4}';
    const zip = Buffer.from(makeZip([
      { name: 'adapter_config.json', data: config },
      { name: 'adapter_model.safetensors', data: weights },
      { name: 'notes/ünïcode.txt', data: 'ok' },
    ]));
    const files = readZip(zip);
    expect([...files.keys()]).toEqual(['adapter_config.json', 'adapter_model.safetensors', 'notes/ünïcode.txt']);
    expect(files.get('adapter_config.json')!.toString('utf8')).toBe(config);
    expect(files.get('adapter_model.safetensors')!.equals(Buffer.from(weights))).toBe(true);

    if (!existsSync('/usr/bin/unzip')) {
      console.warn('unzip not installed: skipped the Info-ZIP cross-check');
      return;
    }
    const dir = await mkdtemp(path.join(tmpdir(), 'pmd-zip-'));
    try {
      await writeFile(path.join(dir, 'a.zip'), zip);
      execFileSync('/usr/bin/unzip', ['-q', '-t', path.join(dir, 'a.zip')]);
      execFileSync('/usr/bin/unzip', ['-q', path.join(dir, 'a.zip'), '-d', path.join(dir, 'out')]);
      expect((await readFile(path.join(dir, 'out', 'adapter_model.safetensors'))).equals(Buffer.from(weights))).toBe(true);
      expect(await readFile(path.join(dir, 'out', 'adapter_config.json'), 'utf8')).toBe(config);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses names that would escape the folder they are unpacked into', () => {
    for (const name of ['../x', '/etc/passwd', 'a/../../b', 'a\\b', '']) expect(() => makeZip([{ name, data: 'x' }])).toThrow(/unsafe file name/);
  });
});
