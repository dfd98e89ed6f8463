/** Malformed tokenizer files are refused at load, naming the file and the field. */
import { describe, expect, it } from 'vitest';
import { makeTinyTokenizer } from '../../../scripts/tiny-model';
import { type Json, tokenizerFiles as files } from '../../support/tokenizer-files';
import { loadTokenizer } from '../../../src/engine/models/tokenizer';
import { ModelFormatError } from '../../../src/engine/models/types';

function expectRefused([json, config]: [Json, Json], file: string, pattern: RegExp): void {
  let err: unknown = null;
  try {
    loadTokenizer(json, config);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ModelFormatError);
  expect((err as ModelFormatError).file).toBe(file);
  expect((err as Error).message.startsWith(`${file}: `)).toBe(true);
  expect((err as Error).message).toMatch(pattern);
}

const J = 'tokenizer.json';
const C = 'tokenizer_config.json';

describe('tokenizer.json', () => {
  it('a vocab that is a list (it used to load and encode everything to nothing)', () => {
    expectRefused(files((j) => (j.model.vocab = [1, 2])), J, /model\.vocab must be an object mapping token strings to ids for a BPE model, got \[1,2\]/);
  });
  it('bad vocab entries, an empty vocab, an unsupported model type', () => {
    expectRefused(files((j) => (j.model.vocab.a = -1)), J, /model\.vocab\["a"\] must be a non-negative integer id, got -1/);
    expectRefused(files((j) => (j.model.vocab.a = '3')), J, /model\.vocab\["a"\] must be a non-negative integer id, got "3"/);
    expectRefused(files((j) => ((j.model.vocab = {}), (j.model.merges = []))), J, /model\.vocab is empty/);
    expectRefused(files((j) => (j.model.type = 'WordLevel')), J, /model\.type "WordLevel" is not supported; expected one of BPE, WordPiece, Unigram/);
    expectRefused(files((j) => delete j.model.type), J, /model\.type undefined is not supported/);
    expectRefused(files((j) => ((j.model.type = 'Unigram'), (j.model.vocab = [['a', 'x']]))), J, /model\.vocab\[0\] must be a \[piece, score\] pair/);
  });
  it('merges that are not strings or pairs (they used to fail with "x.split is not a function")', () => {
    expectRefused(files((j) => (j.model.merges = [1, 2])), J, /model\.merges\[0\] must be a "left right" string .*, got 1/);
    expectRefused(files((j) => (j.model.merges = [[1, 2]])), J, /model\.merges\[0\] must be a \[left, right\] pair of strings/);
    expectRefused(files((j) => (j.model.merges = ['Ġ t', ['a', 'b']])), J, /model\.merges\[1\] must be a "left right" string/);
    expectRefused(files((j) => (j.model.merges = ['a b c'])), J, /model\.merges\[0\] must be a "left right" string .*, got "a b c"/);
    expectRefused(files((j) => (j.model.merges = 'a b')), J, /model\.merges must be a list, got "a b"/);
  });
  it('merges whose tokens are not in the vocab', () => {
    expectRefused(files((j) => j.model.merges.push(['zz', 'q'])), J, /model\.merges\[64\] \["zz","q"\]: "zz" is not in model\.vocab/);
    expectRefused(files((j) => j.model.merges.push(['q', 'z'])), J, /model\.merges\[64\] \["q","z"\]: "qz" is not in model\.vocab/);
  });
  it('added tokens and patterns', () => {
    expectRefused(files((j) => (j.added_tokens[1].id = 'x')), J, /added_tokens\[1\] must be \{"id": <non-negative integer>/);
    expectRefused(files((j) => (j.pre_tokenizer.pretokenizers[0].pattern = { Regex: 5 })), J, /pre_tokenizer\.pretokenizers\[0\]\.pattern must be \{"Regex": <string>\}/);
  });
});

describe('tokenizer_config.json', () => {
  it('a chat template that does not parse (it used to be a bare SyntaxError at first use)', () => {
    expectRefused(files((_, c) => (c.chat_template = '{% for m in %}{{ m }}{% endfor %}')), C, /^tokenizer_config\.json: chat_template does not parse as a Jinja template: /);
    expectRefused(files((_, c) => (c.chat_template = 42)), C, /chat_template must be a string, got 42/);
  });
  it('named chat templates need a parsing "default"', () => {
    const ok = files((_, c) => (c.chat_template = [{ name: 'default', template: c.chat_template }, { name: 'tool_use', template: '{{ 1 }}' }]));
    expect(loadTokenizer(ok[0], ok[1]).hasChatTemplate).toBe(true);
    expectRefused(files((_, c) => (c.chat_template = [{ name: 'tool_use', template: '{{ 1 }}' }])), C, /chat_template lists \["tool_use"\] but none is named "default"/);
    expectRefused(files((_, c) => (c.chat_template = [{ name: 'default', template: '{% if %}' }])), C, /chat_template "default" does not parse/);
    expectRefused(files((_, c) => (c.chat_template = [{ template: 'x' }])), C, /chat_template\[0\] must be \{"name": <string>, "template": <string>\}/);
  });
  it('special tokens: the right type, and an eos_token the tokenizer knows', () => {
    expectRefused(files((_, c) => (c.eos_token = 5)), C, /eos_token must be a string or \{"content": <string>\}, got 5/);
    expectRefused(files((_, c) => (c.eos_token = '<|nope|>')), C, /eos_token "<\|nope\|>" is not a token of tokenizer\.json .* generation could never stop on it/);
    const obj = files((_, c) => (c.eos_token = { content: '<|im_end|>', special: true }));
    expect(loadTokenizer(obj[0], obj[1]).eosTokenId).toBe(makeTinyTokenizer().ids.imEnd);
  });
  it('limits must be positive numbers', () => {
    const [j, c] = files(() => {});
    expect(() => loadTokenizer(j, c, { limits: { templateMs: 0 } })).toThrow(/tokenizer limit templateMs must be a positive number, got 0/);
  });
});
