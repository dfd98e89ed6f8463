/**
 * The graphs the trainer runs, built from the decoder graph (prefill, logits at every position,
 * no KV outputs) plus a loss from ./losses:
 *
 *  - buildTrainStepGraph: forward + loss + reverse-mode gradients (src/engine/onnx/autodiff)
 *    of every trainable tensor. One run of it is one micro-batch: outputs `loss` (already
 *    divided by the accumulated batch's `token_count`), per-token diagnostics and one
 *    `grad.<input name>` per trainable input. Micro-batch losses and gradients are summed.
 *  - buildTeacherScoringGraph: the teacher's forward (no gradient) and its log-probs at the
 *    student's top-k ids, its tail bucket, and its log-prob of the actual next token.
 *  - buildStudentTopkGraph: the student's forward (no gradient) and its top-k ids, for scoring
 *    the teacher before the training step (distillation with topkIds: 'input').
 *
 * Distillation step order: student top-k ids (buildStudentTopkGraph, or recorded while
 * generating) -> moved to the teacher's sequence layout (batching.ts studentToTeacher) ->
 * teacher scoring -> moved back (teacherToStudent) -> train step. The decoder's `logits` output is dropped from all three graphs so the
 * [B, S, V] tensor never leaves the device.
 */
import { buildGradientGraph, buildGradientGraphWithStats, type GradientStats } from '../autodiff/autodiff';
import { attr, type DType, type Graph } from '../onnx/graph';
import { buildDecoderGraph, type DecoderGraphSpec } from '../models/decoder-graph';
import type { LoraTarget, ModelConfig } from '../models/types';
import { appendLoss, appendTargetLogpOutput, appendTeacherScoring, appendTeacherScoringWith, appendTokenLoss, appendTopkIds, logitsHead, LOSS_OUTPUT, type LossSpec } from './losses';
import { allPositions, DEFAULT_VOCAB_CHUNK, hiddenGradient, lossTokens, VocabHead, vocabLossHead } from './vocab-head';

export type { LossSpec } from './losses';

/** How the train step and the scoring graphs form the LM head's output (see vocab-head.ts). */
export interface HeadOptions {
  /**
   * Vocabulary entries per chunk of the LM head (default DEFAULT_VOCAB_CHUNK); 0 materializes
   * the whole [B, S, V] logits and differentiates through them (the unchunked head). The train
   * step also restricts the chunked head to the loss tokens.
   */
  vocabChunk?: number;
}

export interface TrainStepOptions extends HeadOptions {
  loss: LossSpec;
  /** 'lora': the LoRA A/B factors of every targeted projection; 'full': every model weight. */
  trainable: 'lora' | 'full';
  /** Projections with LoRA inputs (required non-empty for 'lora'; frozen inputs with 'full'). */
  loraTargets: readonly LoraTarget[];
  /** Storage type of the weight inputs (see DecoderGraphOptions); 'full' requires float32. */
  weightDtype?: DType;
  /**
   * 'layers': recompute each decoder layer's activations in the backward pass instead of keeping
   * them (activation checkpointing: about one more forward pass of compute, and only the
   * residual stream kept between the passes). Default 'none'.
   */
  recompute?: 'none' | 'layers';
}
/** Names of a graph's inputs by role. */
export interface GraphInputs {
  /** Every graph input, in declaration order. */
  all: string[];
  /** input_ids [B, S] int64, rope_cos / rope_sin [B, S, hd/2], attention_bias [B, S, S]. */
  data: string[];
  /** Model weights (Hugging Face names). */
  weights: string[];
  /** lora_scale (scalar) and the `<module>.lora_A` / `.lora_B` inputs; empty without LoRA. */
  lora: string[];
  /** Inputs added by the loss / scoring head (see losses.ts LOSS_INPUT). */
  loss: string[];
}

export interface TrainStepGraph {
  graph: Graph;
  inputs: GraphInputs;
  /** All outputs in order: 'loss', the diagnostics, then the gradients. */
  outputs: string[];
  /** Per-token outputs for the UI ([B, S]; `topk_ids` is [B, S, k] int64). */
  diagnostics: string[];
  /** Trainable inputs, in the order of `gradients`. */
  trainable: string[];
  /** `grad.<name>` for each trainable input, same shape and dtype as the input. */
  gradients: string[];
  loraInputs: DecoderGraphSpec['loraInputs'];
  stats: GradientStats;
}

export interface ScoringGraph {
  graph: Graph;
  inputs: GraphInputs;
  outputs: string[];
  loraInputs: DecoderGraphSpec['loraInputs'];
}

export const gradientName = (input: string): string => `grad.${input}`;

