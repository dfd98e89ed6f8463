/**
 * Dequantization of ONNX Runtime's block-quantized weight formats back to fp32:
 *
 * - com.microsoft MatMulNBits: `Y = A @ W^T` with W [N, K] quantized block-wise along K.
 *   B is uint8 [N, n_blocks, blob_size] (blob_size = block_size * bits / 8); the values of a
 *   block are bit-packed from the least significant bits up (for 4 bits: first value in the
 *   low nibble, second in the high nibble). scales hold one value per (row, block): [N * n_blocks].
 *   zero_points are either packed uint8 with the same bit packing, one run of
 *   ceil(n_blocks * bits / 8) bytes per row, or unpacked floats [N * n_blocks]; without them
 *   the zero point is 2^(bits-1) (8 for 4-bit). W[n, k] = (q - zero_point) * scale.
 *   The last block of a row is zero-padded when K is not a multiple of block_size.
 *
 * - com.microsoft GatherBlockQuantized (quantized embedding tables): data either INT4/UINT4
 *   (logical shape, zero point 0 when absent) or uint8 holding `bits`-bit values packed along
 *   the last axis (zero point 2^(bits-1) when absent).
 *
 * The layout follows onnxruntime's contrib-op documentation (docs/ContribOperators.md) and its
 * CPU kernels (contrib_ops/cpu/quantization/matmul_nbits_impl.cc, gather_block_quantized.cc).
 * The result of dequantizeMatMulNBits is [N, K], i.e. Hugging Face's [out, in] layout.
 */

export interface MatMulNBitsInput {
  /** Input features (the reduced dimension). */
  K: number;
  /** Output features. */
  N: number;
  bits: number;
  blockSize: number;
  /** Packed weights, N * n_blocks * blob_size bytes (shape [N, n_blocks, blob_size]). */
  b: Uint8Array;
  /** One scale per (row, block), N * n_blocks values. */
  scales: Float32Array;
  /**
   * Optional zero points: packed uint8 (N * ceil(n_blocks * bits / 8) bytes) or unpacked floats
   * (N * n_blocks values).
   */
  zeroPoints?: Uint8Array | Float32Array | null;
  /** Optional g_idx input (act-order); not supported, rejected when given. */
  gIdx?: unknown;
}

export const SUPPORTED_NBITS = [2, 4, 8] as const;

function checkInt(name: string, v: number, min: number): void {
  if (!Number.isSafeInteger(v) || v < min) throw new Error(`MatMulNBits: ${name} must be an integer >= ${min}, got ${v}`);
}

function checkBits(op: string, bits: number): void {
  if (!(SUPPORTED_NBITS as readonly number[]).includes(bits)) {
    throw new Error(`${op}: ${bits}-bit weights are not supported (supported: ${SUPPORTED_NBITS.join(', ')})`);
  }
}

/** Number of K blocks and bytes per block for a MatMulNBits weight. */
export function nbitsLayout(K: number, bits: number, blockSize: number): { nBlocks: number; blobSize: number; zpRowBytes: number } {
  const nBlocks = Math.ceil(K / blockSize);
  const blobSize = (blockSize * bits) / 8;
  const zpRowBytes = Math.ceil((nBlocks * bits) / 8);
  return { nBlocks, blobSize, zpRowBytes };
}

/** Reads the j-th `bits`-bit value of a little-endian bit stream starting at byte `base`. */
function packedValue(buf: Uint8Array, base: number, j: number, bits: number): number {
  switch (bits) {
    case 4: {
      const b = buf[base + (j >> 1)];
      return j & 1 ? b >> 4 : b & 0x0f;
    }
    case 8:
      return buf[base + j];
    case 2:
      return (buf[base + (j >> 2)] >> ((j & 3) * 2)) & 0x03;
    default:
      throw new Error(`unsupported bit width ${bits}`);
  }
}

/** Dequantizes a MatMulNBits weight to fp32 [N, K] (row n = output feature n). */
export function dequantizeMatMulNBits(p: MatMulNBitsInput): Float32Array {
  const { K, N, bits, blockSize, b, scales } = p;
  checkInt('K', K, 1);
  checkInt('N', N, 1);
  checkBits('MatMulNBits', bits);
  checkInt('block_size', blockSize, 1);
  if ((blockSize * bits) % 8 !== 0) throw new Error(`MatMulNBits: block_size ${blockSize} does not fill whole bytes at ${bits} bits`);
  if (p.gIdx !== undefined && p.gIdx !== null) {
    throw new Error('MatMulNBits: the g_idx input (act-order / reordered groups) is not supported; re-export without act-order');
  }
  const { nBlocks, blobSize, zpRowBytes } = nbitsLayout(K, bits, blockSize);
  if (b.length !== N * nBlocks * blobSize) {
    throw new Error(`MatMulNBits: B has ${b.length} bytes, expected N*n_blocks*blob_size = ${N}*${nBlocks}*${blobSize} = ${N * nBlocks * blobSize}`);
  }
  if (scales.length !== N * nBlocks) {
    throw new Error(`MatMulNBits: scales has ${scales.length} values, expected N*n_blocks = ${N * nBlocks}`);
  }
  const zp = p.zeroPoints ?? null;
  const packedZp = zp instanceof Uint8Array;
  if (zp) {
    const want = packedZp ? N * zpRowBytes : N * nBlocks;
    if (zp.length !== want) {
      throw new Error(
        `MatMulNBits: zero_points has ${zp.length} ${packedZp ? 'bytes' : 'values'}, expected ${want} (${packedZp ? `packed uint8, ${zpRowBytes} per row` : 'one per block'})`,
      );
    }
  }
  const defaultZp = 2 ** (bits - 1);
  const out = new Float32Array(N * K);
  for (let n = 0; n < N; n++) {
    const rowOut = n * K;
    for (let blk = 0; blk < nBlocks; blk++) {
      const si = n * nBlocks + blk;
      const scale = scales[si];
      let z = defaultZp;
      if (zp) z = packedZp ? packedValue(zp as Uint8Array, n * zpRowBytes, blk, bits) : (zp as Float32Array)[si];
      const base = si * blobSize;
      const k0 = blk * blockSize;
      const len = Math.min(blockSize, K - k0);
      if (bits === 4) {
        for (let j = 0; j < len; j++) {
          const byte = b[base + (j >> 1)];
          const q = j & 1 ? byte >> 4 : byte & 0x0f;
          out[rowOut + k0 + j] = (q - z) * scale;
        }
      } else {
        for (let j = 0; j < len; j++) out[rowOut + k0 + j] = (packedValue(b, base, j, bits) - z) * scale;
      }
    }
  }
  return out;
}

