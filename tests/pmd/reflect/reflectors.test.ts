/** The OpenAI-compatible endpoint reflector against a local server, the rule-reflector registry, and the policy's batched reflections. */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatCompletionsUrl, endpointReflector, policyBatchReflector, ruleReflector, type ReflectEffect } from '../../../src/pmd/reflect/reflectors';
import type { Policy } from '../../../src/engine/policy';
import { PMD_DEFAULTS } from '../../../src/pmd/config';

let server: Server;
let base = '';
const seen: { url: string; body: Record<string, unknown>; auth?: string }[] = [];
let mode: 'ok' | 'error' | 'garbage' = 'ok';

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', body: JSON.parse(body), auth: req.headers.authorization });
      if (mode === 'error') {
        res.writeHead(503);
        res.end('busy');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(mode === 'garbage' ? '{"nothing": true}' : JSON.stringify({ choices: [{ message: { role: 'assistant', content: '{"strategies": [], "lessons": []}' } }] }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const effect: ReflectEffect = {
  kind: 'reflect',
  id: '1:insight:0',
  purpose: 'insight',
  messages: [{ role: 'user', content: 'Reflect.' }],
  evidence: { purpose: 'insight', problem: 'p', question: 'q', successes: [], failures: [], correct: 0, total: 0 },
  seed: 7,
};

describe('endpoint reflector', () => {
  it('posts the chat to /v1/chat/completions with the settings and returns the content', async () => {
    const r = endpointReflector({ ...PMD_DEFAULTS.reflector, kind: 'endpoint', endpoint: base, model: 'local-model', temperature: 0.3, maxNewTokens: 100 }, (u, i) => fetch(u, i), { apiKey: 'k' });
    const out = await r(effect);
    expect(out).toEqual({ text: '{"strategies": [], "lessons": []}', reflector: `endpoint:${base}` });
    expect(seen.at(-1)).toMatchObject({ url: '/v1/chat/completions', auth: 'Bearer k', body: { model: 'local-model', temperature: 0.3, max_tokens: 100, seed: 7, messages: [{ role: 'user', content: 'Reflect.' }] } });
    expect(chatCompletionsUrl('http://h:1/v1/')).toBe('http://h:1/v1/chat/completions');
  });

  it('a server error or a reply without content is text the parser rejects (one failed attempt), not a crash', async () => {
    const r = endpointReflector({ ...PMD_DEFAULTS.reflector, kind: 'endpoint', endpoint: base }, (u, i) => fetch(u, i));
    mode = 'error';
    expect((await r(effect)).text).toMatch(/^\[reflector error: .*HTTP 503: busy\]$/);
    mode = 'garbage';
    expect((await r(effect)).text).toMatch(/no choices\[0\]\.message\.content/);
    mode = 'ok';
    const down = endpointReflector({ ...PMD_DEFAULTS.reflector, kind: 'endpoint', endpoint: 'http://127.0.0.1:1' }, (u, i) => fetch(u, i));
    expect((await down(effect)).text).toMatch(/^\[reflector error: /);
  });
});

describe('rule reflector', () => {
  it('answers with the rules as JSON, named rule:<name>', async () => {
    const r = ruleReflector({ name: 'demo', insight: () => ({ strategies: [{ title: 't', content: 'c' }], lessons: [] }), behaviorCold: () => ({ behaviors: [] }), behaviorEvolve: () => ({ actions: [] }) });
    expect(await r(effect)).toEqual({ text: '{"strategies":[{"title":"t","content":"c"}],"lessons":[]}', reflector: 'rule:demo' });
  });
});

describe('policyBatchReflector', () => {
  it('writes every reply in one generation call, each row from its own seed, replies in request order', async () => {
    const calls: { prompts: number[][]; seeds?: readonly number[]; maxNewTokens: number }[] = [];
    const policy = {
      info: { label: 'stub', family: 'qwen3', vocabSize: 10, maxPositions: 64, hiddenSize: 4, hasChatTemplate: false },
      promptIds: async (text: string) => Array.from({ length: text.length }, (_, i) => i % 10),
      decode: (ids: readonly number[]) => `reply ${ids.join(',')}`,
      generate: async (prompts: number[][], o: { seeds?: readonly number[]; maxNewTokens: number }) => {
        calls.push({ prompts, seeds: o.seeds, maxNewTokens: o.maxNewTokens });
        return { tokens: prompts.map((p, i) => [p.length, o.seeds![i]]), logprobs: prompts.map(() => [0, 0]), finish: prompts.map(() => 'eos' as const) };
      },
    } as unknown as Policy;
    const requests = [
      { key: 'r1-a', purpose: 'insight' as const, messages: [{ role: 'user' as const, content: 'Reflect on a.' }], evidence: effect.evidence, seed: 11 },
      { key: 'r1-b', purpose: 'insight' as const, messages: [{ role: 'user' as const, content: 'Reflect on problem b, longer.' }], evidence: effect.evidence, seed: 22 },
    ];
    const replies = await policyBatchReflector(policy, { ...PMD_DEFAULTS.reflector, maxNewTokens: 256 })(requests);
    expect(calls).toHaveLength(1);
    expect(calls[0].seeds).toEqual([11, 22]);
    // Capped so the longest prompt still fits in the model's positions (64 - 29).
    expect(calls[0].maxNewTokens).toBe(64 - 'Reflect on problem b, longer.'.length);
    expect(replies).toEqual([
      { text: 'reply 13,11', reflector: 'policy' },
      { text: 'reply 29,22', reflector: 'policy' },
    ]);
    expect(await policyBatchReflector(policy, PMD_DEFAULTS.reflector)([])).toEqual([]);
  });
});
