/**
 * The gradient and inference tables cover exactly the IR's op set. The compiler enforces it
 * (both are mapped types over OpType, see the @ts-expect-error lines, checked by `tsc -p .`);
 * this checks the same at run time, and that every entry is well formed.
 */
import { describe, expect, it } from 'vitest';
import { attr, Graph } from '../../../src/engine/onnx/graph';
import { OP_TYPES, type OpType } from '../../../src/engine/onnx/ops';
import { GRADIENTS, type Gradient } from '../../../src/engine/autodiff/gradient-table';
import { INFERENCE } from '../../../src/engine/autodiff/inference-table';
import type { Infer } from '../../../src/engine/autodiff/infer-context';
import { buildGradientGraph } from '../../../src/engine/autodiff/autodiff';

const sorted = (xs: Iterable<string>) => [...xs].sort();

// @ts-expect-error a gradient table without an entry for Erf does not compile
const gradientsWithoutErf: { readonly [K in OpType]: Gradient } = (({ Erf: _erf, ...rest }) => rest)(GRADIENTS);
// @ts-expect-error an inference table without an entry for Erf does not compile
const inferenceWithoutErf: { readonly [K in OpType]: Infer } = (({ Erf: _erf, ...rest }) => rest)(INFERENCE);

describe('op tables', () => {
  it('OP_TYPES lists each op once', () => {
    expect([gradientsWithoutErf, inferenceWithoutErf].map((t) => 'Erf' in t)).toEqual([false, false]);
    expect(new Set(OP_TYPES).size).toBe(OP_TYPES.length);
  });

  it('the gradient table has exactly one entry per op, each well formed', () => {
    expect(sorted(Object.keys(GRADIENTS))).toEqual(sorted(OP_TYPES));
    for (const op of OP_TYPES) {
      const g = GRADIENTS[op];
      if (g.kind === 'rule') expect(typeof g.rule, op).toBe('function');
      else if (g.kind === 'none') expect(g.because.length, op).toBeGreaterThan(0);
      else expect(g.reason.length, op).toBeGreaterThan(0);
      if (g.kind !== 'none') for (const i of [...(g.inputs ?? []), ...(g.outputs ?? [])]) expect(Number.isInteger(i) && i >= 0, op).toBe(true);
    }
  });

  it('the inference table has exactly one entry per op', () => {
    expect(sorted(Object.keys(INFERENCE))).toEqual(sorted(OP_TYPES));
    for (const op of OP_TYPES) expect(typeof INFERENCE[op], op).toBe('function');
  });

  it('an unsupported op on the loss path fails with its reason; ops outside the set or domain likewise', () => {
    const h = new Graph();
    const x = h.input('x', 'float32', [3]);
    h.op('ReduceSum', [h.op('Softplus', [x])], { keepdims: attr.int(0) }, 'loss');
    h.output('loss', 'float32', []);
    expect(() => buildGradientGraph(h, { loss: 'loss', wrt: ['x'] })).toThrow(/no gradient rule for Softplus \(node .*, on the path from \[x\] to loss\): no rule written yet/);

    const k = new Graph();
    const y = k.input('y', 'float32', [3]);
    k.nodes.push({ name: 'hand', opType: 'Softsign', domain: '', inputs: [y], outputs: ['s'], attrs: {} });
    k.op('ReduceSum', ['s'], { keepdims: attr.int(0) }, 'loss');
    k.output('loss', 'float32', []);
    expect(() => buildGradientGraph(k, { loss: 'loss', wrt: ['y'] })).toThrow(/no gradient rule for Softsign \(node hand.*not an op of the graph IR/);
  });
});
