/**
 * Finite-difference checks of every gradient rule on small random inputs (onnxruntime-node,
 * float32). Loss = sum(y * R) with a fixed pseudo-random R; the FD reference uses central
 * differences at h = 1e-2 and 5e-3 combined by Richardson extrapolation.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attr, type Graph } from '../../../src/engine/onnx/graph';
import { checkCase, fmtErrors, i64, randn, uniform, type InputSpec, type FdOptions } from './helpers';
import type { GradientOptions } from '../../../src/engine/autodiff/autodiff';
import type { OpType } from '../../../src/engine/onnx/ops';

const TOL = 1e-3;
const report: string[] = [];
afterAll(() => {
  console.log(`\nautodiff op FD errors (||g - fd|| / ||fd||):\n${report.join('\n')}`);
});

let seedCounter = 100;
const prod = (d: number[]) => d.reduce((a, b) => a * b, 1);
/** Random float input. */
function F(name: string, dims: number[], o: { declared?: (number | string)[]; scale?: number; offset?: number; lo?: number; hi?: number; awayFrom?: number } = {}): InputSpec {
  const seed = seedCounter++;
  let data = o.lo !== undefined ? uniform(prod(dims), seed, o.lo, o.hi!) : randn(prod(dims), seed, o.scale ?? 1, o.offset ?? 0);
  if (o.awayFrom !== undefined) {
    // Keep values at least 0.2 from a kink so finite differences stay on one side.
    const c = o.awayFrom;
    data = data.map((v) => (Math.abs(v - c) < 0.2 ? c + (v >= c ? 0.2 : -0.2) + (v - c) : v));
  }
  return { name, dims, declared: o.declared, data };
}
function I(name: string, dims: number[], values: number[], declared?: (number | string)[]): InputSpec {
  return { name, dims, declared, data: i64(values) };
}

interface Case {
  name: string;
  inputs: () => InputSpec[];
  f: (g: Graph, v: Record<string, string>) => string;
  wrt?: string[];
  grad?: Partial<GradientOptions>;
  fd?: FdOptions;
  tol?: number;
}

const TOL64 = 1e-6;

/**
 * Each case runs twice: as built (float32, FD step ladder around h = 1e-2, tolerance 1e-3) and
 * serialized as float64 (FD by Richardson at h = 1e-4, tolerance 1e-6).
 */
function run(cases: Case[], extra: Partial<GradientOptions> = {}, tag = '') {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_n, c) => {
    const inputs = c.inputs();
    const r = await checkCase(inputs, c.f, { wrt: c.wrt, grad: { ...extra, ...c.grad }, fd: c.fd });
    const r64 = await checkCase(inputs, c.f, { wrt: c.wrt, grad: { ...extra, ...c.grad }, fd: { ...c.fd, precision: 'float64', mode: 'richardson', h: 1e-4 } });
    report.push(`  ${(tag + c.name).padEnd(58)} f32: ${fmtErrors(r.errors)} | f64: ${fmtErrors(r64.errors)}`);
    for (const [w, err] of Object.entries(r.errors)) expect(err, `${c.name}: ${w} (float32)`).toBeLessThan(c.tol ?? TOL);
    for (const [w, err] of Object.entries(r64.errors)) expect(err, `${c.name}: ${w} (float64)`).toBeLessThan(TOL64);
  });
}

const U = (op: OpType, input: () => InputSpec[], attrs = {}): Case => ({
  name: `${op}`,
  inputs: input,
  f: (g, v) => g.op(op, [v.x], attrs),
});

describe('unary rules', () => {
  run([
    U('Neg', () => [F('x', [3, 4])]),
    U('Sqrt', () => [F('x', [3, 4], { lo: 0.5, hi: 2 })]),
    U('Exp', () => [F('x', [3, 4])]),
    U('Log', () => [F('x', [3, 4], { lo: 0.5, hi: 3 })]),
    U('Sigmoid', () => [F('x', [3, 4], { scale: 2 })]),
    U('Tanh', () => [F('x', [3, 4])]),
    U('Reciprocal', () => [F('x', [3, 4], { lo: 0.5, hi: 2 })]),
    U('Relu', () => [F('x', [3, 4], { awayFrom: 0 })]),
    U('Abs', () => [F('x', [3, 4], { awayFrom: 0 })]),
    U('Identity', () => [F('x', [3, 4])]),
    { name: 'Cast float32 -> float32', inputs: () => [F('x', [3, 4])], f: (g, v) => g.op('Cast', [v.x], { to: attr.int(1) }) },
    U('Softmax', () => [F('x', [2, 3, 5], { scale: 2 })], { axis: attr.int(-1) }),
    U('Softmax', () => [F('x', [2, 3, 5], { scale: 2 })], { axis: attr.int(1) }),
    U('LogSoftmax', () => [F('x', [2, 3, 5], { scale: 2 })], { axis: attr.int(-1) }),
    U('LogSoftmax', () => [F('x', [4, 3], { scale: 2 })], { axis: attr.int(0) }),
    { name: 'Softmax over symbolic dims', inputs: () => [F('x', [2, 6], { declared: ['b', 'v'], scale: 2 })], f: (g, v) => g.op('Softmax', [v.x], { axis: attr.int(-1) }) },
  ]);
});

