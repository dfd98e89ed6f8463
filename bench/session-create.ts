/**
 * Creating onnxruntime-node sessions for the generation graphs of the Qwen3-0.6B shape (no
 * weights needed: they are graph inputs): build and serialize the graph, then create the
 * session, for the prefill graph, the concatenating decode graph and the in-place decode graph
 * (decode-static). Each is created --reps times, alternating. Usage:
 *   npx tsx bench/session-create.ts [--layers 28] [--reps 3] [--no-value-info] [--out bench/out/session-create.json]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { Args } from '../src/cli/args';
import { inferValueInfo } from '../src/engine/autodiff/value-info';
import { buildDecoderGraph, type GraphMode } from '../src/engine/models/decoder-graph';
import { serializeGraph } from '../src/engine/onnx/serialize';
import { loadAvg, machineLine } from './proc';
import { qwen3_06bConfig } from './shapes';

const MODES: GraphMode[] = ['prefill', 'decode', 'decode-static'];

async function main() {
  const args = new Args(process.argv.slice(2), ['no-value-info']);
  const layers = args.integer('layers', 28, 1);
  const reps = args.integer('reps', 3, 1);
  const valueInfo = !args.has('no-value-info');
  const outFile = args.string('out') ?? 'bench/out/session-create.json';
  args.rejectUnknown();
  const cfg = qwen3_06bConfig(layers);
  const loadBefore = loadAvg();
  const runs: { mode: GraphMode; nodes: number; buildMs: number; createMs: number }[] = [];
  for (let r = 0; r < reps; r++) {
    for (const mode of MODES) {
      const t0 = performance.now();
      const graph = buildDecoderGraph(cfg, { mode, logits: 'last', loraTargets: [], emitKv: true, weightDtype: 'float32' }).graph;
      const bytes = serializeGraph(graph, valueInfo ? { valueInfo: inferValueInfo(graph) } : {});
      const t1 = performance.now();
      const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
      const t2 = performance.now();
      await session.release();
      runs.push({ mode, nodes: graph.nodes.length, buildMs: t1 - t0, createMs: t2 - t1 });
      console.log(`${mode}: ${graph.nodes.length} nodes, build + serialize ${(t1 - t0).toFixed(0)} ms, create ${(t2 - t1).toFixed(0)} ms`);
    }
  }
  const result = { bench: 'session-create', date: new Date().toISOString(), machine: machineLine(), node: process.version, layers, valueInfo, runs, loadBefore, loadAfter: loadAvg() };
  await mkdir(path.dirname(outFile), { recursive: true });
  await writeFile(outFile, JSON.stringify(result, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
