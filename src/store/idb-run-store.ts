/**
 * Runs in IndexedDB (the browser; used by the engine worker), through `idb`. Database
 * `pmd-lab-runs`, versioned with migrations in `upgrade`:
 *   v1  runs     run id -> RunMeta (name, created, model, suite, status)
 *       states   run id -> RunState (the last committed transition)
 *       records  auto key -> { run, seq, kind, data }, index by [run, seq]
 *       blobs    [run, name] -> bytes (trainer checkpoints, the task suite, adapters)
 * A commit writes the state and its records in ONE transaction, so a tab closed or a worker
 * crashed mid-commit leaves the previous transition intact. A full quota aborts the transaction
 * (nothing already stored is lost) and surfaces as a StorageFullError with a clear message.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { RunStore } from '../pmd/run/driver';
import type { RunLibrary, RunMeta } from '../pmd/run/library';

export type { RunMeta };
import type { RunRecord, RunState } from '../pmd/run/state';

interface StoredRecord {
  key?: number;
  run: string;
  seq: number;
  kind: RunRecord['kind'];
  data: RunRecord;
}

interface RunDb extends DBSchema {
  runs: { key: string; value: RunMeta };
  states: { key: string; value: RunState };
  records: { key: number; value: StoredRecord; indexes: { bySeq: [string, number] } };
  blobs: { key: [string, string]; value: { run: string; name: string; bytes: Uint8Array } };
}

export const RUN_DB_NAME = 'pmd-lab-runs';
export const RUN_DB_VERSION = 1;

export class StorageFullError extends Error {
  override name = 'StorageFullError';
}

function isQuotaError(e: unknown): boolean {
  return e instanceof DOMException && (e.name === 'QuotaExceededError' || e.code === 22);
}

async function guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isQuotaError(e)) throw new StorageFullError(`the browser's storage for this site is full while ${what}; nothing already stored was lost. Export or delete old runs, then continue.`);
    throw e;
  }
}

let dbp: Promise<IDBPDatabase<RunDb>> | null = null;

export function openRunDb(name = RUN_DB_NAME): Promise<IDBPDatabase<RunDb>> {
  if (name !== RUN_DB_NAME) return openRunDbNamed(name);
  dbp ??= openRunDbNamed(name);
  return dbp;
}

function openRunDbNamed(name: string): Promise<IDBPDatabase<RunDb>> {
  return openDB<RunDb>(name, RUN_DB_VERSION, {
    upgrade(db, oldVersion) {
      if (oldVersion < 1) {
        db.createObjectStore('runs', { keyPath: 'id' });
        db.createObjectStore('states');
        const r = db.createObjectStore('records', { keyPath: 'key', autoIncrement: true });
        r.createIndex('bySeq', ['run', 'seq']);
        db.createObjectStore('blobs', { keyPath: ['run', 'name'] });
      }
    },
  });
}

export async function listRuns(db: IDBPDatabase<RunDb>): Promise<RunMeta[]> {
  return (await db.getAll('runs')).sort((a, b) => b.created - a.created);
}

export async function saveRunMeta(db: IDBPDatabase<RunDb>, meta: RunMeta): Promise<void> {
  await guard('saving the run list', () => db.put('runs', meta));
}

export async function deleteRun(db: IDBPDatabase<RunDb>, id: string): Promise<void> {
  const tx = db.transaction(['runs', 'states', 'records', 'blobs'], 'readwrite');
  await tx.objectStore('runs').delete(id);
  await tx.objectStore('states').delete(id);
  const recs = await tx.objectStore('records').index('bySeq').getAllKeys(IDBKeyRange.bound([id, 0], [id, Infinity]));
  for (const k of recs) await tx.objectStore('records').delete(k);
  const blobs = await tx.objectStore('blobs').getAllKeys(IDBKeyRange.bound([id, ''], [id, '\uffff']));
  for (const k of blobs) await tx.objectStore('blobs').delete(k);
  await tx.done;
}

export async function putBlob(db: IDBPDatabase<RunDb>, run: string, name: string, bytes: Uint8Array): Promise<void> {
  await guard(`saving ${name}`, () => db.put('blobs', { run, name, bytes }));
}

export async function getBlob(db: IDBPDatabase<RunDb>, run: string, name: string): Promise<Uint8Array | null> {
  return (await db.get('blobs', [run, name]))?.bytes ?? null;
}

/** Records of a run, in commit order, optionally of some kinds and from a seq on. */
export async function readRecords(db: IDBPDatabase<RunDb>, run: string, opts: { kinds?: RunRecord['kind'][]; fromSeq?: number } = {}): Promise<{ seq: number; record: RunRecord }[]> {
  const all = await db.getAllFromIndex('records', 'bySeq', IDBKeyRange.bound([run, opts.fromSeq ?? 0], [run, Infinity]));
  return all.filter((r) => !opts.kinds || opts.kinds.includes(r.kind)).map((r) => ({ seq: r.seq, record: r.data }));
}