// Binary/broadcasting cases run with static (default) and runtime broadcast reduction.
const binaryCases: Case[] = [
  { name: 'Add: bias [D] + [N,D]', inputs: () => [F('x', [3, 4]), F('b', [4])], f: (g, v) => g.op('Add', [v.x, v.b]) },
  { name: 'Add: bias [D] + [n,D] (symbolic n)', inputs: () => [F('x', [3, 4], { declared: ['n', 4] }), F('b', [4])], f: (g, v) => g.op('Add', [v.x, v.b]) },
  {
    name: 'Add: mask-like [B,1,1,S,T] + [B,H,G,S,T]',
    inputs: () => [F('a', [2, 3, 2, 4, 5]), F('m', [2, 1, 1, 4, 5])],
    f: (g, v) => g.op('Add', [v.a, v.m]),
  },
  {
    name: 'Add: symbolic [b,1,1,s,t] + [b,h,g,s,t]',
    inputs: () => [F('a', [2, 3, 2, 4, 5], { declared: ['b', 3, 2, 's', 't'] }), F('m', [2, 1, 1, 4, 5], { declared: ['b', 1, 1, 's', 't'] })],
    f: (g, v) => g.op('Add', [v.a, v.m]),
  },
  { name: 'Add: both broadcast [3,1,5] + [4,1]', inputs: () => [F('a', [3, 1, 5]), F('b', [4, 1])], f: (g, v) => g.op('Add', [v.a, v.b]) },
  { name: 'Sub: scalar - [N,D]', inputs: () => [F('s', []), F('x', [3, 4])], f: (g, v) => g.op('Sub', [v.s, v.x]) },
  { name: 'Sub: [N,D] - [N,1]', inputs: () => [F('x', [3, 4]), F('c', [3, 1])], f: (g, v) => g.op('Sub', [v.x, v.c]) },
  { name: 'Mul: [3,1,5] * [4,1]', inputs: () => [F('a', [3, 1, 5]), F('b', [4, 1])], f: (g, v) => g.op('Mul', [v.a, v.b]) },
  { name: 'Mul: [N,D] * scalar', inputs: () => [F('x', [3, 4]), F('s', [])], f: (g, v) => g.op('Mul', [v.x, v.s]) },
  { name: 'Div: [N,D] / [N,1]', inputs: () => [F('a', [3, 4]), F('b', [3, 1], { lo: 1, hi: 2 })], f: (g, v) => g.op('Div', [v.a, v.b]) },
  { name: 'Div: scalar / [D]', inputs: () => [F('a', []), F('b', [5], { lo: 1, hi: 2 })], f: (g, v) => g.op('Div', [v.a, v.b]) },
  { name: 'Pow: x^2 (constant)', inputs: () => [F('x', [3, 4])], f: (g, v) => g.op('Pow', [v.x, g.scalar(2)]) },
  { name: 'Pow: x^3 (constant)', inputs: () => [F('x', [3, 4])], f: (g, v) => g.op('Pow', [v.x, g.scalar(3)]) },
  { name: 'Pow: x^0.5 (constant)', inputs: () => [F('x', [3, 4], { lo: 0.5, hi: 2 })], f: (g, v) => g.op('Pow', [v.x, g.scalar(0.5)]) },
  { name: 'Pow: x^e, both varying, e [D]', inputs: () => [F('x', [3, 4], { lo: 0.5, hi: 2 }), F('e', [4], { lo: 0.5, hi: 2 })], f: (g, v) => g.op('Pow', [v.x, v.e]) },
  { name: 'Sum: [N,D] + [D] + scalar', inputs: () => [F('x', [3, 4]), F('b', [4]), F('s', [])], f: (g, v) => g.op('Sum', [v.x, v.b, v.s]) },
  {
    name: 'Where: cond from x, [N,D] vs scalar',
    inputs: () => [F('x', [3, 4], { awayFrom: 0 }), F('a', [3, 4]), F('s', [])],
    f: (g, v) => g.op('Where', [g.op('Greater', [v.x, g.scalar(0)]), v.a, v.s]),
  },
  {
    name: 'Max: two varying inputs, broadcast [N,D] vs [D]',
    inputs: () => [F('a', [3, 4], { offset: 0.35, scale: 0.01 }), { name: 'b', dims: [4], data: Float32Array.of(-0.5, 1.0, -0.2, 0.9) }],
    f: (g, v) => g.op('Max', [v.a, v.b]),
    wrt: ['a', 'b'],
  },
  { name: 'Min: constant bound', inputs: () => [F('x', [3, 4], { awayFrom: 0.3 })], f: (g, v) => g.op('Min', [v.x, g.scalar(0.3)]) },
  { name: 'Max: constant bound', inputs: () => [F('x', [3, 4], { awayFrom: -0.2 })], f: (g, v) => g.op('Max', [v.x, g.scalar(-0.2)]) },
  {
    name: 'Clip: min and max',
    inputs: () => [{ name: 'x', dims: [4, 5], data: Float32Array.from({ length: 20 }, (_, i) => [0.5, 0.7, 0.9, 1.0, 1.1, 1.3, 1.5][i % 7] + 0.01 * Math.sin(i)) }],
    f: (g, v) => g.op('Clip', [v.x, g.scalar(0.8), g.scalar(1.2)]),
  },
  { name: 'Clip: max only', inputs: () => [F('x', [3, 4], { awayFrom: 0.5 })], f: (g, v) => g.op('Clip', [v.x, '', g.scalar(0.5)]) },
  { name: 'Expand: [3,1] -> [2,3,4]', inputs: () => [F('x', [3, 1])], f: (g, v) => g.op('Expand', [v.x, g.i64([2, 3, 4])]) },
  {
    name: 'Expand: symbolic [n,1] -> Shape(other)',
    inputs: () => [F('x', [3, 1], { declared: ['n', 1] }), F('o', [3, 4], { declared: ['n', 'd'] })],
    f: (g, v) => g.op('Add', [g.op('Expand', [v.x, g.op('Shape', [v.o])]), v.o]),
  },
];

