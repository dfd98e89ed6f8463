/**
 * PMD runs through the worker protocol (EngineHost driven directly, onnxruntime-node, runs kept
 * in memory): create a run on a tiny model, advance it phase by phase and step by step, freeze
 * the policy live (the adapter stays byte-identical), export the run as a zip and import it back,
 * a corrupt import changes nothing, records, the cluster map, and the with/without-memory answer.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { makeTinyCheckpoint } from '../../scripts/tiny-model';
import { MemorySource } from '../../src/engine/models/sources';
import { nodeCpuBackend } from '../../src/engine/runtime/node-backend';
import { EngineHost } from '../../src/worker/engine-host';
import type { EngineEvent, EngineRequest, RunView } from '../../src/worker/protocol';

async function makeHost() {
  const events: EngineEvent[] = [];
  const files = makeTinyCheckpoint({ family: 'qwen3', seed: 3 });
  const host = new EngineHost(
    {
      init: async () => ({ backend: nodeCpuBackend(), info: { backend: 'node-cpu', adapterInfo: 'test', shaderF16: false, maxStorageBindingBytes: 1 << 20 } }),
      source: () => new MemorySource(files, 'tiny'),
    },
    (e) => events.push(e),
  );
  let id = 1;
  const send = async (req: Record<string, unknown>): Promise<{ last: EngineEvent; all: EngineEvent[] }> => {
    const rid = id++;
    await host.handle({ ...req, id: rid } as EngineRequest);
    const mine = events.filter((e) => e.id === rid);
    return { last: mine[mine.length - 1], all: mine };
  };
  await send({ type: 'init', preferWebGpu: false });
  await send({ type: 'load', source: { kind: 'embedded', url: 'x' } });
  return { send, events };
}

const CONFIG = { steps: 2, problemsPerStep: 2, rolloutsPerProblem: 2, rollout: { maxNewTokens: 5, chunk: 4 }, eval: { every: 2, n: 1, k: 1, maxProblems: 2 }, reflector: { maxNewTokens: 16 }, behavior: { every: 1 } };

describe('PMD runs in the worker', () => {
  it('create, advance phase by phase, freeze the policy live, export and import, records, map, compare', async () => {
    const { send } = await makeHost();
    const suite = { name: 'arithmetic', text: await readFile('public/tasks/arithmetic.jsonl', 'utf8') };
    const created = (await send({ type: 'run-create', name: 'test run', config: CONFIG, suite })).last;
    expect(created).toMatchObject({ type: 'run-opened', meta: { name: 'test run', model: 'tiny', suite: 'arithmetic' } });
    if (created.type !== 'run-opened') return;
    const runId = created.meta.id;
    expect(created.view.phase).toBe('rollout');

    // Phase by phase through step 1: each call stops when a phase is complete.
    const phases: string[] = [];
    let view: RunView = created.view;
    for (let i = 0; i < 12 && view.step === 1; i++) {
      const r = await send({ type: 'run-advance', runId, until: 'phase' });
      expect(r.last.type).toBe('run-stopped');
      if (r.last.type !== 'run-stopped') return;
      view = r.last.view;
      if (view.step === 1) {
        expect(view.pending).toBeNull();
        phases.push(view.phase);
      }
      expect(r.all.some((e) => e.type === 'run-transition')).toBe(true);
    }
    expect(phases).toEqual(['rollout', 'verify', 'experience', 'insight', 'behavior', 'teacher', 'update']);
    expect(view.step).toBe(2);
    // Rollouts of step 1 carry text pieces for coloring.
    const recs = (await send({ type: 'run-records', runId, kinds: ['rollout'] })).last;
    if (recs.type !== 'run-records') throw new Error(JSON.stringify(recs));
    expect(recs.records).toHaveLength(4);

    // Freeze the policy: the next step changes the adapter not at all.
    const before = (await send({ type: 'run-adapter', runId, which: 'student' })).last;
    await send({ type: 'run-freeze', runId, policy: true });
    const stepped = (await send({ type: 'run-advance', runId, until: 'end' })).last;
    expect(stepped).toMatchObject({ type: 'run-stopped', reason: 'done' });
    const after = (await send({ type: 'run-adapter', runId, which: 'student' })).last;
    if (before.type !== 'adapter' || after.type !== 'adapter') throw new Error('no adapter');
    expect(Buffer.from(after.files['adapter_model.safetensors']).equals(Buffer.from(before.files['adapter_model.safetensors']))).toBe(true);

    const map = (await send({ type: 'run-map', runId })).last;
    expect(map.type).toBe('run-map');
    if (map.type === 'run-map') expect(map.points.length).toBeGreaterThan(0);
    const cmp = (await send({ type: 'run-compare', runId, problem: 'arith-01', seed: 1 })).last;
    expect(cmp).toMatchObject({ type: 'run-compared', without: { text: expect.any(String) }, with: { text: expect.any(String) } });

    // Export, import: the imported run has the same state and records.
    const bundle = (await send({ type: 'run-export', runId })).last;
    if (bundle.type !== 'run-bundle') throw new Error(JSON.stringify(bundle));
    const listed = (await send({ type: 'run-import', bytes: bundle.bytes, name: 'copy.zip' })).last;
    if (listed.type !== 'run-list') throw new Error(JSON.stringify(listed));
    expect(listed.runs).toHaveLength(2);
    const copy = listed.runs.find((r) => r.id !== runId)!;
    const a = (await send({ type: 'run-records', runId })).last;
    const b = (await send({ type: 'run-records', runId: copy.id })).last;
    if (a.type !== 'run-records' || b.type !== 'run-records') throw new Error('no records');
    // The same records per transition (their order within one transition is not kept by the zip's files).
    const canon = (rs: { seq: number; record: unknown }[]) => rs.map((r) => `${r.seq} ${JSON.stringify(r.record)}`).sort();
    expect(canon(b.records)).toEqual(canon(a.records));
    const opened = (await send({ type: 'run-open', runId: copy.id })).last;
    expect(opened).toMatchObject({ type: 'run-opened', view: { phase: 'done' } });

    // A corrupt archive is a clear error and stores nothing.
    const broken = bundle.bytes.slice(0, bundle.bytes.length >> 1);
    expect((await send({ type: 'run-import', bytes: broken, name: 'bad.zip' })).last).toMatchObject({ type: 'error', message: expect.stringMatching(/not a run archive/) });
    expect((await send({ type: 'run-import', bytes: new TextEncoder().encode('hello'), name: 'x.zip' })).last).toMatchObject({ type: 'error' });
    expect(((await send({ type: 'run-list' })).last as Extract<EngineEvent, { type: 'run-list' }>).runs).toHaveLength(2);
  });

  it('bad configs and suites are clear errors; a task import reports counts', async () => {
    const { send } = await makeHost();
    const suite = { name: 'a', text: await readFile('public/tasks/arithmetic.jsonl', 'utf8') };
    expect((await send({ type: 'run-create', name: 'x', config: { steps: 0 }, suite })).last).toMatchObject({ type: 'error', message: expect.stringMatching(/steps: must be a whole number >= 1/) });
    expect((await send({ type: 'run-create', name: 'x', config: {}, suite: { name: 'b', text: '{"id": 1}\n' } })).last).toMatchObject({ type: 'error', message: expect.stringMatching(/task suite has problems/) });
    const gsm = '{"question": "What is 2 + 3?", "answer": "2 + 3 = 5\\n#### 5"}\n';
    expect((await send({ type: 'tasks-import', format: 'gsm8k', text: gsm })).last).toMatchObject({ type: 'tasks-imported', tasks: 1, train: 1 });
  });
});