export class IdbRunStore implements RunStore {
  constructor(private readonly db: IDBPDatabase<RunDb>, readonly run: string) {}

  async load(): Promise<RunState | null> {
    return (await this.db.get('states', this.run)) ?? null;
  }

  async commit(state: RunState, records: RunRecord[]): Promise<void> {
    await guard(`saving step ${state.step} (${state.phase})`, async () => {
      const tx = this.db.transaction(['states', 'records'], 'readwrite');
      const recs = tx.objectStore('records');
      for (const r of records) await recs.add({ run: this.run, seq: state.seq, kind: r.kind, data: r });
      await tx.objectStore('states').put(state, this.run);
      await tx.done;
    });
  }

  loadTrainer(version: number): Promise<Uint8Array | null> {
    return getBlob(this.db, this.run, `checkpoints/trainer-${version}.safetensors`);
  }

  async saveTrainer(version: number, bytes: Uint8Array): Promise<void> {
    await putBlob(this.db, this.run, `checkpoints/trainer-${version}.safetensors`, bytes);
    const names = (await this.db.getAllKeys('blobs', IDBKeyRange.bound([this.run, 'checkpoints/'], [this.run, 'checkpoints/\uffff']))).map((k) => k[1]);
    const versions = names.map((n) => Number(/trainer-(\d+)/.exec(n)?.[1] ?? -1)).filter((v) => v >= 0).sort((a, b) => b - a);
    for (const v of versions.slice(2)) await this.db.delete('blobs', [this.run, `checkpoints/trainer-${v}.safetensors`]);
  }
}

/** The playground's runs in IndexedDB. */
export class IdbRunLibrary implements RunLibrary {
  constructor(private readonly db: IDBPDatabase<RunDb>) {}

  static async open(): Promise<IdbRunLibrary> {
    return new IdbRunLibrary(await openRunDb());
  }
  list() {
    return listRuns(this.db);
  }
  saveMeta(meta: RunMeta) {
    return saveRunMeta(this.db, meta);
  }
  store(id: string): RunStore {
    return new IdbRunStore(this.db, id);
  }
  putBlob(id: string, name: string, bytes: Uint8Array) {
    return putBlob(this.db, id, name, bytes);
  }
  getBlob(id: string, name: string) {
    return getBlob(this.db, id, name);
  }
  records(id: string, kinds?: RunRecord['kind'][]) {
    return readRecords(this.db, id, { kinds });
  }
  async importRun(meta: RunMeta, state: RunState, records: { seq: number; record: RunRecord }[], blobs: Record<string, Uint8Array>): Promise<void> {
    await guard(`importing the run ${meta.name}`, async () => {
      const tx = this.db.transaction(['runs', 'states', 'records', 'blobs'], 'readwrite');
      for (const r of records) await tx.objectStore('records').add({ run: meta.id, seq: r.seq, kind: r.record.kind, data: r.record });
      for (const [name, bytes] of Object.entries(blobs)) await tx.objectStore('blobs').put({ run: meta.id, name, bytes });
      await tx.objectStore('states').put(state, meta.id);
      await tx.objectStore('runs').put(meta);
      await tx.done;
    });
  }
  delete(id: string) {
    return deleteRun(this.db, id);
  }
}
