/**
 * The cost onnxruntime's CPU Gemm pays for a weight fed as an input (packed on every call)
 * against the same weight as an initializer (packed once), and against the transposed product
 * (the weight as operand A, which is not packed). Several distinct weights, so they do not stay
 * in cache, as in a model. Usage:
 *   npx tsx bench/gemm-prepack.ts [--rows 1,4,16,64] [--out-features 3072] [--in-features 1024] [--weights 16]
 */
import * as ort from 'onnxruntime-node';
import { Args } from '../src/cli/args';
import { attr, Graph } from '../src/engine/onnx/graph';
import { serializeGraph } from '../src/engine/onnx/serialize';
import { loadAvg, machineLine } from './proc';

type Mode = 'input' | 'initializer' | 'transposed';

async function timeGemm(M: number, N: number, K: number, L: number, mode: Mode, reps: number): Promise<number> {
  const g = new Graph('gemm');
  const x = g.input('x', 'float32', [M, K]);
  const feeds: Record<string, ort.Tensor> = { x: new ort.Tensor('float32', new Float32Array(M * K).fill(0.5), [M, K]) };
  for (let l = 0; l < L; l++) {
    const w = new Float32Array(N * K).map((_, i) => Math.sin(i + l) * 0.02);
    let name: string;
    if (mode === 'initializer') name = g.initializer(`w${l}`, { dtype: 'float32', dims: [N, K], data: w });
    else {
      name = g.input(`w${l}`, 'float32', [N, K]);
      feeds[name] = new ort.Tensor('float32', w, [N, K]);
    }
    const y = mode === 'transposed' ? g.op('Transpose', [g.op('Gemm', [name, x], { transB: attr.int(1) })], { perm: attr.ints([1, 0]) }) : g.op('Gemm', [x, name], { transB: attr.int(1) });
    g.output(g.op('Identity', [y], {}, `y${l}`), 'float32', [M, N]);
  }
  const s = await ort.InferenceSession.create(serializeGraph(g));
  try {
    for (let i = 0; i < 2; i++) await s.run(feeds);
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) await s.run(feeds);
    return (performance.now() - t0) / reps;
  } finally {
    await s.release();
  }
}

async function main() {
  const args = new Args(process.argv.slice(2));
  const rows = (args.string('rows') ?? '1,4,16,64').split(',').map(Number);
  const N = args.integer('out-features', 3072, 1);
  const K = args.integer('in-features', 1024, 1);
  const L = args.integer('weights', 16, 1);
  args.rejectUnknown();
  console.log(`${machineLine()}; load ${loadAvg().join(' ')}`);
  for (const M of rows) {
    const ms: string[] = [];
    for (const mode of ['input', 'initializer', 'transposed'] as const) ms.push(`${mode} ${(await timeGemm(M, N, K, L, mode, 20)).toFixed(2)} ms`);
    console.log(`${L} x Gemm [${M}, ${K}] x [${N}, ${K}]^T: ${ms.join(', ')}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
