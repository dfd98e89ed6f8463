/**
 * Where a host keeps its runs (the playground: IndexedDB; tests: memory): the list with each
 * run's metadata, one RunStore per run, named blobs (the task suite, checkpoints), the records,
 * and whole-run import and deletion.
 */
import type { RunStore } from './driver';
import { MemoryRunStore } from './memory-store';
import type { RunRecord, RunState } from './state';

export interface RunMeta {
  id: string;
  name: string;
  created: number;
  /** The model's label (embedded default, Hub repo, folder name). */
  model: string;
  /** The task suite's name. */
  suite: string;
  status: 'running' | 'paused' | 'done' | 'failed';
  /** The variant and the settings that differ from the defaults, for lists and comparisons. */
  summary: string;
}

export interface RunLibrary {
  list(): Promise<RunMeta[]>;
  saveMeta(meta: RunMeta): Promise<void>;
  store(id: string): RunStore;
  putBlob(id: string, name: string, bytes: Uint8Array): Promise<void>;
  getBlob(id: string, name: string): Promise<Uint8Array | null>;
  records(id: string, kinds?: RunRecord['kind'][]): Promise<{ seq: number; record: RunRecord }[]>;
  /** Store an imported run whole (its state, records and blobs). */
  importRun(meta: RunMeta, state: RunState, records: { seq: number; record: RunRecord }[], blobs: Record<string, Uint8Array>): Promise<void>;
  delete(id: string): Promise<void>;
}

/** A library in memory (tests, and a fallback where IndexedDB is unavailable). */
export class MemoryRunLibrary implements RunLibrary {
  private readonly metas = new Map<string, RunMeta>();
  private readonly stores = new Map<string, MemoryRunStore>();
  private readonly blobs = new Map<string, Uint8Array>();

  async list() {
    return [...this.metas.values()].sort((a, b) => b.created - a.created);
  }
  async saveMeta(meta: RunMeta) {
    this.metas.set(meta.id, { ...meta });
  }
  store(id: string): MemoryRunStore {
    let s = this.stores.get(id);
    if (!s) this.stores.set(id, (s = new MemoryRunStore()));
    return s;
  }
  async putBlob(id: string, name: string, bytes: Uint8Array) {
    this.blobs.set(`${id}/${name}`, bytes.slice());
  }
  async getBlob(id: string, name: string) {
    return this.blobs.get(`${id}/${name}`) ?? null;
  }
  async records(id: string, kinds?: RunRecord['kind'][]) {
    return this.store(id)
      .records.filter((r) => !kinds || kinds.includes(r.kind))
      .map(({ seq, ...record }) => ({ seq, record: record as RunRecord }));
  }
  async importRun(meta: RunMeta, state: RunState, records: { seq: number; record: RunRecord }[], blobs: Record<string, Uint8Array>) {
    const s = this.store(meta.id);
    for (const r of records) s.records.push({ ...r.record, seq: r.seq });
    await s.commit(state, []);
    for (const [name, bytes] of Object.entries(blobs)) await this.putBlob(meta.id, name, bytes);
    const m = /^checkpoints\/trainer-(\d+)\.safetensors$/;
    for (const [name, bytes] of Object.entries(blobs)) if (m.test(name)) await s.saveTrainer(Number(m.exec(name)![1]), bytes);
    await this.saveMeta(meta);
  }
  async delete(id: string) {
    this.metas.delete(id);
    this.stores.delete(id);
    for (const k of [...this.blobs.keys()]) if (k.startsWith(`${id}/`)) this.blobs.delete(k);
  }
}
