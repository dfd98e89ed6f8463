/**
 * Test-only page: exposes the real engine worker (through EngineClient) to Playwright as
 * `window.__engine`, with results converted to plain arrays so they cross `page.evaluate`.
 */
import { EngineClient } from '../../src/worker/client';
import type { EngineEvent, ModelSourceSpec, SamplingSpec } from '../../src/worker/protocol';

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
};

declare global {
  interface Window {
    __engine?: typeof api;
  }
}
window.__engine = api;
document.getElementById('status')!.textContent = 'ready';