const DATA_INPUTS = ['input_ids', 'rope_cos', 'rope_sin', 'attention_bias'];

function forwardGraph(cfg: ModelConfig, loraTargets: readonly LoraTarget[], weightDtype: DType | undefined, logits: 'all' | 'none' = 'all'): DecoderGraphSpec {
  const spec = buildDecoderGraph(cfg, { mode: 'prefill', logits, loraTargets, emitKv: false, weightDtype });
  if (logits === 'none') return spec;
  // Keep the logits on the device: they are consumed by the loss head only.
  const g = spec.graph;
  const at = g.outputs.findIndex((o) => o.name === 'logits');
  if (at < 0) throw new Error('decoder graph has no logits output');
  g.outputs.splice(at, 1);
  return spec;
}

function inputsOf(g: Graph, spec: DecoderGraphSpec, loss: string[]): GraphInputs {
  const lora = spec.loraInputs.length ? ['lora_scale', ...spec.loraInputs.flatMap((m) => [m.a, m.b])] : [];
  return { all: g.inputs.map((i) => i.name), data: [...DATA_INPUTS], weights: [...spec.weightNames], lora, loss };
}

const chunkOf = (o: HeadOptions): number => o.vocabChunk ?? DEFAULT_VOCAB_CHUNK;

/** The chunked head over every position's final hidden state (forward-only graphs). */
function positionsHead(cfg: ModelConfig, spec: DecoderGraphSpec, o: HeadOptions & { weightDtype?: DType }) {
  const g = spec.graph;
  const head = new VocabHead(g, { hidden: spec.normed, weight: spec.headWeight, vocab: cfg.vocabSize, chunk: chunkOf(o), storage: o.weightDtype ?? 'float32', expectation: false });
  return vocabLossHead(head, allPositions(g, g.op('Shape', [DATA_INPUTS[0]])));
}

/**
 * Forward + loss + gradients for one micro-batch. Inputs: the decoder's (see GraphInputs),
 * then the loss's (losses.ts `appendTokenLoss`). Outputs: `loss` (scalar), diagnostics
 * (`student_logp`; distill: `token_divergence` [+ `topk_ids` with topkIds 'graph'];
 * grpo: `token_ratio`), then `grad.<name>` for every trainable input.
 *
 * With the chunked head (the default whenever the head weight is not trained), the head runs on
 * the loss tokens only and is differentiated by hand (vocab-head.ts): autodiff gives the loss's
 * gradient with respect to the head's log-sum-exp and gathered logits, `hiddenGradient` turns
 * that into the gradient at the hidden states, and a second autodiff pass carries it through
 * the decoder. Per-token outputs are 0 away from the loss tokens.
 */
export function buildTrainStepGraph(cfg: ModelConfig, opts: TrainStepOptions): TrainStepGraph {
  if (opts.trainable === 'lora' && opts.loraTargets.length === 0) throw new Error("trainable 'lora' needs at least one LoRA target");
  if (opts.trainable === 'full' && (opts.weightDtype ?? 'float32') !== 'float32') {
    // fp16 storage has no room for small updates (no fp32 master copy here), and the CPU EP
    // has no fp16 ScatterND-add for the embedding gradient.
    throw new Error("trainable 'full' needs float32 weights (weightDtype 'float32')");
  }
  const chunked = chunkOf(opts) > 0 && opts.trainable === 'lora';
  const spec = forwardGraph(cfg, opts.loraTargets, opts.weightDtype, chunked ? 'none' : 'all');
  let g = spec.graph;
  let lossValue: string = LOSS_OUTPUT.loss;
  let seed: string | undefined;
  let loss;
  if (!chunked) loss = appendLoss(g, 'logits', opts.loss);
  else {
    let head: VocabHead | null = null;
    loss = appendTokenLoss(g, opts.loss, (mask) => {
      const layout = lossTokens(g, mask);
      const hidden = g.op('Gather', [spec.normed, layout.rows], { axis: attr.int(0) }); // [P, D]
      head = new VocabHead(g, { hidden, weight: spec.headWeight, vocab: cfg.vocabSize, chunk: chunkOf(opts), storage: opts.weightDtype ?? 'float32', expectation: true });
      // The student's own top-k ids (topkIds 'graph') are an output at every position.
      return vocabLossHead(head, layout, () => ({
        head: new VocabHead(g, { hidden: spec.normed, weight: spec.headWeight, vocab: cfg.vocabSize, chunk: chunkOf(opts), storage: opts.weightDtype ?? 'float32', expectation: false }),
        layout: allPositions(g, g.op('Shape', [mask])),
      }));
    });
    const h = head! as VocabHead;
    // d loss / d (lse, gathered logits): the small per-token part, by autodiff.
    const parts = [h.lse, ...h.gathered.map((x) => x.logits)];
    const headGrad = (v: string) => `head_grad.${v}`;
    g = buildGradientGraph(g, { loss: LOSS_OUTPUT.loss, wrt: parts, gradName: headGrad, equalDims: [['seq', 'total']] });
    g.outputs.splice(g.outputs.length - parts.length, parts.length);
    seed = hiddenGradient(g, h, headGrad(h.lse), h.gathered.map((x) => headGrad(x.logits)));
    // d loss / d hidden is `seed`; the second pass starts from the head's input with it.
    lossValue = h.hidden;
  }
  const trainable = opts.trainable === 'lora' ? spec.loraInputs.flatMap((m) => [m.a, m.b]) : [...spec.weightNames];
  const { graph, stats } = buildGradientGraphWithStats(g, {
    loss: lossValue,
    seed,
    wrt: trainable,
    gradName: gradientName,
    // Prefill without past KV: the attention mask's key axis equals the query axis, which makes
    // every broadcast reduction of the backward pass static.
    equalDims: [['seq', 'total']],
    // Each layer's backward pass completes before the next one's (and may be recomputed).
    spans: spec.layerSpans,
    recompute: opts.recompute === 'layers',
  });
  const gradients = trainable.map(gradientName);
  return {
    graph,
    inputs: inputsOf(graph, spec, loss.inputs),
    outputs: [...loss.outputs, ...gradients],
    diagnostics: loss.diagnostics,
    trainable,
    gradients,
    loraInputs: spec.loraInputs,
    stats,
  };
}

