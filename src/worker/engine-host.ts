/**
 * The engine side of the worker protocol, independent of how messages travel: the worker entry
 * wires it to postMessage, and tests drive it directly in Node with the onnxruntime-node backend.
 */
import { openModel } from '../engine/models/open-model';
import { loadTokenizer } from '../engine/models/tokenizer';
import { chat, stopTokenIds } from '../engine/runtime/chat';
import { HubSource, UrlFolderSource, BrowserFilesSource, defaultFileCache } from '../engine/models/sources';
import { padTokenIdOf, type FileSource, type ModelConfig } from '../engine/models/types';
import { ModelRunner } from '../engine/runtime/model-runner';
import { leftPadBatch } from '../engine/runtime/batch';
import { generate } from '../engine/runtime/generate';
import type { EngineBackend } from '../engine/runtime/ort-types';
import type { BackendInfo, EngineEvent, EngineRequest, ModelSourceSpec, SamplingSpec } from './protocol';
import { MemoryRunLibrary } from '../pmd/run/library';
import { RunHost, type RunHostPlatform } from './run-host';
import { TrainHost, type TrainableModel } from './train-host';

export interface HostPlatform {
  /** Set up the runtime; called once on 'init'. */
  init(preferWebGpu: boolean): Promise<{ backend: EngineBackend; info: BackendInfo }>;
  /** Where runs are kept, how code is sandboxed, how endpoints are reached (default: in memory, no sandbox). */
  runs?: RunHostPlatform;
  /** Build a FileSource for a source spec (the default covers the browser sources). */
  source?(spec: ModelSourceSpec, onProgress: (file: string, loaded: number, total: number | null, fromCache: boolean) => void): FileSource;
}

/** The model the worker currently serves. */
type HostedModel = TrainableModel;

export function browserSource(spec: ModelSourceSpec, onProgress: (file: string, loaded: number, total: number | null, fromCache: boolean) => void): FileSource {
  const progress = (e: { file: string; loaded: number; total: number | null; fromCache?: boolean }) => onProgress(e.file, e.loaded, e.total, e.fromCache ?? false);
  switch (spec.kind) {
    case 'embedded':
      return new UrlFolderSource({ url: spec.url, label: spec.label, onProgress: progress });
    case 'hub':
      return new HubSource({
        repo: spec.repo,
        revision: spec.revision,
        endpoint: spec.endpoint,
        token: spec.token,
        cache: defaultFileCache(),
        onProgress: progress,
      });
    case 'files':
      return new BrowserFilesSource(spec.files);
  }
}

/** Runs kept in memory, with no code sandbox: for tests and hosts without storage. */
export function memoryRuns(): RunHostPlatform {
  const lib = new MemoryRunLibrary();
  return {
    library: async () => lib,
    sandbox: async () => {
      throw new Error('this host has no code sandbox');
    },
  };
}

export class EngineHost {
  private backend: EngineBackend | null = null;
  private info: BackendInfo | null = null;
  private model: HostedModel | null = null;
  /** Bumped by every stop; a generation stops when the epoch moved past the one it was queued in. */
  private stopEpoch = 0;
  /** Requests run one at a time, in order, so a load never races a generation. */
  private queue: Promise<void> = Promise.resolve();
  private readonly training: TrainHost;
  private readonly runs: RunHost;

  constructor(private readonly platform: HostPlatform, private readonly emit: (e: EngineEvent) => void) {
    this.training = new TrainHost(() => {
      if (!this.backend) throw new Error('the engine is not initialised yet');
      return this.backend;
    }, emit);
    this.runs = new RunHost(platform.runs ?? memoryRuns(), emit);
  }

  handle(req: EngineRequest): Promise<void> {
    if (req.type === 'stop') {
      this.stopEpoch++;
      this.emit({ type: 'stopped', id: req.id });
      return Promise.resolve();
    }
    // A stop pressed while this request still waits in the queue applies to it too.
    const epoch = this.stopEpoch;
    const job = this.queue.then(() => this.run(req, epoch)).catch((e: unknown) => {
      this.emit({ type: 'error', id: req.id, message: e instanceof Error ? e.message : String(e) });
    });
    this.queue = job;
    return job;
  }

