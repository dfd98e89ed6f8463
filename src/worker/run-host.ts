/**
 * The PMD-run side of the engine worker: runs of the loaded model, kept in a RunLibrary
 * (IndexedDB in the browser), driven by the same RunDriver as `pmd-lab run`. It answers the
 * run-* and tasks-import requests of protocol.ts; EngineHost queues them with everything else.
 * Every transition is persisted before its event is sent, so a closed tab or a crashed worker
 * resumes from the last one.
 */
import { createSentenceEmbedder, type SentenceEmbedder } from '../engine/models/sentence-embedder';
import { createPolicy, type Policy } from '../engine/policy';
import { resolvePmdConfig, trainConfigOf, type PmdConfig, configDifferences, variantDefaults } from '../pmd/config';
import { clusterQuestions } from '../pmd/cluster';
import { project2d } from '../pmd/embed/projection';
import { importBundle, exportBundle } from '../pmd/run/bundle';
import { buildServices, type ServiceParts } from '../pmd/run/build-services';
import { RunDriver } from '../pmd/run/driver';
import type { RunLibrary, RunMeta } from '../pmd/run/library';
import { memoryPrompt, memoryPromptOptions } from '../pmd/run/phases/evaluate';
import { seedFor } from '../pmd/run/schedule';
import type { LoopServices } from '../pmd/run/services';
import type { RunRecord, RunState } from '../pmd/run/state';
import { suiteContext, type SuiteContext } from '../pmd/run/suite';
import { recordView, runView, type RunView } from '../pmd/run/view';
import type { Sandbox } from '../pmd/sandbox/protocol';
import { importTasks, isImportFormat, summarizeSkipped } from '../pmd/tasks/importers';
import { formatJsonLines } from '../pmd/tasks/jsonl';
import { parseTaskSuite } from '../pmd/tasks/validate';
import type { EngineEvent } from './protocol';
import type { TrainableModel } from './train-host';

export interface RunHostPlatform {
  library(): Promise<RunLibrary>;
  sandbox(): Promise<Sandbox>;
  fetch?: ServiceParts['fetch'];
}

interface OpenRun {
  meta: RunMeta;
  ctx: SuiteContext;
  suiteText: string;
  policy: Policy;
  services: LoopServices;
  driver: RunDriver;
  model: TrainableModel;
  embedder: SentenceEmbedder | null;
}

const SUITE_BLOB = 'tasks.jsonl';

const pieceCache = new WeakMap<TrainableModel, (id: number) => string>();

/** One token id as text, with the model's tokenizer (the id itself without one); memoized per model. */
function pieceOf(model: TrainableModel): (id: number) => string {
  let f = pieceCache.get(model);
  if (!f) {
    const tok = model.tokenizer;
    const seen = new Map<number, string>();
    f = (id) => {
      let p = seen.get(id);
      // Special tokens (the end-of-turn token a finished rollout ends with) are not text: the
      // rollout's header already says how it finished.
      if (p === undefined) seen.set(id, (p = tok ? tok.decode([id], { skipSpecialTokens: true }) : String(id)));
      return p;
    };
    pieceCache.set(model, f);
  }
  return f;
}

function summarize(c: PmdConfig): string {
  const diff = configDifferences(variantDefaults(c.variant), c);
  return [c.variant, ...diff.slice(0, 4).map((p) => `${p}=${JSON.stringify(p.split('.').reduce<unknown>((o, k) => (o as Record<string, unknown>)[k], c))}`)].join(' · ');
}

export class RunHost {
  private open: OpenRun | null = null;
  private lib: RunLibrary | null = null;
  private sandbox: Sandbox | null = null;

  constructor(private readonly platform: RunHostPlatform, private readonly emit: (e: EngineEvent) => void) {}

  private async library(): Promise<RunLibrary> {
    this.lib ??= await this.platform.library();
    return this.lib;
  }

  /** Close the open run (another model is about to load, or another run opens). */
  async close(): Promise<void> {
    const o = this.open;
    this.open = null;
    if (o) {
      await o.embedder?.dispose();
      await o.policy.release();
    }
  }

  private view(s: RunState, model: TrainableModel, ctx?: SuiteContext): RunView {
    return runView(s, pieceOf(model), ctx ? (p) => ctx.prompt(p) : undefined);
  }

