/**
 * Ordering without data: onnxruntime runs a node as soon as its inputs exist (and a node off the
 * path to what comes next may run late), so a node can keep large inputs alive far longer than
 * needed. `zeroAfter` gives an int64 scalar 0 that can only be computed once every one of
 * `values` exists (Size of an empty Slice of their concatenated shapes): adding it to an index,
 * or (cast) to an activation, makes a node wait for them without changing what it computes.
 */
import type { Attr } from './graph';
import type { OpType } from './ops';

type Op = (type: OpType, inputs: string[], attrs?: Record<string, Attr>) => string;

/** int64 scalar 0 computed from the shapes of `values`; `i64` makes an int64 vector constant. */
export function zeroAfter(op: Op, i64: (v: number[]) => string, values: readonly string[]): string {
  if (values.length === 0) throw new Error('zeroAfter needs at least one value');
  const shapes = values.map((v) => op('Shape', [v]));
  const all = shapes.length === 1 ? shapes[0] : op('Concat', shapes, { axis: { kind: 'int', value: 0 } });
  return op('Size', [op('Slice', [all, i64([0]), i64([0]), i64([0])])]);
}