describe('binary and broadcasting rules (static reduction)', () => run(binaryCases));
describe('binary and broadcasting rules (runtime reduction)', () => run(binaryCases, { broadcast: 'runtime' }, '[runtime] '));

describe('matrix products', () => {
  const mm = (a: number[], b: number[], da?: (number | string)[], db?: (number | string)[]): Case => ({
    name: `MatMul [${da ?? a}] x [${db ?? b}]`,
    inputs: () => [F('a', a, { declared: da }), F('b', b, { declared: db })],
    f: (g, v) => g.op('MatMul', [v.a, v.b]),
  });
  const cases: Case[] = [
    mm([3, 4], [4, 5]),
    mm([2, 3, 4], [2, 4, 5]),
    mm([2, 3, 4], [4, 5]),
    mm([4, 5], [2, 5, 3]),
    mm([4], [2, 4, 5]),
    mm([2, 3, 4], [4]),
    mm([4], [4]),
    mm([2, 2, 3, 4, 6], [2, 2, 1, 6, 5]),
    mm([2, 2, 3, 4, 6], [2, 2, 1, 6, 5], ['b', 2, 3, 's', 6], ['b', 2, 1, 6, 't']),
    mm([1, 3, 4], [2, 4, 5]),
  ];
  for (const tA of [0, 1])
    for (const tB of [0, 1])
      for (const c of [[5], [1, 5], [3, 1], [], [3, 5]]) {
        const M = 3;
        const K = 4;
        const N = 5;
        cases.push({
          name: `Gemm transA=${tA} transB=${tB} alpha=0.7 beta=1.3 C=[${c}]`,
          inputs: () => [F('a', tA ? [K, M] : [M, K]), F('b', tB ? [N, K] : [K, N]), F('c', c)],
          f: (g, v) => g.op('Gemm', [v.a, v.b, v.c], { transA: attr.int(tA), transB: attr.int(tB), alpha: attr.float(0.7), beta: attr.float(1.3) }),
        });
      }
  cases.push({
    name: 'Gemm [n,K] x [N,K]^T, no bias, symbolic n',
    inputs: () => [F('a', [3, 4], { declared: ['n', 4] }), F('b', [5, 4])],
    f: (g, v) => g.op('Gemm', [v.a, v.b], { transB: attr.int(1) }),
  });
  run(cases);
});