  private async start(id: number, model: TrainableModel, meta: RunMeta, suiteText: string, config: PmdConfig | null): Promise<void> {
    await this.close();
    if (!model.tokenizer) throw new Error('this model has no tokenizer.json, so it cannot run the PMD loop');
    const suite = parseTaskSuite(suiteText);
    if (suite.problems.length) throw new Error(`the task suite has problems: ${suite.problems.slice(0, 3).map((p) => `line ${p.line} ${p.field}: ${p.message}`).join('; ')}`);
    const ctx = suiteContext(suite.tasks);
    const lib = await this.library();
    const store = lib.store(meta.id);
    const saved = config ? null : await store.load();
    const runConfig = config ?? saved?.config;
    if (!runConfig) throw new Error(`the run ${meta.name} has no saved state`);
    const policy = await createPolicy({ runner: model.runner, tokenizer: model.tokenizer, label: model.label, train: trainConfigOf(runConfig) });
    let embedder: SentenceEmbedder | null = null;
    try {
      // A sentence-embedding model from the Hub when the config names one; else the policy embeds.
      if (runConfig.embedder.kind === 'transformers') embedder = await createSentenceEmbedder({ model: runConfig.embedder.model });
      const services = buildServices({
        policy,
        tasks: ctx.tasks,
        config: runConfig,
        sandbox: async () => (this.sandbox ??= await this.platform.sandbox()),
        fetch: this.platform.fetch,
        embed: embedder ? (texts) => embedder!.embed(texts) : undefined,
      });
      const driver = await RunDriver.open(ctx, store, services, config, {
        onTransition: (s, records) => {
          if (this.activeId !== null) this.emit({ type: 'run-transition', id: this.activeId, runId: meta.id, view: this.view(s, model, ctx), records: records.map((record) => ({ seq: s.seq, record: recordView(record, pieceOf(model)) })) });
        },
        onProgress: (p) => {
          if (this.activeId !== null) this.emit({ type: 'run-progress', id: this.activeId, runId: meta.id, step: p.step, phase: p.phase, what: p.what, done: p.done, total: p.total });
        },
      });
      this.open = { meta, ctx, suiteText, policy, services, driver, model, embedder };
    } catch (e) {
      await embedder?.dispose();
      await policy.release();
      throw e;
    }
    this.emit({ type: 'run-opened', id, meta, view: this.view(this.open.driver.state, model, ctx) });
  }

  /** The request whose events transitions belong to (the one advancing the run). */
  private activeId: number | null = null;

  private require(runId: string): OpenRun {
    if (!this.open || this.open.meta.id !== runId) throw new Error('that run is not open; open it first');
    return this.open;
  }

  async list(id: number): Promise<void> {
    this.emit({ type: 'run-list', id, runs: await (await this.library()).list() });
  }

  async create(id: number, model: TrainableModel, name: string, partial: unknown, suite: { name: string; text: string }): Promise<void> {
    const config = resolvePmdConfig(partial);
    const lib = await this.library();
    const meta: RunMeta = {
      id: `run-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`,
      name: name.trim() || `${config.variant} on ${suite.name}`,
      created: Date.now(),
      model: model.label,
      suite: suite.name,
      status: 'paused',
      summary: summarize(config),
    };
    parseTaskSuite(suite.text); // problems are reported by start()
    await lib.putBlob(meta.id, SUITE_BLOB, new TextEncoder().encode(suite.text));
    await this.start(id, model, meta, suite.text, config);
    await lib.saveMeta(meta);
  }

  async openRun(id: number, model: TrainableModel, runId: string): Promise<void> {
    const lib = await this.library();
    const meta = (await lib.list()).find((m) => m.id === runId);
    if (!meta) throw new Error(`there is no run ${runId} in this browser`);
    if (meta.model !== model.label) throw new Error(`the run "${meta.name}" was made with ${meta.model}; load that model first (the loaded one is ${model.label})`);
    const suite = await lib.getBlob(runId, SUITE_BLOB);
    if (!suite) throw new Error(`the run "${meta.name}" lost its task suite`);
    await this.start(id, model, meta, new TextDecoder().decode(suite), null);
  }

