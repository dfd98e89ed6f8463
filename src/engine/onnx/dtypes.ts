/**
 * ONNX `TensorProto.DataType` codes, defined once: the writer (serialize.ts), the autodiff
 * shape inference and the ONNX model reader all take them from here.
 */
import type { DType } from './graph';

/** Every TensorProto.DataType code by its ONNX name. */
export const OnnxDataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
  FLOAT8E4M3FN: 17,
  FLOAT8E4M3FNUZ: 18,
  FLOAT8E5M2: 19,
  FLOAT8E5M2FNUZ: 20,
  UINT4: 21,
  INT4: 22,
  FLOAT4E2M1: 23,
} as const;

/** The code of each dtype the graph IR names. */
export const ONNX_DTYPE: Record<DType, number> = {
  float32: OnnxDataType.FLOAT,
  uint8: OnnxDataType.UINT8,
  int32: OnnxDataType.INT32,
  int64: OnnxDataType.INT64,
  bool: OnnxDataType.BOOL,
  float16: OnnxDataType.FLOAT16,
  float64: OnnxDataType.DOUBLE,
};

const IR_DTYPE_OF_CODE = new Map<number, DType>(Object.entries(ONNX_DTYPE).map(([k, v]) => [v, k as DType]));

/** ONNX code -> the IR's dtype (null for types the IR does not name). */
export function dtypeFromOnnx(code: number): DType | null {
  return IR_DTYPE_OF_CODE.get(code) ?? null;
}

const DATA_TYPE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(OnnxDataType).map(([k, v]) => [v, k.toLowerCase()]));

/** Lower-case ONNX name of a code, for error messages. */
export function dataTypeName(code: number): string {
  return DATA_TYPE_NAMES[code] ?? `data type ${code}`;
}
