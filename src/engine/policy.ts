/**
 * The Policy: everything the PMD loop asks of a model, in one interface, so the loop (src/pmd)
 * never touches sessions, tensors or tokenizers. One implementation serves the CLI
 * (onnxruntime-node) and the browser worker (onnxruntime-web): a ModelRunner for generation and
 * embeddings, a Trainer (LoRA student, EMA teacher, AdamW) sharing its uploaded weights, and the
 * model's tokenizer.
 */
import { exportPeftAdapter } from './lora/peft';
import type { TextTokenizer } from './models/tokenizer';
import { padTokenIdOf, type LoraAdapter, type ModelConfig } from './models/types';
import { leftPadBatch } from './runtime/batch';
import { stopTokenIds, userPromptIds } from './runtime/chat';
import { generate, type GenerateResult } from './runtime/generate';
import type { ModelRunner } from './runtime/model-runner';
import type { TrainSample } from './train/batching';
import { decodeTrainerSnapshot, encodeTrainerSnapshot } from './train/checkpoint';
import type { TrainConfig } from './train/config';
import type { LossSpec } from './train/losses';
import { createTrainer } from './train/sft';
import type { StepResult, Trainer, TrainProgress } from './train/trainer';

/** adapter_config.json (text) and adapter_model.safetensors (bytes), as PEFT writes them. */
export type PeftFiles = ReturnType<typeof exportPeftAdapter>;

export interface PolicyInfo {
  label: string;
  family: string;
  vocabSize: number;
  maxPositions: number;
  hiddenSize: number;
  hasChatTemplate: boolean;
}

export interface PolicyGenerateOptions {
  maxNewTokens: number;
  temperature: number;
  topP: number;
  topK: number;
  seed: number;
  /** One seed per prompt (each row its own random stream; see generate()). */
  seeds?: readonly number[];
  /** Which weights generate: the current student adapter, or the base model. */
  adapter: 'student' | 'none';
  shouldStop?: () => boolean;
  onToken?: (step: number) => void;
}

export interface Policy {
  readonly info: PolicyInfo;
  /** Prompt ids of a user message (the chat template when the tokenizer has one). */
  promptIds(userText: string): Promise<number[]>;
  /** Generated ids as text, without special tokens or the end-of-turn token. */
  decode(ids: readonly number[]): string;
  generate(prompts: number[][], o: PolicyGenerateOptions): Promise<GenerateResult>;
  /** One optimizer step of the student (and the EMA teacher update). */
  trainStep(samples: TrainSample[], loss: LossSpec, onProgress?: (p: TrainProgress) => void): Promise<StepResult>;
  /** Unit-length mean-pooled final hidden states of the base model, one per text. */
  embed(texts: readonly string[]): Promise<Float32Array[]>;
  exportAdapter(which: 'student' | 'teacher', baseModel?: string | null): Promise<PeftFiles>;
  /** The trainer's whole state as bytes (checkpoint.ts), and back. */
  snapshot(): Promise<Uint8Array>;
  restore(bytes: Uint8Array): Promise<void>;
  /** Optimizer steps taken. */
  readonly steps: number;
  release(): Promise<void>;
}

export interface EnginePolicyOptions {
  runner: ModelRunner;
  tokenizer: TextTokenizer;
  label: string;
  train: TrainConfig;
  /** Start the student (and EMA teacher) from this adapter instead of a fresh seeded one. */
  adapter?: LoraAdapter;
  /** Tokens per text fed to the embedder (longer texts are cut). */
  embedTokens?: number;
  /** Texts per embedding forward pass. */
  embedBatch?: number;
}

/** Mean over the real (unpadded) positions of [B, S, D] hidden states, scaled to unit length. */
export function meanPool(hidden: Float32Array, batch: number, seq: number, dim: number, pad: readonly number[]): Float32Array[] {
  const out: Float32Array[] = [];
  for (let b = 0; b < batch; b++) {
    const v = new Float32Array(dim);
    const n = seq - pad[b];
    for (let s = pad[b]; s < seq; s++) {
      const off = (b * seq + s) * dim;
      for (let d = 0; d < dim; d++) v[d] += hidden[off + d] / n;
    }
    let norm = 0;
    for (let d = 0; d < dim; d++) norm += v[d] * v[d];
    norm = Math.sqrt(norm) || 1;
    for (let d = 0; d < dim; d++) v[d] /= norm;
    out.push(v);
  }
  return out;
}

class EnginePolicy implements Policy {
  readonly info: PolicyInfo;
  private studentShown = false;
  private stale = true;
  private readonly eos: number[];
  private readonly padId: number;