  async advance(id: number, runId: string, until: 'effect' | 'phase' | 'step' | 'end', shouldStop: () => boolean): Promise<void> {
    const o = this.require(runId);
    const lib = await this.library();
    await lib.saveMeta((o.meta = { ...o.meta, status: 'running' }));
    this.activeId = id;
    let state: RunState;
    try {
      state = await o.driver.advance(until, shouldStop);
    } catch (e) {
      await lib.saveMeta((o.meta = { ...o.meta, status: 'failed' }));
      throw e;
    } finally {
      this.activeId = null;
    }
    const reason = state.phase === 'done' ? 'done' : shouldStop() ? 'paused' : 'boundary';
    await lib.saveMeta((o.meta = { ...o.meta, status: state.phase === 'done' ? 'done' : 'paused' }));
    this.emit({ type: 'run-stopped', id, runId, view: this.view(state, o.model, o.ctx), reason });
  }

  async freeze(id: number, runId: string, change: { policy?: boolean; memory?: boolean }): Promise<void> {
    const o = this.require(runId);
    this.activeId = id;
    try {
      await o.driver.setFreeze(change);
    } finally {
      this.activeId = null;
    }
    this.emit({ type: 'run-stopped', id, runId, view: this.view(o.driver.state, o.model, o.ctx), reason: 'boundary' });
  }

  /** Rollout records carry text pieces decoded with `model` (the open run's model, else the loaded one if the run was made with it). */
  async records(id: number, runId: string, kinds?: RunRecord['kind'][], loaded?: TrainableModel | null): Promise<void> {
    const lib = await this.library();
    let model = this.open?.meta.id === runId ? this.open.model : null;
    if (!model && loaded) model = (await lib.list()).find((m) => m.id === runId)?.model === loaded.label ? loaded : null;
    const piece = model ? pieceOf(model) : String;
    const records = await lib.records(runId, kinds);
    this.emit({ type: 'run-records', id, runId, records: records.map((r) => ({ seq: r.seq, record: recordView(r.record, piece) })) });
  }

  async config(id: number, runId: string): Promise<void> {
    const state = this.open?.meta.id === runId ? this.open.driver.state : await (await this.library()).store(runId).load();
    if (!state) throw new Error(`there is no saved state for run ${runId}`);
    this.emit({ type: 'run-config', id, runId, config: state.config, step: state.step, phase: state.phase });
  }

  async map(id: number, runId: string): Promise<void> {
    const o = this.require(runId);
    const s = o.driver.state;
    const ids = Object.keys(s.memory.problems)
      .filter((p) => s.memory.problems[p].question)
      .sort();
    const vectors = ids.map((p) => s.memory.problems[p].question!.embedding);
    const clusters = clusterQuestions(ids, vectors, s.config.behavior.clusters, seedFor(s.config.seed, 'cluster', s.memory.lastConsolidation || s.step));
    const of = new Map<string, number>();
    clusters.forEach((c, i) => c.members.forEach((m) => of.set(m, i)));
    const xy = project2d(vectors, seedFor(s.config.seed, 'map'));
    this.emit({
      type: 'run-map',
      id,
      runId,
      points: ids.map((p, i) => ({ id: p, x: xy[i][0], y: xy[i][1], cluster: of.get(p) ?? 0, question: o.ctx.prompt(p) })),
      clusters: clusters.map((c, i) => ({ index: i, members: c.members, behaviors: s.memory.behaviors.filter((b) => b.problems.some((p) => c.members.includes(p))).map((b) => b.name) })),
    });
  }

  async compare(id: number, runId: string, problem: string, seed: number): Promise<void> {
    const o = this.require(runId);
    const s = o.driver.state;
    const plain = o.ctx.prompt(problem);
    const q = s.memory.problems[problem]?.question?.embedding ?? (await o.services.embed([plain]))[0];
    const withMem = memoryPrompt(s.memory, memoryPromptOptions(s.config), plain, q);
    const r = s.config.rollout;
    const answer = async (prompt: string) => {
      const out = await o.policy.generate([await o.policy.promptIds(prompt)], { maxNewTokens: r.maxNewTokens, temperature: r.temperature, topP: r.topP, topK: r.topK, seed, adapter: 'student' });
      const text = o.policy.decode(out.tokens[0]);
      const v = (await o.services.verify([{ key: 'x', task: problem, response: text }], 'train')).x;
      return { prompt, text, reward: v.reward, feedback: v.feedback };
    };
    this.emit({ type: 'run-compared', id, runId, problem, without: await answer(plain), with: await answer(withMem) });
  }

