import { describe, expect, it } from 'vitest';
import { makeTinyCheckpoint } from '../../scripts/tiny-model';
import { MemorySource } from '../../src/engine/models/sources';
import { nodeCpuBackend } from '../../src/engine/runtime/node-backend';
import { EngineHost } from '../../src/worker/engine-host';
import type { EngineEvent, ModelSourceSpec } from '../../src/worker/protocol';

function makeHost(folders: Record<string, Map<string, Uint8Array>>) {
  const events: EngineEvent[] = [];
  const host = new EngineHost(
    {
      init: async () => ({ backend: nodeCpuBackend(), info: { backend: 'node-cpu', adapterInfo: 'test', shaderF16: false, maxStorageBindingBytes: 1 << 20 } }),
      source: (spec: ModelSourceSpec) => {
        if (spec.kind !== 'embedded') throw new Error('test host only serves embedded folders');
        const files = folders[spec.url];
        if (!files) throw new Error(`no folder ${spec.url}`);
        return new MemorySource(files, spec.url);
      },
    },
    (e) => events.push(e),
  );
  return { host, events };
}

const sampling = { maxNewTokens: 4, temperature: 0, topP: 1, topK: 0, seed: 0, stopAtEos: false };

describe('EngineHost (the worker, driven directly)', () => {
  it('initialises, loads, answers logits, generates and chats', async () => {
    const good = makeTinyCheckpoint({ family: 'qwen3', seed: 1 });
    const { host, events } = makeHost({ good });
    await host.handle({ type: 'init', id: 1, preferWebGpu: true });
    expect(events.at(-1)).toMatchObject({ type: 'ready', id: 1 });
    await host.handle({ type: 'load', id: 2, source: { kind: 'embedded', url: 'good' } });
    const loaded = events.find((e) => e.type === 'loaded');
    expect(loaded).toMatchObject({ model: { family: 'qwen3', hasTokenizer: true, hasChatTemplate: true } });
    expect(events.some((e) => e.type === 'stage' && e.id === 2)).toBe(true);

    await host.handle({ type: 'logits', id: 3, ids: [[1, 2, 3], [4]] });
    const lg = events.at(-1);
    expect(lg?.type).toBe('logits');
    if (lg?.type === 'logits') expect(lg.logits.map((s) => s.length)).toEqual([3, 1]);

    await host.handle({ type: 'generate', id: 4, prompts: [[1, 2, 3]], sampling });
    const gen = events.at(-1);
    expect(gen).toMatchObject({ type: 'generated', id: 4 });
    expect(events.filter((e) => e.type === 'token' && e.id === 4)).toHaveLength(4);

    await host.handle({ type: 'chat', id: 5, text: 'Hello', sampling });
    const chat = events.at(-1);
    expect(chat?.type).toBe('generated');
    if (chat?.type === 'generated') expect(typeof chat.text).toBe('string');
  });

  it('a broken model folder reports a clear error and the previous model keeps working', async () => {
    const good = makeTinyCheckpoint({ family: 'llama', seed: 2 });
    const broken = new Map(good);
    const st = broken.get('model.safetensors')!;
    broken.set('model.safetensors', st.subarray(0, Math.floor(st.length / 2))); // truncated file
    const badConfig = new Map(good);
    badConfig.set('config.json', new TextEncoder().encode('{"model_type": "gpt2"}'));
    const { host, events } = makeHost({ good, broken, badConfig });
    await host.handle({ type: 'init', id: 1, preferWebGpu: false });
    await host.handle({ type: 'load', id: 2, source: { kind: 'embedded', url: 'good' } });
    await host.handle({ type: 'load', id: 3, source: { kind: 'embedded', url: 'broken' } });
    const err = events.find((e) => e.type === 'error' && e.id === 3);
    expect(err?.type === 'error' && err.message).toMatch(/model\.safetensors/);
    await host.handle({ type: 'load', id: 4, source: { kind: 'embedded', url: 'badConfig' } });
    const err2 = events.find((e) => e.type === 'error' && e.id === 4);
    expect(err2?.type === 'error' && err2.message).toMatch(/config\.json.*gpt2|gpt2.*config\.json/s);
    await host.handle({ type: 'generate', id: 5, prompts: [[5, 6]], sampling });
    expect(events.at(-1)).toMatchObject({ type: 'generated', id: 5 });
    await host.handle({ type: 'logits', id: 6, ids: [[999999]] });
    expect(events.at(-1)).toMatchObject({ type: 'error', id: 6 });
  });

  it('stop ends a running generation early', async () => {
    const { host, events } = makeHost({ m: makeTinyCheckpoint({ family: 'olmo2', seed: 3 }) });
    await host.handle({ type: 'init', id: 1, preferWebGpu: false });
    await host.handle({ type: 'load', id: 2, source: { kind: 'embedded', url: 'm' } });
    const running = host.handle({ type: 'generate', id: 3, prompts: [[1]], sampling: { ...sampling, maxNewTokens: 200 } });
    await new Promise((r) => setTimeout(r, 30));
    await host.handle({ type: 'stop', id: 4 });
    await running;
    const done = events.find((e) => e.type === 'generated' && e.id === 3);
    expect(done?.type === 'generated' && done.finish[0]).toBe('stopped');
    expect(done?.type === 'generated' && done.tokens[0].length).toBeLessThan(200);
  });

  it('a stop pressed while a generation is still queued applies to it', async () => {
    const { host, events } = makeHost({ m: makeTinyCheckpoint({ family: 'qwen2', seed: 4 }) });
    await host.handle({ type: 'init', id: 1, preferWebGpu: false });
    const load = host.handle({ type: 'load', id: 2, source: { kind: 'embedded', url: 'm' } });
    const queued = host.handle({ type: 'generate', id: 3, prompts: [[1, 2]], sampling: { ...sampling, maxNewTokens: 200 } });
    await host.handle({ type: 'stop', id: 4 });
    await load;
    await queued;
    const done = events.find((e) => e.type === 'generated' && e.id === 3);
    expect(done?.type === 'generated' && done.finish[0]).toBe('stopped');
    // A later generation is not affected by the earlier stop.
    await host.handle({ type: 'generate', id: 5, prompts: [[1, 2]], sampling });
    expect(events.find((e) => e.type === 'generated' && e.id === 5)).toMatchObject({ finish: ['length'] });
  });
});
