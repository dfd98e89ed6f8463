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
import { crc32, makeZip } from '../../../src/ui/files/zip';
import { readZip } from '../../support/zip-reader';

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