/**
 * Teacher pass of self-distillation, without gradient: decoder forward (with the teacher's
 * LoRA inputs when loraTargets is non-empty) + inputs `topk_ids [B, S, k]` int64 (the student's
 * ids, moved to the teacher's layout) and `targets [B, S]` int64; outputs
 * `teacher_topk_logp [B, S, k]`, `teacher_tail_logp [B, S]`, `teacher_logp_token [B, S]`.
 */
export function buildTeacherScoringGraph(cfg: ModelConfig, opts: HeadOptions & { topk: number; loraTargets: readonly LoraTarget[]; weightDtype?: DType; tailEps?: number }): ScoringGraph {
  const chunked = chunkOf(opts) > 0;
  const spec = forwardGraph(cfg, opts.loraTargets, opts.weightDtype, chunked ? 'none' : 'all');
  const g = spec.graph;
  const head = chunked ? appendTeacherScoringWith(g, positionsHead(cfg, spec, opts), opts.topk, opts.tailEps) : appendTeacherScoring(g, 'logits', opts.topk, opts.tailEps);
  return { graph: g, inputs: inputsOf(g, spec, head.inputs), outputs: head.outputs, loraInputs: spec.loraInputs };
}

/** Student forward without gradient, output `topk_ids [B, S, k]` int64 (largest logit first). */
export function buildStudentTopkGraph(cfg: ModelConfig, opts: HeadOptions & { topk: number; loraTargets: readonly LoraTarget[]; weightDtype?: DType }): ScoringGraph {
  const chunked = chunkOf(opts) > 0;
  const spec = forwardGraph(cfg, opts.loraTargets, opts.weightDtype, chunked ? 'none' : 'all');
  const g = spec.graph;
  if (chunked) {
    g.op('Identity', [positionsHead(cfg, spec, opts).topk(opts.topk).everywhere], {}, LOSS_OUTPUT.topkIds);
  } else appendTopkIds(g, 'logits', opts.topk, LOSS_OUTPUT.topkIds);
  g.output(LOSS_OUTPUT.topkIds, 'int64', ['batch', 'seq', opts.topk]);
  return { graph: g, inputs: inputsOf(g, spec, []), outputs: [LOSS_OUTPUT.topkIds], loraInputs: spec.loraInputs };
}

/**
 * Student forward pass without gradient returning only `target_logp` [B, S], the log-prob of
 * each target (GRPO's on-policy old_logp). No [B, S, V] tensor leaves the graph.
 */
export function buildTargetLogpGraph(cfg: ModelConfig, opts: HeadOptions & { loraTargets: readonly LoraTarget[]; weightDtype?: DType }): Graph {
  const chunked = chunkOf(opts) > 0;
  const spec = forwardGraph(cfg, opts.loraTargets, opts.weightDtype, chunked ? 'none' : 'all');
  const g = spec.graph;
  appendTargetLogpOutput(g, chunked ? positionsHead(cfg, spec, opts) : logitsHead(g, 'logits'), 'target_logp');
  return g;
}
