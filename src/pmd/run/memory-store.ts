/**
 * A RunStore in memory: the state kept as JSON text (so what is read back is exactly what a
 * real store would give), records and trainer checkpoints in arrays and maps. Tests use it, and
 * it documents the contract the folder and IndexedDB stores keep.
 */
import type { RunStore } from './driver';
import type { RunRecord, RunState } from './state';

export class MemoryRunStore implements RunStore {
  private stateJson: string | null = null;
  readonly records: (RunRecord & { seq: number })[] = [];
  readonly trainers = new Map<number, Uint8Array>();
  commits = 0;

  async load(): Promise<RunState | null> {
    return this.stateJson === null ? null : (JSON.parse(this.stateJson) as RunState);
  }

  async commit(state: RunState, records: RunRecord[]): Promise<void> {
    for (const r of records) this.records.push({ ...r, seq: state.seq });
    this.stateJson = JSON.stringify(state);
    this.commits++;
  }

  async loadTrainer(version: number): Promise<Uint8Array | null> {
    return this.trainers.get(version) ?? null;
  }

  async saveTrainer(version: number, bytes: Uint8Array): Promise<void> {
    this.trainers.set(version, bytes.slice());
  }

  /** A copy of the store as it is now (a "disk" surviving a killed process). */
  clone(): MemoryRunStore {
    const c = new MemoryRunStore();
    c.stateJson = this.stateJson;
    c.records.push(...this.records.map((r) => structuredClone(r)));
    for (const [k, v] of this.trainers) c.trainers.set(k, v.slice());
    return c;
  }
}
