/**
 * Just enough of Python's pickle format to read a pickled `str` (what LiveCodeBench stores, zlib
 * compressed and base64 encoded, in `private_test_cases`). Protocols 0 to 5 are understood for
 * that one case; any other object is an error, and nothing in the data is ever executed.
 */

export class PickleError extends Error {
  override name = 'PickleError';
}

/** The str a pickle holds. */
export function unpickleString(bytes: Uint8Array): string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  const stack: unknown[] = [];
  let pos = 0;
  const need = (n: number) => {
    if (pos + n > bytes.length) throw new PickleError(`truncated at byte ${pos}`);
  };
  const take = (n: number) => {
    need(n);
    const out = bytes.subarray(pos, pos + n);
    pos += n;
    return out;
  };
  const line = () => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0) throw new PickleError(`unterminated line at byte ${pos}`);
    const out = bytes.subarray(pos, end);
    pos = end + 1;
    return out;
  };
  const u64 = () => {
    need(8);
    const v = Number(view.getBigUint64(pos, true));
    pos += 8;
    return v;
  };
  while (pos < bytes.length) {
    const op = bytes[pos++];
    switch (op) {
      case 0x80: // PROTO
        take(1);
        break;
      case 0x95: // FRAME: an 8-byte length; the framed opcodes follow inline
        u64();
        break;
      case 0x8c: // SHORT_BINUNICODE
        stack.push(utf8.decode(take(take(1)[0])));
        break;
      case 0x58: {
        // BINUNICODE
        need(4);
        const n = view.getUint32(pos, true);
        pos += 4;
        stack.push(utf8.decode(take(n)));
        break;
      }
      case 0x8d: // BINUNICODE8
        stack.push(utf8.decode(take(u64())));
        break;
      case 0x56: // UNICODE (protocol 0): raw-unicode-escape up to a newline
        stack.push(rawUnicodeEscape(line()));
        break;
      case 0x94: // MEMOIZE
        break;
      case 0x71: // BINPUT
        take(1);
        break;
      case 0x72: // LONG_BINPUT
        take(4);
        break;
      case 0x70: // PUT
        line();
        break;
      case 0x2e: {
        // STOP
        const top = stack.pop();
        if (typeof top !== 'string') throw new PickleError('the pickle does not hold a str');
        return top;
      }
      default:
        throw new PickleError(`unsupported opcode 0x${op.toString(16).padStart(2, '0')} at byte ${pos - 1} (only a pickled str is expected)`);
    }
  }
  throw new PickleError('no STOP opcode');
}

/** Python's raw-unicode-escape: bytes are Latin-1 except \uXXXX and \UXXXXXXXX. */
function rawUnicodeEscape(b: Uint8Array): string {
  let out = '';
  for (let i = 0; i < b.length; i++) {
    if (b[i] === 0x5c && (b[i + 1] === 0x75 || b[i + 1] === 0x55)) {
      const len = b[i + 1] === 0x75 ? 4 : 8;
      const hex = String.fromCharCode(...b.subarray(i + 2, i + 2 + len));
      if (hex.length === len && /^[0-9a-fA-F]+$/.test(hex)) {
        out += String.fromCodePoint(parseInt(hex, 16));
        i += 1 + len;
        continue;
      }
    }
    out += String.fromCharCode(b[i]);
  }
  return out;
}