describe('reductions', () => {
  const R = (name: string, dims: number[], f: Case['f'], declared?: (number | string)[], o: { awayFrom?: number } = {}): Case => ({ name, inputs: () => [F('x', dims, { declared, ...o })], f });
  run([
    R('ReduceMean axes=[-1] keepdims=1', [3, 4], (g, v) => g.op('ReduceMean', [v.x], { axes: attr.ints([-1]), keepdims: attr.int(1) })),
    R('ReduceMean axes=[0,2] keepdims=0', [2, 3, 4], (g, v) => g.op('ReduceMean', [v.x], { axes: attr.ints([0, 2]), keepdims: attr.int(0) })),
    R('ReduceMean all axes keepdims=0', [2, 3, 4], (g, v) => g.op('ReduceMean', [v.x], { keepdims: attr.int(0) })),
    R('ReduceMean symbolic dims (runtime count)', [2, 3, 4], (g, v) => g.op('ReduceMean', [v.x], { axes: attr.ints([0, 1]), keepdims: attr.int(0) }), ['b', 's', 4]),
    R('ReduceSum axes input [1] keepdims=0', [2, 3, 4], (g, v) => g.op('ReduceSum', [v.x, g.i64([1])], { keepdims: attr.int(0) })),
    R('ReduceSum axes input [-1,0] keepdims=1', [2, 3, 4], (g, v) => g.op('ReduceSum', [v.x, g.i64([-1, 0])], { keepdims: attr.int(1) })),
    R('ReduceSum no axes keepdims=0', [2, 3, 4], (g, v) => g.op('ReduceSum', [v.x], { keepdims: attr.int(0) })),
    R('ReduceSum runtime axes from Shape', [2, 3, 4], (g, v) => g.op('ReduceSum', [v.x, g.op('Sub', [g.op('Shape', [g.op('Shape', [v.x])]), g.i64([1])])], { keepdims: attr.int(0) })),
    R('ReduceMax axes=[-1]', [3, 5], (g, v) => g.op('ReduceMax', [v.x], { axes: attr.ints([-1]), keepdims: attr.int(0) })),
    R('ReduceMin axes=[0] keepdims=1', [3, 5], (g, v) => g.op('ReduceMin', [v.x], { axes: attr.ints([0]), keepdims: attr.int(1) })),
  ]);
});

