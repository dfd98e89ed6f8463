/**
 * Pretraining the world model from scratch with the engine's own training graphs: full
 * fine-tuning (`fullState`) with cross-entropy on the response tokens, on onnxruntime-node's
 * CPU backend. Rows are drawn from the corpus stream as training goes (no row is used twice
 * on purpose); each step's batch holds one kind of row (plain or memory), and a pool of
 * batches is sorted by length first so little of a batch is padding.
 *
 * Training follows stages, each a fresh AdamW at its own rate (with a warm-up) and its own
 * share of memory rows; a stage boundary restarts the optimizer moments. The default build
 * starts with plain rows only (short and cheap: the taught procedures and chaining), then
 * mixes in memory rows (long: reading memory), then anneals at a lower rate.
 */
import type { TextTokenizer } from '../../src/engine/models/tokenizer';
import type { ModelConfig, WeightMap } from '../../src/engine/models/types';
import { padTokenIdOf } from '../../src/engine/models/types';
import type { EngineBackend } from '../../src/engine/runtime/ort-types';
import type { TrainSample } from '../../src/engine/train/batching';
import { fullState } from '../../src/engine/train/lora-state';
import { sftSample } from '../../src/engine/train/sft-data';
import { Trainer } from '../../src/engine/train/trainer';
import { corpusRow, type CorpusContext, type CorpusOptions, type CorpusRow } from '../../src/pmd/world/corpus';
import { hashSeed, Prng } from '../../src/util/prng';

export interface PretrainStage {
  steps: number;
  lr: number;
  warmup: number;
  /** Share of steps whose batch is memory rows (the rest are plain rows). */
  memoryShare: number;
  /** Corpus settings of this stage (over the build's). */
  corpus?: Partial<CorpusOptions>;
}

export interface PretrainSettings {
  stages: PretrainStage[];
  /** Rows per step for plain and for memory rows. */
  batch: Record<CorpusRow['kind'], number>;
  /** Batches generated, sorted by length and split at once. */
  poolBatches: number;
  weightDecay: number;
  seed: number;
}

export interface PretrainLog {
  stage: number;
  step: number;
  kind: CorpusRow['kind'];
  loss: number;
  tokens: number;
  ms: number;
}

export interface PretrainResult {
  weights: WeightMap;
  log: PretrainLog[];
  ms: number;
}

/** Batches of one kind: poolBatches x batch rows, sorted by token length, split in order, then shuffled. */
async function batchPool(ctx: CorpusContext, tok: TextTokenizer, rng: Prng, kind: CorpusRow['kind'], s: PretrainSettings): Promise<TrainSample[][]> {
  const n = s.batch[kind];
  const rows: TrainSample[] = [];
  for (let i = 0; i < n * s.poolBatches; i++) {
    const r = corpusRow(ctx, rng, kind);
    const t = await sftSample(tok, r);
    rows.push({ ids: t.ids, response_start: t.response_start });
  }
  rows.sort((a, b) => a.ids.length - b.ids.length);
  const out: TrainSample[][] = [];
  for (let i = 0; i < rows.length; i += n) out.push(rows.slice(i, i + n));
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export async function pretrain(o: {
  backend: EngineBackend;
  config: ModelConfig;
  weights: WeightMap;
  tok: TextTokenizer;
  ctx: CorpusContext;
  settings: PretrainSettings;
  onStep?: (l: PretrainLog) => void;
}): Promise<PretrainResult> {
  const s = o.settings;
  const rng = new Prng(hashSeed(s.seed, 'pretrain'));
  const pools: Record<CorpusRow['kind'], TrainSample[][]> = { plain: [], memory: [] };
  const log: PretrainLog[] = [];
  let weights = o.weights;
  let step = 0;
  const t0 = performance.now();
  for (const [stageIndex, stage] of s.stages.entries()) {
    const trainer = await Trainer.create({
      backend: o.backend,
      config: o.config,
      weights,
      state: fullState(o.config, weights),
      padId: padTokenIdOf(o.config),
      teacher: 'student',
      optimizer: { lr: stage.lr, warmupSteps: stage.warmup, weightDecay: s.weightDecay, maxGradNorm: 1 },
    });
    const ctx: CorpusContext = { ...o.ctx, options: { ...o.ctx.options, ...stage.corpus } };
    pools.memory = []; // rows of the previous stage's corpus settings
    for (let i = 0; i < stage.steps; i++) {
      const kind: CorpusRow['kind'] = rng.next() < stage.memoryShare ? 'memory' : 'plain';
      if (pools[kind].length === 0) pools[kind] = await batchPool(ctx, o.tok, rng, kind, s);
      const batch = pools[kind].pop()!;
      const ts = performance.now();
      const r = await trainer.step(batch, { kind: 'ce' });
      const entry = { stage: stageIndex, step: ++step, kind, loss: r.loss, tokens: r.tokenCount, ms: performance.now() - ts };
      log.push(entry);
      o.onStep?.(entry);
    }
    await trainer.syncState();
    weights = trainer.state.tensors;
    await trainer.release();
  }
  return { weights, log, ms: performance.now() - t0 };
}
