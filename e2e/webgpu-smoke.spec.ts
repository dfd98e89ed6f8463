/**
 * Runs the smoke worker's op suite in Chromium (WebGPU on SwiftShader in CI) and checks every
 * output against a plain-JS computation. Also checks that ORT really ran the float ops as
 * WebGPU programs, and that only small int64 shape ops were placed on the CPU.
 */
import { expect, test, type Page } from '@playwright/test';
import type { JsonTensor, OpCaseResult, SmokeResponse } from './harness/smoke.worker';
import {
  add,
  concat,
  div,
  gather0,
  gemmTransB,
  matmul,
  maxAbsDiff,
  mul,
  reduceMeanLast,
  reshape,
  scalar,
  sigmoid,
  slice,
  softmaxLast,
  transpose,
  unary,
  unsqueeze,
  type Nd,
} from './reference';

const TOLERANCE = 1e-4;
/**
 * WGSL only promises cos/sin to an absolute error of 2^-11 on [-pi, pi] (and nothing beyond);
 * SwiftShader measures about 1.9e-4 there and 3.5e-4 at |x| ~ 4096. Outputs computed with
 * Cos/Sin are therefore held to 2^-11 instead of 1e-4.
 */
const TRIG_TOLERANCE = 2 ** -11;
const TRIG_OUTPUTS: Record<string, string[]> = { rope_tables: ['cos', 'sin'] };
const BIG_END = 2 ** 53 - 1;

type Inputs = Record<string, Nd>;

/** Plain-JS versions of the worker's graphs, keyed by case name. */
const REFERENCE: Record<string, (x: Inputs) => Record<string, Nd>> = {
  matmul_softmax: (x) => ({ y: softmaxLast(matmul(x.x, x.w)) }),
  gemm_transB: (x) => ({ y_bias: gemmTransB(x.a, x.b, x.c), y: gemmTransB(x.a, x.b) }),
  matmul_5d_broadcast: (x) => ({ y: matmul(x.a, x.b) }),
  matmul_gemm_tiled: (x) => ({ y: gemmTransB(x.a, x.b, x.c), scores: matmul(x.q, x.k) }),
  concat_slice: (x) => ({
    swapped: concat([slice(x.x, 4, 8, 2), slice(x.x, 0, 4, 2)], 2),
    last: slice(x.x, -1, BIG_END, 1),
  }),
  sigmoid_silu: (x) => {
    const sig = unary(x.gate, sigmoid);
    return { sig, act: mul(mul(x.gate, sig), x.up) };
  },
  reduce_sqrt_div: (x) => {
    const ms = reduceMeanLast(mul(x.x, x.x));
    const denom = unary(add(ms, scalar(1e-6)), Math.sqrt);
    const d = div(x.x, denom);
    return { ms, denom, div: d, y: mul(d, x.w) };
  },
  rmsnorm_3d: (x) => {
    const denom = unary(add(reduceMeanLast(mul(x.x, x.x)), scalar(1e-6)), Math.sqrt);
    return { y: mul(div(x.x, denom), x.w) };
  },
  rope_tables: (x) => {
    const ang = mul(reshape(x.pos, [-1, 1]), x.inv_freq);
    const full = concat([ang, ang], 1);
    return { cos: unsqueeze(unary(full, Math.cos), [1]), sin: unsqueeze(unary(full, Math.sin), [1]) };
  },
  rope_rotate: (x) => {
    const rot = concat([unary(slice(x.v, 2, 4, 2), (v) => -v), slice(x.v, 0, 2, 2)], 2);
    return { y: add(mul(x.v, x.cos), mul(rot, x.sin)) };
  },
  gather_embedding: (x) => ({ y: gather0(x.emb, reshape(x.ids, [-1])) }),
  transpose_reshape: (x) => ({
    t4: transpose(reshape(x.x, [0, 0, 2, 4]), [0, 2, 1, 3]),
    flat: reshape(x.x, [-1, 4]),
    t5: transpose(reshape(x.x, [2, 3, 2, 1, 4]), [0, 2, 3, 1, 4]),
    dyn: reshape(x.x, [x.x.dims[0], x.x.dims[1], 4, 2]),
  }),
  attention_gqa: (x) => {
    const k4 = concat([x.past_k, x.k], 2);
    const v4 = concat([x.past_v, x.v], 2);
    const kT = transpose(unsqueeze(k4, [2]), [0, 1, 2, 4, 3]);
    const probs = softmaxLast(add(matmul(x.q, kT), unsqueeze(x.mask, [1, 2])));
    const ctx = matmul(probs, unsqueeze(v4, [2]));
    return { present_k: k4, probs, out: reshape(transpose(ctx, [0, 3, 1, 2, 4]), [-1, 16]) };
  },
  gpu_buffer_io: (x) => ({ y: gemmTransB(x.a, x.b) }),
  cast_f16: (x) => ({ y: x.w }),
};

