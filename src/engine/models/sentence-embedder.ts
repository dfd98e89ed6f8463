/**
 * Sentence embeddings from a separate embedding model through @huggingface/transformers'
 * feature-extraction pipeline (mean pooling over the tokens, unit length), for the PMD loop's
 * novelty gates, clustering and retrieval when the user provides such a model (the paper used
 * Qwen3-Embedding-0.6B). A local folder (Node) or a Hub repo id (downloaded and cached by
 * transformers.js) in the layout transformers.js loads: config.json, tokenizer files and
 * onnx/model.onnx. Without one, the loop embeds with the policy itself (engine/policy.ts).
 */
import { env, pipeline, type FeatureExtractionPipeline } from '@huggingface/transformers';

export interface SentenceEmbedder {
  /** The model as given (folder or repo id). */
  readonly name: string;
  embed(texts: string[]): Promise<number[][]>;
  dispose(): Promise<void>;
}

export interface SentenceEmbedderOptions {
  /** Hub repo id, or (with `localRoot`) the folder name under it. */
  model: string;
  /** A folder holding the model folder: models load from disk only, nothing is downloaded. */
  localRoot?: string;
  /** Where Hub ids are downloaded from (default the Hub; a local server in tests). */
  remoteHost?: string;
  /** Texts per pipeline call. */
  batch?: number;
}

export async function createSentenceEmbedder(o: SentenceEmbedderOptions): Promise<SentenceEmbedder> {
  if (o.localRoot !== undefined) {
    env.allowLocalModels = true;
    env.allowRemoteModels = false;
    env.localModelPath = o.localRoot.endsWith('/') ? o.localRoot : `${o.localRoot}/`;
  } else {
    env.allowRemoteModels = true;
    if (o.remoteHost) env.remoteHost = o.remoteHost.endsWith('/') ? o.remoteHost : `${o.remoteHost}/`;
  }
  let extractor: FeatureExtractionPipeline;
  try {
    extractor = (await pipeline('feature-extraction', o.model, { dtype: 'fp32' })) as FeatureExtractionPipeline;
  } catch (e) {
    throw new Error(`the sentence-embedding model ${o.model} could not be loaded: ${(e as Error).message}`);
  }
  const batch = o.batch ?? 16;
  return {
    name: o.model,
    async embed(texts: string[]) {
      const out: number[][] = [];
      for (let i = 0; i < texts.length; i += batch) {
        const chunk = texts.slice(i, i + batch).map((t) => t || ' ');
        const t = await extractor(chunk, { pooling: 'mean', normalize: true });
        out.push(...(t.tolist() as number[][]));
      }
      return out;
    },
    async dispose() {
      await extractor.dispose();
    },
  };
}