  async adapter(id: number, runId: string, which: 'student' | 'teacher'): Promise<void> {
    const o = this.require(runId);
    const f = await o.policy.exportAdapter(which, o.model.label);
    this.emit({ type: 'adapter', id, which, baseModel: o.model.label, files: { 'adapter_config.json': new TextEncoder().encode(f['adapter_config.json']), 'adapter_model.safetensors': f['adapter_model.safetensors'] } });
  }

  async exportRun(id: number, runId: string): Promise<void> {
    const lib = await this.library();
    const meta = (await lib.list()).find((m) => m.id === runId);
    if (!meta) throw new Error(`there is no run ${runId}`);
    const state = await lib.store(runId).load();
    if (!state) throw new Error(`the run "${meta.name}" has no saved state`);
    const suite = await lib.getBlob(runId, SUITE_BLOB);
    const trainer = state.trainerVersion > 0 ? await lib.store(runId).loadTrainer(state.trainerVersion) : null;
    let adapter: Record<string, Uint8Array> | null = null;
    if (this.open?.meta.id === runId) {
      const f = await this.open.policy.exportAdapter('student', meta.model);
      adapter = { 'adapter_config.json': new TextEncoder().encode(f['adapter_config.json']), 'adapter_model.safetensors': f['adapter_model.safetensors'] };
    }
    const bytes = exportBundle({
      meta: { name: meta.name, model: meta.model, suite: meta.suite, created: new Date(meta.created).toISOString() },
      state,
      records: await lib.records(runId),
      suiteText: suite ? new TextDecoder().decode(suite) : '',
      trainer: trainer ? { version: state.trainerVersion, bytes: trainer } : null,
      adapter,
    });
    const slug = meta.name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'run';
    this.emit({ type: 'run-bundle', id, runId, bytes, fileName: `${slug}.pmd-run.zip` });
  }

  async importRun(id: number, bytes: Uint8Array, name: string): Promise<void> {
    const b = importBundle(bytes);
    const lib = await this.library();
    const meta: RunMeta = {
      id: `run-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`,
      name: b.meta.name !== 'imported run' ? b.meta.name : name.replace(/\.zip$/i, ''),
      created: Date.now(),
      model: b.meta.model,
      suite: b.meta.suite,
      status: b.state.phase === 'done' ? 'done' : 'paused',
      summary: summarize(b.state.config),
    };
    const blobs: Record<string, Uint8Array> = { [SUITE_BLOB]: new TextEncoder().encode(b.suiteText) };
    if (b.trainer) blobs[`checkpoints/trainer-${b.trainer.version}.safetensors`] = b.trainer.bytes;
    await lib.importRun(meta, b.state, b.records, blobs);
    this.emit({ type: 'run-list', id, runs: await lib.list() });
  }

  async deleteRun(id: number, runId: string): Promise<void> {
    if (this.open?.meta.id === runId) await this.close();
    await (await this.library()).delete(runId);
    this.emit({ type: 'run-deleted', id, runId });
  }

  importTasks(id: number, format: string, text: string): void {
    if (format === 'project') {
      const s = parseTaskSuite(text);
      this.emit({
        type: 'tasks-imported',
        id,
        text,
        tasks: s.tasks.length,
        train: s.tasks.filter((t) => t.split === 'train').length,
        test: s.tasks.filter((t) => t.split === 'test').length,
        skipped: '',
        problems: s.problems.slice(0, 50).map((p) => `line ${p.line}${p.field ? `, ${p.field}` : ''}: ${p.message}`),
      });
      return;
    }
    if (!isImportFormat(format)) throw new Error(`unknown format ${JSON.stringify(format)}`);
    const r = importTasks(format, text, { split: 'train' });
    this.emit({
      type: 'tasks-imported',
      id,
      text: formatJsonLines(r.tasks),
      tasks: r.tasks.length,
      train: r.tasks.filter((t) => t.split === 'train').length,
      test: r.tasks.filter((t) => t.split === 'test').length,
      skipped: summarizeSkipped(r.skipped),
      problems: r.problems.slice(0, 50).map((p) => `line ${p.line}${p.field ? `, ${p.field}` : ''}: ${p.message}`),
    });
  }
}
