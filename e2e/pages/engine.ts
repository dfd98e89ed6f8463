/**
 * Test-only page: exposes the real engine worker (through EngineClient) to Playwright as
 * `window.__engine`, with results converted to plain arrays so they cross `page.evaluate`.
 */
import { EngineClient } from '../../src/worker/client';
import type { AdapterChoice, EngineEvent, LossSpec, ModelSourceSpec, SamplingSpec, TrainConfig, TrainSample } from '../../src/worker/protocol';

type Ev<T extends EngineEvent['type']> = Extract<EngineEvent, { type: T }>;

/** Plain arrays cross page.evaluate more reliably than typed arrays. */
function plainFiles(files: Record<string, Uint8Array>): Record<string, number[]> {
  return Object.fromEntries(Object.entries(files).map(([k, v]) => [k, Array.from(v)]));
}

const client = EngineClient.create();
const events: EngineEvent[] = [];
const record = (e: EngineEvent) => events.push(e);

const api = {
  events,
  async init(preferWebGpu: boolean) {
    const r = await client.request<Extract<EngineEvent, { type: 'ready' }>>({ type: 'init', preferWebGpu });
    return r.info;
  },
  async load(source: ModelSourceSpec) {
    const r = await client.request<Extract<EngineEvent, { type: 'loaded' }>>({ type: 'load', source }, record);
    return r.model;
  },
  async loadPickedFolder() {
    const input = document.getElementById('folder') as HTMLInputElement;
    return api.load({ kind: 'files', files: Array.from(input.files ?? []) });
  },
  async logits(ids: number[][]) {
    const r = await client.request<Extract<EngineEvent, { type: 'logits' }>>({ type: 'logits', ids });
    return r.logits.map((s) => s.map((row) => Array.from(row)));
  },
  async generate(prompts: number[][], sampling: SamplingSpec) {
    const streamed: (number | null)[][] = [];
    const t0 = performance.now();
    let firstTokenMs = 0;
    const r = await client.request<Extract<EngineEvent, { type: 'generated' }>>({ type: 'generate', prompts, sampling }, (e) => {
      if (e.type === 'token') {
        if (streamed.length === 0) firstTokenMs = performance.now() - t0;
        streamed.push(e.tokens);
      }
    });
    const totalMs = performance.now() - t0;
    return { tokens: r.tokens, logprobs: r.logprobs, finish: r.finish, streamed, firstTokenMs, totalMs };
  },
  async trainStart(start: { config: TrainConfig; baseModel: string | null }, adapter?: Record<string, number[]>) {
    const files = adapter ? Object.fromEntries(Object.entries(adapter).map(([k, v]) => [k, Uint8Array.from(v)])) : undefined;
    const r = await client.request<Ev<'train-ready'>>({ type: 'train-start', ...start, adapter: files });
    return r.info;
  },
  async trainSft(jsonl: string, steps: number, batchSize: number, seed: number) {
    const r = await client.request<Ev<'train-done'>>({ type: 'train-sft', jsonl, steps, batchSize, seed }, record);
    return { logs: r.logs, stopped: r.stopped, ms: r.ms };
  },
  async trainStep(samples: TrainSample[], loss: LossSpec) {
    const r = await client.request<Ev<'train-stepped'>>({ type: 'train-step', samples, loss }, record);
    return r.log;
  },
  async exportAdapter(which: 'student' | 'teacher') {
    const r = await client.request<Ev<'adapter'>>({ type: 'adapter-export', which });
    return { baseModel: r.baseModel, files: plainFiles(r.files as unknown as Record<string, Uint8Array>) };
  },
  async useAdapter(which: AdapterChoice) {
    await client.request<Ev<'adapter-used'>>({ type: 'adapter-use', which });
  },
  /** Any request; the final event with binary fields as plain arrays. */
  async request(req: Record<string, unknown>) {
    const r = (await client.request(req as never, record)) as unknown as Record<string, unknown>;
    return JSON.parse(JSON.stringify(r, (_k, v) => (v instanceof Uint8Array ? Array.from(v) : v)));
  },
};

declare global {
  interface Window {
    __engine?: typeof api;
  }
}
window.__engine = api;
document.getElementById('status')!.textContent = 'ready';
