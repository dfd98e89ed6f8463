/**
 * A minimal ZIP writer (stored entries, no compression) so a PEFT adapter, two files, downloads
 * with one click as one archive. Safetensors data hardly compresses, so storing costs little.
 * Format: PKWARE APPNOTE 6.3 local headers, central directory and end record; no ZIP64, so
 * every entry and the archive must stay under 4 GiB.
 */

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3, as ZIP and gzip use it). */
export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** MS-DOS time and date fields of a local time (years before 1980 clamp to 1980). */
function dosDateTime(d: Date): { time: number; date: number } {
  const year = Math.max(1980, d.getFullYear());
  return {
    time: (d.getHours() << 11) | (d.getMinutes() << 5) | Math.floor(d.getSeconds() / 2),
    date: ((year - 1980) << 9) | ((d.getMonth() + 1) << 5) | d.getDate(),
  };
}

export interface ZipEntry {
  name: string;
  data: Uint8Array | string;
}

const LIMIT = 0xffffffff;

/** The archive's bytes. Names are stored as UTF-8 (flag bit 11). */
export function makeZip(entries: readonly ZipEntry[], when: Date = new Date()): Uint8Array {
  const enc = new TextEncoder();
  const { time, date } = dosDateTime(when);
  const files = entries.map((e) => {
    if (!e.name || e.name.startsWith('/') || e.name.includes('\\') || e.name.split('/').includes('..')) throw new Error(`unsafe file name in zip: ${JSON.stringify(e.name)}`);
    const data = typeof e.data === 'string' ? enc.encode(e.data) : e.data;
    if (data.length >= LIMIT) throw new Error(`${e.name} is too large for a zip without ZIP64`);
    return { name: enc.encode(e.name), data, crc: crc32(data), offset: 0 };
  });
  const localSize = files.reduce((n, f) => n + 30 + f.name.length + f.data.length, 0);
  const centralSize = files.reduce((n, f) => n + 46 + f.name.length, 0);
  if (localSize + centralSize + 22 >= LIMIT) throw new Error('the archive is too large for a zip without ZIP64');
  const out = new Uint8Array(localSize + centralSize + 22);
  const v = new DataView(out.buffer);
  let p = 0;
  const u16 = (x: number) => {
    v.setUint16(p, x, true);
    p += 2;
  };
  const u32 = (x: number) => {
    v.setUint32(p, x >>> 0, true);
    p += 4;
  };
  const bytes = (b: Uint8Array) => {
    out.set(b, p);
    p += b.length;
  };
  /** The fields local and central headers share, from "version needed" to the name length. */
  const shared = (f: (typeof files)[number]) => {
    u16(20); // version needed: 2.0
    u16(0x0800); // UTF-8 names
    u16(0); // stored
    u16(time);
    u16(date);
    u32(f.crc);
    u32(f.data.length); // compressed size
    u32(f.data.length); // size
    u16(f.name.length);
  };
  for (const f of files) {
    f.offset = p;
    u32(0x04034b50);
    shared(f);
    u16(0); // extra
    bytes(f.name);
    bytes(f.data);
  }
  const cdStart = p;
  for (const f of files) {
    u32(0x02014b50);
    u16(20); // made by: 2.0, MS-DOS attributes
    shared(f);
    u16(0); // extra
    u16(0); // comment
    u16(0); // disk
    u16(0); // internal attributes
    u32(0); // external attributes
    u32(f.offset);
    bytes(f.name);
  }
  const cdSize = p - cdStart;
  u32(0x06054b50);
  u16(0);
  u16(0);
  u16(files.length);
  u16(files.length);
  u32(cdSize);
  u32(cdStart);
  u16(0);
  return out;
}