/** WebGPU program name prefixes each case must have run (proof the op ran on the GPU). */
const EXPECTED_PROGRAMS: Record<string, string[]> = {
  matmul_softmax: ['MatMul', 'Softmax'],
  gemm_transB: ['Gemm'],
  matmul_5d_broadcast: ['MatMul'],
  matmul_gemm_tiled: ['Gemm', 'MatMul'],
  concat_slice: ['Slice', 'Concat'],
  sigmoid_silu: ['Sigmoid', 'Mul'],
  reduce_sqrt_div: ['ReduceMean', 'Sqrt', 'Div', 'Add', 'Mul'],
  rmsnorm_3d: [],
  rope_tables: ['Cos', 'Sin', 'Concat', 'Mul'],
  rope_rotate: ['Slice', 'Neg', 'Concat', 'Mul', 'Add'],
  gather_embedding: ['Gather'],
  transpose_reshape: ['Transpose'],
  attention_gqa: ['MatMul', 'Softmax', 'Transpose', 'Concat', 'Add'],
  gpu_buffer_io: ['Gemm'],
  cast_f16: ['Cast'],
};

/** Ops ORT may legitimately keep on the CPU: shape arithmetic and int64 index handling. */
const CPU_OK = new Set(['Shape', 'Reshape', 'Cast', 'Slice', 'Concat', 'Unsqueeze', 'Squeeze', 'Gather']);

const toNd = (t: JsonTensor): Nd => ({ dims: t.dims, data: t.data });

/** Largest |output - reference| seen per case, for the report. */
const maxDiffs = new Map<string, number>();

function checkValues(c: OpCaseResult): string[] {
  const problems: string[] = [];
  const ref = REFERENCE[c.name];
  if (!ref) return [`no reference for case ${c.name}`];
  let worst = 0;
  const inputs: Inputs = Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, toNd(v)]));
  const want = ref(inputs);
  for (const [name, w] of Object.entries(want)) {
    const got = c.outputs[name];
    if (!got) {
      problems.push(`${name}: missing`);
      continue;
    }
    if (got.dims.join(',') !== w.dims.join(',')) {
      problems.push(`${name}: dims [${got.dims}] != expected [${w.dims}]`);
      continue;
    }
    const tol = TRIG_OUTPUTS[c.name]?.includes(name) ? TRIG_TOLERANCE : TOLERANCE;
    const d = maxAbsDiff(toNd(got), w);
    worst = Math.max(worst, d);
    if (!(d <= tol)) problems.push(`${name}: max |diff| ${d.toExponential(2)} > ${tol.toExponential(2)}`);
  }
  maxDiffs.set(c.name, worst);
  return problems;
}

