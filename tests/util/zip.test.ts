/**
 * Archives (fflate underneath): read back by a separate parser written from the format
 * description, CRCs checked with Node's zlib, and (where installed) extracted by Info-ZIP unzip;
 * and read by our own readZip with its safety limits.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { makeZip, readZip as readOurZip } from '../../src/util/zip';
import { readZip } from '../support/zip-reader';

describe('zip writer', () => {
  it('entry CRCs agree with zlib on assorted inputs (checked by the independent reader)', () => {
    const big = new Uint8Array(100_003).map((_, i) => (i * 7919) & 0xff);
    const texts = ['', 'a', 'The quick brown fox', 'é ünïcode ✓'];
    const zip = Buffer.from(makeZip([...texts.map((t, i) => ({ name: `t${i}`, data: t })), { name: 'big', data: big }]));
    const files = readZip(zip); // throws on a CRC that differs from zlib.crc32
    texts.forEach((t, i) => expect(files.get(`t${i}`)!.toString('utf8')).toBe(t));
    expect(zlib.crc32(files.get('big')!)).toBe(zlib.crc32(big));
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

  it('reads its own archives (stored and deflated) and refuses broken or oversized ones', () => {
    const data = new Uint8Array(5000).map((_, i) => i % 7);
    for (const compress of [false, true]) {
      const back = readOurZip(makeZip([{ name: 'a/b.bin', data }, { name: 'c.txt', data: 'hello' }], { compress }));
      expect(Buffer.from(back.get('a/b.bin')!).equals(Buffer.from(data))).toBe(true);
      expect(new TextDecoder().decode(back.get('c.txt'))).toBe('hello');
    }
    expect(() => readOurZip(new TextEncoder().encode('not a zip'))).toThrow(/not a readable ZIP archive/);
    expect(() => readOurZip(makeZip([{ name: 'x', data }]), { maxEntries: 10, maxBytes: 100 })).toThrow(/more than 100 bytes/);
    expect(() => readOurZip(makeZip([{ name: 'x', data: 'a' }, { name: 'y', data: 'b' }]), { maxEntries: 1, maxBytes: 100 })).toThrow(/more than 1 files/);
  });
});