describe('shape and data movement', () => {
  const big = 2 ** 53 - 1;
  run([
    { name: 'Reshape [2,3,4] -> [6,-1]', inputs: () => [F('x', [2, 3, 4])], f: (g, v) => g.op('Reshape', [v.x, g.i64([6, -1])]) },
    { name: 'Reshape via runtime shape', inputs: () => [F('x', [2, 3, 4], { declared: ['b', 's', 4] })], f: (g, v) => g.op('Reshape', [v.x, g.op('Concat', [g.op('Shape', [v.x], { end: attr.int(1) }), g.i64([-1])], { axis: attr.int(0) })]) },
    { name: 'Transpose perm [2,0,1]', inputs: () => [F('x', [2, 3, 4])], f: (g, v) => g.op('Transpose', [v.x], { perm: attr.ints([2, 0, 1]) }) },
    { name: 'Transpose default perm', inputs: () => [F('x', [2, 3, 4])], f: (g, v) => g.op('Transpose', [v.x]) },
    { name: 'Unsqueeze [1,-1]', inputs: () => [F('x', [2, 3])], f: (g, v) => g.op('Unsqueeze', [v.x, g.i64([1, -1])]) },
    { name: 'Squeeze [1]', inputs: () => [F('x', [2, 1, 3])], f: (g, v) => g.op('Squeeze', [v.x, g.i64([1])]) },
    { name: 'Flatten axis=2', inputs: () => [F('x', [2, 3, 4])], f: (g, v) => g.op('Flatten', [v.x], { axis: attr.int(2) }) },
    { name: 'Concat axis=1, one input used twice', inputs: () => [F('a', [2, 3]), F('b', [2, 2])], f: (g, v) => g.op('Concat', [v.a, v.b, v.a], { axis: attr.int(1) }) },
    {
      name: 'Concat axis=-1, symbolic sizes',
      inputs: () => [F('a', [2, 3], { declared: [2, 'p'] }), F('b', [2, 2], { declared: [2, 'q'] })],
      f: (g, v) => g.op('Concat', [v.a, v.b], { axis: attr.int(-1) }),
    },
    {
      name: 'Split with split input, one output unused',
      inputs: () => [F('x', [2, 7])],
      f: (g, v) => {
        const [p, , r] = g.node('Split', [v.x, g.i64([2, 3, 2])], { axis: attr.int(1) }, 3);
        return g.op('Concat', [p, r], { axis: attr.int(1) });
      },
    },
    { name: 'Slice [0:2) on axis 1', inputs: () => [F('x', [3, 5])], f: (g, v) => g.op('Slice', [v.x, g.i64([0]), g.i64([2]), g.i64([1])]) },
    { name: 'Slice negative start, INT end, axis -1', inputs: () => [F('x', [3, 5])], f: (g, v) => g.op('Slice', [v.x, g.i64([-2]), g.i64([big]), g.i64([-1])]) },
    { name: 'Slice two axes, no axes input', inputs: () => [F('x', [4, 5])], f: (g, v) => g.op('Slice', [v.x, g.i64([1, 2]), g.i64([3, -1])]) },
    {
      name: 'Slice on symbolic dims (runtime pads)',
      inputs: () => [F('x', [2, 4, 5], { declared: ['b', 's', 5] })],
      f: (g, v) => g.op('Slice', [v.x, g.i64([-1, 1]), g.i64([big, 4]), g.i64([1, 2])]),
    },
    {
      name: 'Slice symbolic, start past the end clamps',
      inputs: () => [F('x', [3, 4], { declared: ['n', 'm'] })],
      f: (g, v) => g.op('Slice', [v.x, g.i64([1, -10]), g.i64([100, 2]), g.i64([0, 1])]),
    },
    {
      name: 'Gather axis 0, repeated indices [2,4]',
      inputs: () => [F('w', [7, 3]), I('ids', [2, 4], [1, 3, 1, 6, 0, 3, 3, 1])],
      f: (g, v) => g.op('Gather', [v.w, v.ids], { axis: attr.int(0) }),
    },
    {
      name: 'Gather axis 0, repeated indices (one-hot rule)',
      inputs: () => [F('w', [7, 3]), I('ids', [2, 4], [1, 3, 1, 6, 0, 3, 3, 1])],
      f: (g, v) => g.op('Gather', [v.w, v.ids], { axis: attr.int(0) }),
      grad: { gatherGrad: 'onehot' },
    },
    {
      name: 'Gather axis 0, scalar index, 3-D data',
      inputs: () => [F('w', [4, 2, 3]), I('i', [], [2])],
      f: (g, v) => g.op('Gather', [v.w, v.i], { axis: attr.int(0) }),
    },
    {
      name: 'Gather embedding, symbolic ids, used twice',
      inputs: () => [F('w', [6, 4]), I('ids', [5], [5, 0, 5, 5, 2], ['n'])],
      f: (g, v) => {
        const e = g.op('Gather', [v.w, v.ids], { axis: attr.int(0) });
        return g.op('Mul', [e, g.op('Gather', [v.w, g.i64([5, 5, 1, 0, 2])], { axis: attr.int(0) })]);
      },
    },
    {
      name: 'GatherElements axis -1, repeated indices',
      inputs: () => [F('x', [2, 3, 5]), I('k', [2, 3, 2], [0, 0, 4, 1, 2, 2, 3, 3, 0, 4, 1, 1])],
      f: (g, v) => g.op('GatherElements', [v.x, v.k], { axis: attr.int(-1) }),
    },
    {
      name: 'Gather with negative indices',
      inputs: () => [F('w', [5, 3]), I('ids', [4], [-1, 2, -1, 0])],
      f: (g, v) => g.op('Gather', [v.w, v.ids], { axis: attr.int(0) }),
    },
    {
      name: 'GatherElements with negative indices',
      inputs: () => [F('x', [2, 5]), I('k', [2, 2], [-1, 2, -1, -5])],
      f: (g, v) => g.op('GatherElements', [v.x, v.k], { axis: attr.int(1) }),
    },
    {
      name: 'GatherElements axis 0',
      inputs: () => [F('x', [3, 4]), I('k', [2, 4], [0, 2, 2, 1, 0, 0, 1, 2])],
      f: (g, v) => g.op('GatherElements', [v.x, v.k], { axis: attr.int(0) }),
    },
    {
      name: 'TopK values (indices are not differentiable)',
      // Distinct values at least 0.37 apart, so no perturbation reorders them.
      inputs: () => [{ name: 'x', dims: [3, 6], data: Float32Array.from({ length: 18 }, (_, i) => ((i * 7) % 18) * 0.37 - 3) }],
      f: (g, v) => {
        const [vals, idx] = g.node('TopK', [v.x, g.i64([3])], { axis: attr.int(-1) }, 2);
        return g.op('Add', [vals, g.op('Cast', [idx], { to: attr.int(1) })]);
      },
    },
  ]);
});

