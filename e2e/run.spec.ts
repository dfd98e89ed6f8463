/**
 * The PMD loop in Chromium: the same RunHost and driver as `pmd-lab run`, in the engine worker
 * (the wasm backend: WebGPU on SwiftShader is a CPU emulating a GPU and far slower here), on the embedded tiny model and the shipped arithmetic suite, with
 * runs kept in IndexedDB. The run completes; its first step's greedy rollouts and loss agree
 * with the same run on onnxruntime-node; the run survives a page reload.
 */
import { readFile } from 'node:fs/promises';
import { expect, test } from '@playwright/test';
import { openModel } from '../src/engine/models/open-model';
import { NodeFolderSource } from '../src/engine/models/node-source';
import { nodeCpuBackend } from '../src/engine/runtime/node-backend';
import { EngineHost } from '../src/worker/engine-host';
import type { EngineEvent, EngineRequest, RunRecord } from '../src/worker/protocol';
import { MemorySource } from '../src/engine/models/sources';

const MODEL = 'public/models/tiny-qwen3';
const CONFIG = { steps: 2, problemsPerStep: 2, rolloutsPerProblem: 2, rollout: { temperature: 0, maxNewTokens: 5, chunk: 4 }, reflector: { maxNewTokens: 16 }, behavior: { every: 1 }, eval: { every: 2, n: 1, k: 1, maxProblems: 2 } };

async function nodeRun(suiteText: string) {
  const ckpt = await openModel(new NodeFolderSource(MODEL));
  void ckpt;
  const events: EngineEvent[] = [];
  const files = new Map<string, Uint8Array>();
  for (const f of ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json']) files.set(f, new Uint8Array(await readFile(`${MODEL}/${f}`)));
  const host = new EngineHost({ init: async () => ({ backend: nodeCpuBackend(), info: { backend: 'node-cpu', adapterInfo: 'node', shaderF16: false, maxStorageBindingBytes: 1 << 30 } }), source: () => new MemorySource(files, 'tiny-qwen3 (embedded)') }, (e) => events.push(e));
  let id = 1;
  const send = async (req: Record<string, unknown>) => {
    const rid = id++;
    await host.handle({ ...req, id: rid } as EngineRequest);
    return events.filter((e) => e.id === rid).at(-1)!;
  };
  await send({ type: 'init', preferWebGpu: false });
  await send({ type: 'load', source: { kind: 'embedded', url: 'x' } });
  const opened = await send({ type: 'run-create', name: 'node', config: CONFIG, suite: { name: 'arithmetic', text: suiteText } });
  if (opened.type !== 'run-opened') throw new Error(JSON.stringify(opened));
  await send({ type: 'run-advance', runId: opened.meta.id, until: 'end' });
  const recs = await send({ type: 'run-records', runId: opened.meta.id });
  if (recs.type !== 'run-records') throw new Error(JSON.stringify(recs));
  return recs.records.map((r) => r.record);
}

test('a PMD run in the worker completes, matches onnxruntime-node on its first step, and survives a reload', async ({ page }) => {
  const suiteText = await readFile('public/tasks/arithmetic.jsonl', 'utf8');
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/e2e/pages/engine.html');
  await page.waitForFunction(() => window.__engine !== undefined);
  // The wasm backend: the same worker code, and far faster than WebGPU emulated on the CPU.
  const info = await page.evaluate(() => window.__engine!.init(false));
  expect(info.backend).toBe('wasm');
  await page.evaluate(() => window.__engine!.load({ kind: 'embedded', url: new URL('/models/tiny-qwen3/', location.href).href, label: 'tiny-qwen3 (embedded)' }));
  const opened = await page.evaluate(([c, t]) => window.__engine!.request({ type: 'run-create', name: 'browser', config: c, suite: { name: 'arithmetic', text: t } }), [CONFIG, suiteText] as const);
  expect(opened.type).toBe('run-opened');
  const runId = opened.meta.id as string;
  // Step 1, then reload the page: the run is in IndexedDB and resumes where it stopped.
  const afterStep = await page.evaluate((id) => window.__engine!.request({ type: 'run-advance', runId: id, until: 'step' }), runId);
  expect(afterStep).toMatchObject({ type: 'run-stopped', view: { step: 2 } });
  await page.reload();
  await page.waitForFunction(() => window.__engine !== undefined);
  await page.evaluate(() => window.__engine!.init(false));
  await page.evaluate(() => window.__engine!.load({ kind: 'embedded', url: new URL('/models/tiny-qwen3/', location.href).href, label: 'tiny-qwen3 (embedded)' }));
  const list = await page.evaluate(() => window.__engine!.request({ type: 'run-list' }));
  expect(list.runs.map((r: { id: string }) => r.id)).toContain(runId);
  const reopened = await page.evaluate((id) => window.__engine!.request({ type: 'run-open', runId: id }), runId);
  expect(reopened).toMatchObject({ type: 'run-opened', view: { step: 2, phase: 'rollout' } });
  const done = await page.evaluate((id) => window.__engine!.request({ type: 'run-advance', runId: id, until: 'end' }), runId);
  expect(done).toMatchObject({ type: 'run-stopped', reason: 'done' });
  const web = ((await page.evaluate((id) => window.__engine!.request({ type: 'run-records', runId: id }), runId)).records as { record: RunRecord }[]).map((r) => r.record);

  const node = await nodeRun(suiteText);
  const step1 = (rs: RunRecord[]) => rs.filter((r): r is Extract<RunRecord, { kind: 'rollout' }> => r.kind === 'rollout' && r.step === 1).map((r) => r.rollout.tokens);
  expect(step1(web)).toEqual(step1(node));
  const loss = (rs: RunRecord[]) => rs.filter((r): r is Extract<RunRecord, { kind: 'metric' }> => r.kind === 'metric').map((r) => r.metric.loss!);
  const [lw, ln] = [loss(web), loss(node)];
  console.log(`PMD step losses: browser ${lw.map((x) => x.toFixed(6)).join(', ')}; node ${ln.map((x) => x.toFixed(6)).join(', ')}`);
  expect(lw).toHaveLength(2);
  expect(Math.abs(lw[0] - ln[0]) / Math.abs(ln[0])).toBeLessThan(1e-3);
  expect(web.filter((r) => r.kind === 'metric')).toHaveLength(2);
  expect(errors).toEqual([]);
});
