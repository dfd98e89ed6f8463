/** The OpenAI-compatible endpoint reflector against a local server, and the rule-reflector registry. */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatCompletionsUrl, endpointReflector, ruleReflector, type ReflectEffect } from '../../../src/pmd/reflect/reflectors';
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