describe('graphs: repeated use, integer paths, chains', () => {
  run([
    {
      name: 'x used four times: x*x + exp(x) + x',
      inputs: () => [F('x', [3, 4])],
      f: (g, v) => g.op('Sum', [g.op('Mul', [v.x, v.x]), g.op('Exp', [v.x]), v.x]),
    },
    {
      name: 'value reused with broadcasting: (x + b) * b',
      inputs: () => [F('x', [3, 4]), F('b', [4])],
      f: (g, v) => g.op('Mul', [g.op('Add', [v.x, v.b]), v.b]),
    },
    {
      name: 'integer paths: Shape, ArgMax, Equal, Cast are constants',
      inputs: () => [F('x', [3, 4], { declared: ['n', 4] }), F('w', [4, 2])],
      f: (g, v) => {
        const flat = g.op('Reshape', [v.x, g.op('Concat', [g.op('Shape', [v.x], { start: attr.int(0), end: attr.int(1) }), g.i64([-1])], { axis: attr.int(0) })]);
        const am = g.op('ArgMax', [v.x], { axis: attr.int(1), keepdims: attr.int(0) }); // [n]
        const picked = g.op('Gather', [g.op('Transpose', [v.w]), g.op('Mod', [am, g.i64([2], [])])], { axis: attr.int(0) }); // [n, 4]
        const isPos = g.op('Cast', [g.op('Greater', [v.x, g.scalar(0)])], { to: attr.int(1) });
        return g.op('Add', [g.op('Mul', [flat, picked]), isPos]);
      },
    },
    {
      name: 'chain: RMSNorm -> Gemm(+bias) -> SiLU -> Softmax -> Log',
      inputs: () => [F('x', [3, 8], { declared: ['n', 8] }), F('nw', [8], { offset: 1, scale: 0.2 }), F('W', [6, 8], { scale: 0.5 }), F('bias', [6], { scale: 0.2 })],
      f: (g, v) => {
        const ms = g.op('ReduceMean', [g.op('Mul', [v.x, v.x])], { axes: attr.ints([-1]), keepdims: attr.int(1) });
        const normed = g.op('Mul', [g.op('Div', [v.x, g.op('Sqrt', [g.op('Add', [ms, g.scalar(1e-6)])])]), v.nw]);
        const h = g.op('Gemm', [normed, v.W, v.bias], { transB: attr.int(1) });
        const silu = g.op('Mul', [h, g.op('Sigmoid', [h])]);
        return g.op('Log', [g.op('Softmax', [silu], { axis: attr.int(-1) })]);
      },
    },
    {
      name: 'PPO-style clipped objective: min(r*A, clip(r)*A)',
      inputs: () => [
        // ratios 0.6 .. 1.4, at least 0.1 away from the clip edges 0.8 and 1.2
        { name: 'lp', dims: [12], data: Float32Array.from({ length: 12 }, (_, i) => 0.3 * Math.cos(i * 1.3) + Math.log([0.6, 0.9, 1.0, 1.1, 1.4][i % 5])) },
        F('adv', [12]),
      ],
      f: (g, v) => {
        const ratio = g.op('Exp', [g.op('Sub', [v.lp, g.f32(Array.from({ length: 12 }, (_, i) => 0.3 * Math.cos(i * 1.3)))])]);
        const clipped = g.op('Clip', [ratio, g.scalar(0.8), g.scalar(1.2)]);
        return g.op('Min', [g.op('Mul', [ratio, v.adv]), g.op('Mul', [clipped, v.adv])]);
      },
      wrt: ['lp', 'adv'],
    },
  ]);
});
