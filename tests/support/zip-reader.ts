/**
 * A small ZIP reader for tests, written from the format description independently of
 * src/ui/files/zip.ts: stored entries only, CRCs checked with Node's zlib.
 */
import zlib from 'node:zlib';

/** Walk the central directory from the end record; return name → bytes (stored entries only). */
export function readZip(buf: Buffer): Map<string, Buffer> {
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
    if (buf.subarray(local + 30, local + 30 + lname).toString('utf8') !== name) throw new Error(`local header name differs for ${name}`);
    if (method !== 0) throw new Error(`${name}: compression method ${method}, expected 0 (stored)`);
    const data = buf.subarray(local + 30 + lname + lextra, local + 30 + lname + lextra + size);
    if (zlib.crc32(data) !== crc) throw new Error(`${name}: CRC mismatch`);
    out.set(name, data);
    p += 46 + nameLen + extra + comment;
  }
  return out;
}