  constructor(private readonly runner: ModelRunner, private readonly trainer: Trainer, private readonly tok: TextTokenizer, label: string, private readonly embedTokens: number, private readonly embedBatch: number) {
    const c: ModelConfig = runner.cfg;
    this.info = { label, family: c.family, vocabSize: c.vocabSize, maxPositions: c.maxPositionEmbeddings, hiddenSize: c.hiddenSize, hasChatTemplate: tok.hasChatTemplate };
    this.eos = stopTokenIds(c.eosTokenIds, tok);
    this.padId = padTokenIdOf(c);
  }

  get steps(): number {
    return this.trainer.stepCount;
  }

  promptIds(userText: string): Promise<number[]> {
    return userPromptIds(this.tok, userText);
  }

  decode(ids: readonly number[]): string {
    const eos = new Set(this.eos);
    return this.tok.decode(ids.filter((t) => !eos.has(t)), { skipSpecialTokens: true });
  }

  private async useAdapter(which: 'student' | 'none'): Promise<void> {
    if (which === 'none') {
      this.runner.setAdapter(null);
      this.studentShown = false;
      return;
    }
    if (!this.studentShown || this.stale) {
      this.runner.setAdapter(await this.trainer.exportAdapter(null));
      this.studentShown = true;
      this.stale = false;
    }
  }

  async generate(prompts: number[][], o: PolicyGenerateOptions): Promise<GenerateResult> {
    await this.useAdapter(o.adapter);
    return generate(this.runner, prompts, {
      maxNewTokens: o.maxNewTokens,
      temperature: o.temperature,
      topP: o.topP,
      topK: o.topK,
      seed: o.seed,
      seeds: o.seeds,
      stopAtEos: true,
      eosTokenIds: this.eos,
      padTokenId: this.padId,
      shouldStop: o.shouldStop,
      onToken: o.onToken ? (e) => o.onToken!(e.step) : undefined,
    });
  }

  async trainStep(samples: TrainSample[], loss: LossSpec, onProgress?: (p: TrainProgress) => void): Promise<StepResult> {
    this.progressSink = onProgress ?? null;
    try {
      const r = await this.trainer.step(samples, loss);
      this.stale = true;
      return r;
    } finally {
      this.progressSink = null;
    }
  }

  /** Set by trainStep for the trainer's fixed progress callback. */
  progressSink: ((p: TrainProgress) => void) | null = null;

  async embed(texts: readonly string[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += this.embedBatch) {
      const chunk = texts.slice(i, i + this.embedBatch);
      const ids: number[][] = [];
      for (const t of chunk) {
        const e = (await this.tok.encode(t.trim() || ' ', { addSpecialTokens: false })).slice(0, this.embedTokens);
        ids.push(e.length ? e : [this.padId]);
      }
      const rows = leftPadBatch(ids, this.padId);
      const hidden = await this.runner.hidden(rows, false);
      out.push(...meanPool(hidden, rows.batch, rows.seq, this.info.hiddenSize, rows.pad));
    }
    return out;
  }

  async exportAdapter(which: 'student' | 'teacher', baseModel: string | null = this.info.label): Promise<PeftFiles> {
    const a: LoraAdapter = which === 'teacher' ? await this.trainer.exportTeacherAdapter(baseModel) : await this.trainer.exportAdapter(baseModel);
    return exportPeftAdapter(a, baseModel);
  }

  async snapshot(): Promise<Uint8Array> {
    return encodeTrainerSnapshot(await this.trainer.snapshot());
  }

  async restore(bytes: Uint8Array): Promise<void> {
    await this.trainer.restore(decodeTrainerSnapshot(bytes));
    this.stale = true;
  }

  async release(): Promise<void> {
    this.runner.setAdapter(null);
    await this.trainer.release();
  }
}

/** A Policy over a runner that already holds the model's weights (the trainer shares them). */
export async function createPolicy(o: EnginePolicyOptions): Promise<Policy> {
  const cfg = o.runner.cfg;
  let sink: EnginePolicy | null = null;
  const trainer = await createTrainer(
    { backend: o.runner.backend, config: cfg, weights: o.runner.weightFeeds(), padId: padTokenIdOf(cfg), onProgress: (p) => sink?.progressSink?.(p) },
    o.train,
    o.adapter,
  );
  sink = new EnginePolicy(o.runner, trainer, o.tokenizer, o.label, o.embedTokens ?? 256, o.embedBatch ?? 16);
  return sink;
}