export interface GatherBlockQuantizedInput {
  /**
   * 'int4' / 'uint4': `data` holds one (unpacked) value per element with logical shape `dims`.
   * 'uint8': `data` holds `bits`-bit values packed along the last axis; `dims` is the stored
   * (packed) shape.
   */
  kind: 'int4' | 'uint4' | 'uint8';
  data: Uint8Array | Int8Array;
  dims: number[];
  bits: number;
  blockSize: number;
  /** Axis the blocks run along (normalized, non-negative). */
  quantizeAxis: number;
  scales: Float32Array;
  /** int4/uint4: unpacked, one per block; uint8: packed per row like MatMulNBits. */
  zeroPoints?: Uint8Array | Int8Array | null;
}

/** Dequantizes a rank-2 GatherBlockQuantized table to fp32; returns its logical shape. */
export function dequantizeGatherBlockQuantized(p: GatherBlockQuantizedInput): { dims: number[]; data: Float32Array } {
  const op = 'GatherBlockQuantized';
  if (p.dims.length !== 2) throw new Error(`${op}: only rank-2 tables are supported, got shape [${p.dims.join(', ')}]`);
  checkInt('block_size', p.blockSize, 1);
  const [R, stored] = p.dims;
  const zp = p.zeroPoints ?? null;
  if (p.kind === 'uint8') {
    checkBits(op, p.bits);
    if (p.quantizeAxis !== 1) throw new Error(`${op}: uint8 data must be quantized along the last axis, got quantize_axis ${p.quantizeAxis}`);
    const per = 8 / p.bits;
    const C = stored * per;
    if (p.data.length !== R * stored) throw new Error(`${op}: data has ${p.data.length} bytes, expected ${R * stored}`);
    const nb = Math.ceil(C / p.blockSize);
    if (p.scales.length !== R * nb) throw new Error(`${op}: scales has ${p.scales.length} values, expected ${R * nb}`);
    const zpRow = Math.ceil((nb * p.bits) / 8);
    if (zp && zp.length !== R * zpRow) throw new Error(`${op}: zero_points has ${zp.length} bytes, expected ${R * zpRow}`);
    const defaultZp = 2 ** (p.bits - 1);
    const out = new Float32Array(R * C);
    const bytes = p.data instanceof Uint8Array ? p.data : new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.length);
    for (let r = 0; r < R; r++) {
      for (let c = 0; c < C; c++) {
        const blk = Math.floor(c / p.blockSize);
        const z = zp ? packedValue(zp as Uint8Array, r * zpRow, blk, p.bits) : defaultZp;
        const q = packedValue(bytes, r * stored, c, p.bits);
        out[r * C + c] = (q - z) * p.scales[r * nb + blk];
      }
    }
    return { dims: [R, C], data: out };
  }
  // INT4 / UINT4: values already unpacked, logical shape [R, C].
  const C = stored;
  if (p.data.length !== R * C) throw new Error(`${op}: data has ${p.data.length} values, expected ${R * C}`);
  if (p.quantizeAxis !== 0 && p.quantizeAxis !== 1) throw new Error(`${op}: invalid quantize_axis ${p.quantizeAxis}`);
  const along = p.quantizeAxis === 1 ? C : R;
  const nb = Math.ceil(along / p.blockSize);
  const nScales = p.quantizeAxis === 1 ? R * nb : nb * C;
  if (p.scales.length !== nScales) throw new Error(`${op}: scales has ${p.scales.length} values, expected ${nScales}`);
  if (zp && zp.length !== nScales) throw new Error(`${op}: zero_points has ${zp.length} values, expected ${nScales}`);
  const out = new Float32Array(R * C);
  for (let r = 0; r < R; r++) {
    for (let c = 0; c < C; c++) {
      const si = p.quantizeAxis === 1 ? r * nb + Math.floor(c / p.blockSize) : Math.floor(r / p.blockSize) * C + c;
      const z = zp ? zp[si] : 0;
      out[r * C + c] = (p.data[r * C + c] - z) * p.scales[si];
    }
  }
  return { dims: [R, C], data: out };
}