  private async run(req: Exclude<EngineRequest, { type: 'stop' }>, epoch: number): Promise<void> {
    switch (req.type) {
      case 'init': {
        if (!this.backend) {
          const r = await this.platform.init(req.preferWebGpu);
          this.backend = r.backend;
          this.info = r.info;
        }
        this.emit({ type: 'ready', id: req.id, info: this.info! });
        return;
      }
      case 'load':
        return this.load(req.id, req.source);
      case 'logits': {
        const m = this.requireModel();
        const b = leftPadBatch(req.ids.map((s) => this.checkIds(s, m.config)), m.padId);
        const out = await m.runner.forward({ ...b, logits: 'all', wantKv: false });
        const V = m.config.vocabSize;
        const logits = req.ids.map((s, i) =>
          s.map((_, p) => out.logits.slice((i * b.seq + b.pad[i] + p) * V, (i * b.seq + b.pad[i] + p + 1) * V)),
        );
        this.emit({ type: 'logits', id: req.id, vocabSize: V, logits });
        return;
      }
      case 'generate':
        return this.generate(req.id, req.prompts.map((s) => this.checkIds(s, this.requireModel().config)), req.sampling, epoch);
      case 'chat':
        return this.chat(req.id, req.text, req.sampling, epoch);
      case 'train-start':
        return this.training.start(req.id, this.requireModel(), req.config, req.baseModel, req.adapter);
      case 'train-step':
        return this.training.step(req.id, req.samples, req.loss);
      case 'train-sft':
        return this.training.sft(req.id, req.jsonl, { steps: req.steps, batchSize: req.batchSize, seed: req.seed }, () => this.stopEpoch !== epoch);
      case 'adapter-export':
        return this.training.exportAdapter(req.id, req.which);
      case 'adapter-use':
        return this.training.use(req.id, req.which);
      case 'run-list':
        return this.runs.list(req.id);
      case 'run-create':
        return this.runs.create(req.id, this.requireModel(), req.name, req.config, req.suite);
      case 'run-open':
        return this.runs.openRun(req.id, this.requireModel(), req.runId);
      case 'run-advance':
        return this.runs.advance(req.id, req.runId, req.until, () => this.stopEpoch !== epoch);
      case 'run-freeze':
        return this.runs.freeze(req.id, req.runId, { policy: req.policy, memory: req.memory });
      case 'run-records':
        return this.runs.records(req.id, req.runId, req.kinds, this.model);
      case 'run-config':
        return this.runs.config(req.id, req.runId);
      case 'run-map':
        return this.runs.map(req.id, req.runId);
      case 'run-compare':
        return this.runs.compare(req.id, req.runId, req.problem, req.seed);
      case 'run-adapter':
        return this.runs.adapter(req.id, req.runId, req.which);
      case 'run-export':
        return this.runs.exportRun(req.id, req.runId);
      case 'run-import':
        return this.runs.importRun(req.id, req.bytes, req.name);
      case 'run-delete':
        return this.runs.deleteRun(req.id, req.runId);
      case 'tasks-import':
        return this.runs.importTasks(req.id, req.format, req.text);
    }
  }

  private requireModel(): HostedModel {
    if (!this.model) throw new Error('no model is loaded');
    return this.model;
  }

  private checkIds(ids: number[], cfg: ModelConfig): number[] {
    if (!Array.isArray(ids) || ids.length === 0) throw new Error('every sequence needs at least one token id');
    for (const t of ids) {
      if (!Number.isInteger(t) || t < 0 || t >= cfg.vocabSize) throw new Error(`token id ${t} is outside the vocabulary (size ${cfg.vocabSize})`);
    }
    return ids;
  }

  private async load(id: number, spec: ModelSourceSpec): Promise<void> {
    if (!this.backend) throw new Error('the engine is not initialised yet');
    const t0 = performance.now();
    const src = (this.platform.source ?? browserSource)(spec, (file, loaded, total, fromCache) =>
      this.emit({ type: 'progress', id, file, loaded, total, fromCache }),
    );
    const ckpt = await openModel(src, {
      maxTensorBytes: this.info?.maxStorageBindingBytes || undefined,
      onProgress: (done, total, file) => this.emit({ type: 'stage', id, message: `reading weights: ${file} (${Math.min(done + 1, total)} of ${total} files)` }),
    });
    this.emit({ type: 'stage', id, message: 'uploading weights to the device' });
    const tokenizer = ckpt.tokenizerJson ? loadTokenizer(ckpt.tokenizerJson, ckpt.tokenizerConfig, { vocabSize: ckpt.config.vocabSize }) : null;
    // Only replace the current model once the new one loaded completely.
    const runner = new ModelRunner(ckpt.config, this.backend);
    await runner.loadWeights(ckpt.weights);
    const old = this.model;
    await this.training.release();
    await this.runs.close();
    const config = { ...ckpt.config, eosTokenIds: tokenizer ? stopTokenIds(ckpt.config.eosTokenIds, tokenizer) : ckpt.config.eosTokenIds };
    this.model = { config, runner, tokenizer, padId: padTokenIdOf(config), label: src.label };
    if (old) await old.runner.release();
    let params = 0;
    for (const t of ckpt.weights.values()) params += t.data.length;
    this.emit({
      type: 'loaded',
      id,
      model: {
        label: src.label,
        family: config.family,
        layers: config.numLayers,
        hiddenSize: config.hiddenSize,
        vocabSize: config.vocabSize,
        params,
        tied: config.tieWordEmbeddings,
        hasTokenizer: tokenizer !== null,
        hasChatTemplate: Boolean(tokenizer?.hasChatTemplate),
        loadMs: performance.now() - t0,
      },
    });
  }

  private async generate(id: number, prompts: number[][], s: SamplingSpec, epoch: number): Promise<void> {
    const m = this.requireModel();
    const t0 = performance.now();
    const res = await generate(m.runner, prompts, {
      ...s,
      eosTokenIds: m.config.eosTokenIds,
      padTokenId: m.padId,
      shouldStop: () => this.stopEpoch !== epoch,
      onToken: ({ step, tokens }) => this.emit({ type: 'token', id, step, tokens }),
    });
    this.emit({ type: 'generated', id, tokens: res.tokens, logprobs: res.logprobs, finish: res.finish, ms: performance.now() - t0 });
  }

  private async chat(id: number, text: string, s: SamplingSpec, epoch: number): Promise<void> {
    const m = this.requireModel();
    if (!m.tokenizer) throw new Error('this model has no tokenizer.json, so it cannot chat');
    const t0 = performance.now();
    const res = await chat(m.runner, m.tokenizer, text, {
      ...s,
      eosTokenIds: m.config.eosTokenIds,
      padTokenId: m.padId,
      shouldStop: () => this.stopEpoch !== epoch,
      onText: ({ step, token, text: sofar }) => this.emit({ type: 'token', id, step, tokens: [token], text: sofar }),
    });
    this.emit({ type: 'generated', id, tokens: res.tokens, logprobs: res.logprobs, finish: res.finish, text: res.text, ms: performance.now() - t0 });
  }
}
