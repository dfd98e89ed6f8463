/**
 * `pmd-lab sft` on the tiny model: memorising four prompt/response pairs.
 *
 * The tiny model has hidden size 128 here. At the default 64 the loss stalls near 0.07 for a
 * reason unrelated to training: LoRA does not touch the LM head or the final norm, and with
 * RMS-normalised hidden states of norm sqrt(64) = 8 against random head rows of norm
 * ~0.15 * 8, no logit can exceed ~10, which caps how peaked a 384-way softmax can get.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeTinyCheckpoint } from '../../scripts/tiny-model';
import { loadCheckpoint, type LoadedCheckpoint } from '../../src/engine/models/checkpoint';
import { NodeFolderSource } from '../../src/engine/models/node-source';
import { importPeftAdapter } from '../../src/engine/lora/peft';
import { loadTokenizer } from '../../src/engine/models/tokenizer';
import { ModelRunner } from '../../src/engine/runtime/model-runner';
import { nodeCpuBackend } from '../../src/engine/runtime/node-backend';
import { generate } from '../../src/engine/runtime/generate';
import { Args } from '../../src/cli/args';
import * as sft from '../../src/cli/commands/sft';
import { parseSftJsonl, sftSample } from '../../src/engine/train/sft-data';
import type { TextTokenizer } from '../../src/engine/models/tokenizer';
import { refCeLoss } from '../reference/losses';

const PAIRS = [
  { prompt: 'What is the capital of France?', response: 'Paris.' },
  { prompt: 'Say hello.', response: 'Hello there!' },
  { prompt: 'Count to three.', response: '1, 2, 3' },
  { prompt: 'Name a color.', response: 'Blue, like the sea.' },
];
const STEPS = 40;
const LR = 5e-3;
const THRESHOLD = 0.05;

let dir: string;
let modelDir: string;
let ckpt: LoadedCheckpoint;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pmd-sft-'));
  modelDir = path.join(dir, 'model');
  await writeTinyCheckpoint(modelDir, { family: 'qwen3', seed: 2, hiddenSize: 128 });
  ckpt = await loadCheckpoint(new NodeFolderSource(modelDir));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function tokenizer(withTemplate = true): TextTokenizer {
  const cfg = { ...(ckpt.tokenizerConfig as Record<string, unknown>) };
  if (!withTemplate) delete cfg.chat_template;
  return loadTokenizer(ckpt.tokenizerJson, cfg, { vocabSize: ckpt.config.vocabSize });
}

describe('pmd-lab sft', () => {
  it(`memorises 4 pairs: response loss < ${THRESHOLD} after ${STEPS} steps at lr ${LR}, and greedy decoding reproduces them`, async () => {
    const data = path.join(dir, 'data.jsonl');
    await writeFile(data, PAIRS.map((p) => JSON.stringify(p)).join('\n') + '\n');
    const out = path.join(dir, 'adapter');
    await sft.run(new Args(['--model', modelDir, '--data', data, '--out', out, '--steps', String(STEPS), '--lr', String(LR), '--no-progress'], ['no-progress']));

    const config = JSON.parse(await readFile(path.join(out, 'adapter_config.json'), 'utf8'));
    expect(config.r).toBe(8);
    expect(config.lora_alpha).toBe(16);
    expect([...config.target_modules].sort()).toEqual(['down_proj', 'gate_proj', 'k_proj', 'o_proj', 'q_proj', 'up_proj', 'v_proj']);
    const adapter = await importPeftAdapter(new NodeFolderSource(out), ckpt.config);

    // Loss measured independently: float64 reference forward with the written adapter.
    const tok = tokenizer();
    const samples = await Promise.all(PAIRS.map((p) => sftSample(tok, p)));
    const before = refCeLoss(ckpt.config, ckpt.weights, samples, null);
    const after = refCeLoss(ckpt.config, ckpt.weights, samples, adapter);
    console.log(`sft: response cross-entropy ${before.toFixed(4)} -> ${after.toFixed(5)} after ${STEPS} steps (lr ${LR}, r 8, 7 targets)`);
    expect(after).toBeLessThan(THRESHOLD);

    const runner = new ModelRunner(ckpt.config, nodeCpuBackend());
    await runner.loadWeights(ckpt.weights);
    runner.setAdapter(adapter);
    const prompts = samples.map((s) => s.ids.slice(0, s.response_start));
    const res = await generate(runner, prompts, {
      maxNewTokens: 20,
      temperature: 0,
      topP: 1,
      topK: 0,
      seed: 0,
      stopAtEos: true,
      eosTokenIds: ckpt.config.eosTokenIds,
      padTokenId: ckpt.config.padTokenId ?? 0,
    });
    expect(res.tokens.map((t) => tok.decode(t, { skipSpecialTokens: true }))).toEqual(PAIRS.map((p) => p.response));
    await runner.release();
  });

  it('templated examples: the response is everything the assistant turn adds; without a template prompt + response', async () => {
    const tok = tokenizer();
    const s = await sftSample(tok, PAIRS[0]);
    expect(s.templated).toBe(true);
    expect(tok.decode(s.ids.slice(s.response_start))).toBe('Paris.<|im_end|>\n');
    expect(tok.decode(s.ids.slice(0, s.response_start))).toBe('<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n');
    const plain = tokenizer(false);
    const p = await sftSample(plain, PAIRS[1]);
    expect(p.templated).toBe(false);
    expect(p.ids).toEqual([...(await plain.encode('Say hello.')), ...(await plain.encode('Hello there!', { addSpecialTokens: false }))]);
    expect(p.response_start).toBe((await plain.encode('Say hello.')).length);
  });

  it('JSONL errors name the line; bad options are usage errors', async () => {
    expect(() => parseSftJsonl('{"prompt":"a","response":"b"}\n\n{"prompt":"a"}\n', 'd.jsonl')).toThrow(/d\.jsonl line 3: "response" must be a string/);
    expect(() => parseSftJsonl('{"prompt":"a","response":"b"}\nnot json\n', 'd.jsonl')).toThrow(/d\.jsonl line 2: not valid JSON/);
    expect(() => parseSftJsonl('[1]\n', 'd.jsonl')).toThrow(/d\.jsonl line 1: must be an object/);
    expect(() => parseSftJsonl('{"prompt":"a","response":""}', 'd.jsonl')).toThrow(/line 1: "response" is empty/);
    expect(() => parseSftJsonl('\n\n', 'd.jsonl')).toThrow(/d\.jsonl: no examples/);
    const data = path.join(dir, 'bad.jsonl');
    await writeFile(data, '{"prompt": "x", "response": 3}\n');
    await expect(sft.run(new Args(['--model', modelDir, '--data', data, '--out', path.join(dir, 'x')]))).rejects.toThrow(/bad\.jsonl line 1: "response" must be a string/);
    await expect(sft.run(new Args(['--model', modelDir, '--data', data, '--out', path.join(dir, 'x'), '--rank', '0']))).rejects.toThrow(/--rank must be a whole number >= 1/);
    await expect(sft.run(new Args(['--model', modelDir, '--data', data, '--out', path.join(dir, 'x'), '--targets', 'q_proj,foo']))).rejects.toThrow(/unknown target module "foo"/);
    await expect(sft.run(new Args(['--model', modelDir, '--data', data, '--out', path.join(dir, 'x'), '--stepz', '3']))).rejects.toThrow(/unknown option: --stepz/);
  });
});
