/**
 * Sessions for the engine's graphs, created one way for every caller (decoder passes, training
 * steps, the optimizer and EMA graphs): serialize, then create with the backend's options and,
 * on WebGPU, an output placement that keeps chosen outputs in GPU buffers. `GraphSessions`
 * caches sessions by key so each graph variant compiles once; `pickFeeds` feeds a graph exactly
 * the inputs it declares, naming any that is missing.
 */
import type { Graph } from '../onnx/graph';
import { serializeGraph } from '../onnx/serialize';
import { inferValueInfo } from '../autodiff/value-info';
import type { EngineBackend, OrtSession, OrtTensor, SessionOptions } from './ort-types';

export type TensorMap = Record<string, OrtTensor>;

/** Which outputs stay on the device (WebGPU only; the rest come back to the host). */
export type OutputPlacement = (output: string) => boolean;

/** A graph with options of its own for its session (e.g. the external data of baked weights). */
export interface GraphBuild {
  graph: Graph;
  sessionOptions: SessionOptions;
}

export function createGraphSession(backend: EngineBackend, graph: Graph, onDevice: OutputPlacement = () => false, extra: SessionOptions = {}): Promise<OrtSession> {
  const opts = { ...backend.sessionOptions, ...extra };
  if (backend.name === 'webgpu') {
    const loc: Record<string, 'gpu-buffer' | 'cpu'> = {};
    for (const o of graph.outputs) loc[o.name] = onDevice(o.name) ? 'gpu-buffer' : 'cpu';
    opts.preferredOutputLocation = loc;
  }
  const valueInfo = graph.valueInfo.length ? graph.valueInfo : inferValueInfo(graph);
  return backend.ort.InferenceSession.create(serializeGraph(graph, { valueInfo }), opts);
}

/** Dispose a tensor that lives on the device (a no-op for host tensors). */
export function disposeTensor(t: OrtTensor | undefined): void {
  if (t && t.location !== 'cpu' && t.location !== 'none') t.dispose();
}

export interface CachedSession {
  session: OrtSession;
  graph: Graph;
}

/** A cache of sessions by key; a variant's graph is built and compiled on first use only. */
export class GraphSessions {
  private readonly cache = new Map<string, Promise<CachedSession>>();

  constructor(private readonly backend: EngineBackend) {}

  get(key: string, build: () => Graph | GraphBuild, onDevice: OutputPlacement = () => false): Promise<CachedSession> {
    let s = this.cache.get(key);
    if (!s) {
      s = (async () => {
        const built = build();
        const { graph, sessionOptions } = 'sessionOptions' in built ? built : { graph: built, sessionOptions: {} };
        return { graph, session: await createGraphSession(this.backend, graph, onDevice, sessionOptions) };
      })();
      // A failed creation is not cached, so a later call can try again.
      s.catch(() => this.cache.delete(key));
      this.cache.set(key, s);
    }
    return s;
  }

  async release(): Promise<void> {
    const all = [...this.cache.values()];
    this.cache.clear();
    for (const s of all) {
      try {
        await (await s).session.release();
      } catch {
        // a session that failed to create has nothing to release
      }
    }
  }
}

/** The graph's declared inputs picked out of the available feeds; a missing one is an error naming it. */
export function pickFeeds(graph: Graph, available: TensorMap, what: string): TensorMap {
  const feeds: TensorMap = {};
  for (const i of graph.inputs) {
    const t = available[i.name];
    if (!t) throw new Error(`${what} graph input "${i.name}" has no feed (available: ${Object.keys(available).filter((k) => !k.includes('.')).join(', ')})`);
    feeds[i.name] = t;
  }
  return feeds;
}
