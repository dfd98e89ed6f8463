/**
 * The offline default embedder the loop uses for retrieval: the policy's own final hidden
 * state (after the last norm), mean-pooled over the text's tokens and normalised to unit
 * length. The decoder graph's `hidden` output (`emitHidden`) gives the states; the runner's
 * uploaded weights (and, optionally, a LoRA adapter) are shared.
 */
import { buildDecoderGraph } from '../../src/engine/models/decoder-graph';
import type { LoraAdapter } from '../../src/engine/models/types';
import { leftPadBatch } from '../../src/engine/runtime/batch';
import { DecoderFeeds } from '../../src/engine/runtime/decoder-session';
import { GraphSessions, pickFeeds } from '../../src/engine/runtime/graph-session';
import type { ModelRunner } from '../../src/engine/runtime/model-runner';
import type { TextTokenizer } from '../../src/engine/models/tokenizer';
import { padTokenIdOf } from '../../src/engine/models/types';

export class HiddenStateEmbedder {
  private readonly sessions: GraphSessions;
  private readonly feeds: DecoderFeeds;

  constructor(private readonly runner: ModelRunner, private readonly tok: TextTokenizer, private readonly batchSize = 64) {
    this.sessions = new GraphSessions(runner.backend);
    this.feeds = new DecoderFeeds(runner.cfg, runner.backend.ort.Tensor);
  }

  async embed(texts: readonly string[], adapter: LoraAdapter | null = null): Promise<number[][]> {
    const cfg = this.runner.cfg;
    const D = cfg.hiddenSize;
    const lora = adapter ? this.feeds.adapter(adapter) : null;
    const { session, graph } = await this.sessions.get(`hidden|${lora?.targets.join(',') ?? ''}`, () =>
      buildDecoderGraph(cfg, { mode: 'prefill', logits: 'none', loraTargets: lora?.targets ?? [], emitKv: false, emitHidden: true }).graph,
    );
    const out: number[][] = [];
    for (let i = 0; i < texts.length; i += this.batchSize) {
      const ids = await Promise.all(texts.slice(i, i + this.batchSize).map((t) => this.tok.encode(t, { addSpecialTokens: false })));
      const rows = leftPadBatch(ids, padTokenIdOf(cfg));
      const res = await session.run(pickFeeds(graph, { ...this.feeds.rows(rows), ...this.runner.weightFeeds(), ...(lora?.feeds ?? {}) }, 'embedder'));
      const h = (await res.hidden.getData()) as Float32Array;
      for (let b = 0; b < rows.batch; b++) {
        const v = new Array<number>(D).fill(0);
        for (let j = rows.pad[b]; j < rows.seq; j++) for (let d = 0; d < D; d++) v[d] += h[(b * rows.seq + j) * D + d];
        const norm = Math.sqrt(v.reduce((a, x) => a + x * x, 0)) || 1;
        out.push(v.map((x) => x / norm));
      }
    }
    return out;
  }

  release(): Promise<void> {
    return this.sessions.release();
  }
}

export function cosine(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Indices of the k rows most similar to `q` (unit vectors), most similar first. */
export function topK(q: readonly number[], rows: readonly (readonly number[])[], k: number): number[] {
  return rows
    .map((r, i) => [cosine(q, r), i] as const)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, k)
    .map(([, i]) => i);
}