async function runSuite(page: Page, query: string): Promise<Extract<SmokeResponse, { type: 'ops' }>> {
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(`/e2e/pages/smoke.html${query}`);
  await page.waitForFunction(() => window.__smoke !== undefined, null, { timeout: 170_000 });
  const res = (await page.evaluate(() => window.__smoke)) as SmokeResponse;
  expect(pageErrors, 'page errors').toEqual([]);
  if (res.type === 'error') throw new Error(`smoke worker failed: ${res.message}`);
  if (res.type !== 'ops') throw new Error(`unexpected response ${res.type}`);
  return res;
}

function report(res: Extract<SmokeResponse, { type: 'ops' }>, problemsByCase: Map<string, string[]>): void {
  const { info } = res;
  const lines = [
    `backend=${info.backend} adapter="${info.adapterInfo}" shader-f16=${info.shaderF16} ` +
      `maxBuffer=${info.maxBufferBytes} maxStorageBinding=${info.maxStorageBindingBytes} ort=${info.ortVersion} init=${info.initMs}ms`,
  ];
  for (const c of res.cases) {
    const problems = problemsByCase.get(c.name) ?? [];
    const status = c.ok && problems.length === 0 ? 'ok  ' : c.required ? 'FAIL' : 'info';
    const diff = maxDiffs.get(c.name);
    let line = `${status} ${c.name.padEnd(20)} ${String(c.ms).padStart(5)} ms  maxdiff=${diff === undefined ? '-' : diff.toExponential(1)}  ops=${c.ops.join(',')}`;
    if (c.gpuPrograms.length) line += `  gpu=${c.gpuPrograms.join(',')}`;
    if (c.cpuNodes.length) line += `  cpu=${c.cpuNodes.join(',')}`;
    if (c.error) line += `  error=${c.error}`;
    const extra = problems.filter((p) => !p.startsWith('did not run'));
    if (extra.length) line += `  problems=${extra.join('; ')}`;
    lines.push(line);
  }
  lines.push(`suite total ${res.totalMs} ms`);
  console.log(lines.join('\n'));
}

test('all decoder ops run on WebGPU and match a plain-JS computation', async ({ page }) => {
  const res = await runSuite(page, '');
  const problemsByCase = new Map<string, string[]>();
  for (const c of res.cases) {
    const problems: string[] = [];
    if (!c.ok) problems.push(`did not run: ${c.error}`);
    else problems.push(...checkValues(c));
    for (const prefix of EXPECTED_PROGRAMS[c.name] ?? []) {
      if (c.ok && !c.gpuPrograms.some((p) => p.startsWith(prefix))) problems.push(`no WebGPU program for ${prefix}`);
    }
    for (const node of c.cpuNodes) {
      if (!CPU_OK.has(node.split(' ')[0])) problems.push(`placed on CPU: ${node}`);
    }
    problemsByCase.set(c.name, problems);
  }
  report(res, problemsByCase);

  expect(res.info.backend).toBe('webgpu');
  // float16 kernels need shader-f16 (SwiftShader lacks it), so that case is informational there.
  const mustPass = (c: OpCaseResult) => c.required || (c.name === 'cast_f16' && res.info.shaderF16);
  const failures = res.cases.filter(mustPass).flatMap((c) => (problemsByCase.get(c.name) ?? []).map((p) => `${c.name}: ${p}`));
  expect(failures).toEqual([]);
  expect(res.cases.filter(mustPass).length).toBeGreaterThanOrEqual(14);
});

test('the wasm fallback computes the same values', async ({ page }) => {
  const res = await runSuite(page, '?backend=wasm');
  const problemsByCase = new Map<string, string[]>();
  for (const c of res.cases) problemsByCase.set(c.name, c.ok ? checkValues(c) : [`did not run: ${c.error}`]);
  report(res, problemsByCase);
  expect(res.info.backend).toBe('wasm');
  const failures = res.cases.flatMap((c) => (problemsByCase.get(c.name) ?? []).map((p) => `${c.name}: ${p}`));
  expect(failures).toEqual([]);
});
