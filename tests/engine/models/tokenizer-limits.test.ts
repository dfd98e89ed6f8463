/**
 * Untrusted tokenizer files that used to hang `chat` and `sft`: a chat template looping 10^8
 * times and a pre-tokenizer regex that backtracks catastrophically. In Node the worker-backed
 * tokenizer stops them at their time limits and serves the next call from a fresh thread; the
 * rendered-length cap holds in both implementations.
 */
import { describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../../src/engine/models/tokenizer';
import { loadTokenizerInWorker } from '../../../src/engine/models/tokenizer-node';
import { ModelFormatError } from '../../../src/engine/models/types';
import { tokenizerFiles as fixture, using } from '../../support/tokenizer-files';

const CHATML =
  "{%- for message in messages %}{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}{%- endfor %}" +
  "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

/** Loops 10^4 x 10^4 = 10^8 times when the first message says "loop"; plain ChatML otherwise. */
const LOOPING = `{%- if messages[0]['content'] == 'loop' -%}{%- for i in range(10000) -%}{%- for j in range(10000) -%}{%- endfor -%}{%- endfor -%}{%- endif -%}${CHATML}`;

/** Repeats the message 10^4 times. */
const LONG = "{%- for i in range(10000) -%}{{ messages[0]['content'] }}{%- endfor -%}";

/** `(a+)+b` backtracks exponentially on a run of a's with no b after it. */
const backtracking = fixture((j) =>
  j.pre_tokenizer.pretokenizers.unshift({ type: 'Split', pattern: { Regex: '(a+)+b' }, behavior: 'Isolated', invert: false }),
);

async function rejection(p: Promise<unknown>): Promise<ModelFormatError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ModelFormatError);
    return e as ModelFormatError;
  }
  throw new Error('expected a rejection');
}

describe('worker-backed tokenizer time limits', () => {
  it('stops a chat template that loops 10^8 times, naming the file and the limit, then serves the next call', async () => {
    const [json, config] = fixture((_, c) => (c.chat_template = LOOPING));
    await using(await loadTokenizerInWorker(json, config, { limits: { templateMs: 300 } }), async (tok) => {
      const t0 = performance.now();
      const err = await rejection(tok.applyChatTemplate([{ role: 'user', content: 'loop' }], { addGenerationPrompt: true }));
      expect(performance.now() - t0).toBeLessThan(10_000); // thread start (~1 s on a busy machine) + 300 ms
      expect(err.file).toBe('tokenizer_config.json');
      expect(err.message).toBe(
        'tokenizer_config.json: chat_template did not finish rendering within 300 ms (limit templateMs); the template may loop without end',
      );
      expect(await tok.applyChatTemplate([{ role: 'user', content: 'hi' }], { addGenerationPrompt: true })).toBe(
        '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n',
      );
    });
  });

  it('stops a pre-tokenizer regex that backtracks catastrophically, then encodes in a fresh thread', async () => {
    const [json, config] = backtracking;
    const text = `${'a'.repeat(40)}!`;
    await using(await loadTokenizerInWorker(json, config, { limits: { encodeMs: 300 } }), async (tok) => {
      const err = await rejection(tok.encode(text));
      expect(err.file).toBe('tokenizer.json');
      expect(err.message).toBe(
        'tokenizer.json: encoding 41 characters did not finish within 300 ms (limit encodeMs); a normalizer or pre_tokenizer regex may backtrack without end',
      );
      // Calls queued behind the stopped one run on the next thread, with their own time.
      const [hello, again] = await Promise.all([tok.encode('Hello world'), tok.encode('Hello world')]);
      expect(hello).toEqual(await loadTokenizer(json, config).encode('Hello world'));
      expect(again).toEqual(hello);
    });
  });

  it('stops a template that eats memory at the thread\'s heap cap, then serves the next call', async () => {
    const hog = "{%- set ns = namespace(s='') -%}{%- for i in range(100000000) -%}{%- set ns.s = ns.s + ('ab' * 50) + i|string -%}{%- endfor -%}{{ ns.s|length }}";
    const [json, config] = fixture((_, c) => (c.chat_template = hog));
    await using(await loadTokenizerInWorker(json, config, { workerMemoryMb: 256, limits: { templateMs: 60_000 } }), async (tok) => {
      const err = await rejection(tok.applyChatTemplate([{ role: 'user', content: 'x' }], { addGenerationPrompt: false }));
      expect(err.message).toBe(
        "tokenizer_config.json: rendering the chat_template ran out of memory (the tokenizer thread's limit is 256 MB, workerMemoryMb)",
      );
      expect(await tok.encode('Hello')).toEqual(await loadTokenizer(json, config).encode('Hello'));
    });
  });

  it('a disposed tokenizer refuses further calls', async () => {
    const [json, config] = fixture();
    const tok = await loadTokenizerInWorker(json, config);
    const ids = await tok.encode('Hello');
    expect(ids).toEqual(await loadTokenizer(json, config).encode('Hello'));
    await tok.dispose();
    await expect(tok.encode('Hello')).rejects.toThrow(/disposed/);
    expect(tok.decode(ids)).toBe('Hello'); // decode runs in the calling thread
  });
});

describe.each([
  ['in-process', async (json: unknown, config: unknown, limits: object) => loadTokenizer(json, config, { limits })],
  ['worker thread', (json: unknown, config: unknown, limits: object) => loadTokenizerInWorker(json, config, { limits })],
])('chat template output and errors (%s)', (_, load) => {
  it('caps the rendered length, naming the limit', async () => {
    const [json, config] = fixture((_j, c) => (c.chat_template = LONG));
    await using(await load(json, config, { templateChars: 20_000 }), async (tok) => {
      const err = await rejection(tok.applyChatTemplate([{ role: 'user', content: 'abc' }], { addGenerationPrompt: false }));
      expect(err.message).toBe('tokenizer_config.json: chat_template rendered 30000 characters, more than the limit of 20000 (templateChars)');
      expect(await tok.applyChatTemplate([{ role: 'user', content: 'a' }], { addGenerationPrompt: false })).toBe('a'.repeat(10_000));
    });
  });

  it('reports a template that raises as a tokenizer_config.json error', async () => {
    const [json, config] = fixture((_j, c) => (c.chat_template = "{{ raise_exception('Conversation roles must alternate') }}"));
    await using(await load(json, config, {}), async (tok) => {
      const err = await rejection(tok.applyChatTemplate([{ role: 'user', content: 'x' }], { addGenerationPrompt: true }));
      expect(err.message).toBe('tokenizer_config.json: chat_template failed while rendering: Conversation roles must alternate');
    });
  });

  it('has no template to apply when the config gives none', async () => {
    const [json, config] = fixture((_j, c) => delete c.chat_template);
    await using(await load(json, config, {}), async (tok) => {
      expect(tok.hasChatTemplate).toBe(false);
      await expect(tok.applyChatTemplate([{ role: 'user', content: 'x' }], { addGenerationPrompt: true })).rejects.toThrow(
        /^tokenizer_config\.json: has no chat_template/,
      );
    });
  });
});
