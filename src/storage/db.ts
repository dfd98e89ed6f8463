/**
 * The playground's IndexedDB database. Version 1 holds trained adapters (one per model, the
 * latest); later versions add object stores in `upgrade` without touching existing ones.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';

export interface SavedAdapter {
  /** The model the adapter belongs to (its label: repo id, folder name or the embedded model). */
  model: string;
  /** Optimizer steps taken in the session that saved it. */
  steps: number;
  savedAt: number;
  /** PEFT files: adapter_config.json and adapter_model.safetensors. */
  files: Record<string, Uint8Array>;
}

interface LabDb extends DBSchema {
  adapters: { key: string; value: SavedAdapter };
}

export const DB_NAME = 'pmd-lab';
export const DB_VERSION = 1;

let db: Promise<IDBPDatabase<LabDb>> | null = null;

export function labDb(): Promise<IDBPDatabase<LabDb>> {
  db ??= openDB<LabDb>(DB_NAME, DB_VERSION, {
    upgrade(d, oldVersion) {
      if (oldVersion < 1) d.createObjectStore('adapters', { keyPath: 'model' });
    },
  });
  return db;
}

export async function saveAdapter(a: SavedAdapter): Promise<void> {
  await (await labDb()).put('adapters', a);
}

export async function loadAdapter(model: string): Promise<SavedAdapter | undefined> {
  return (await labDb()).get('adapters', model);
}

export async function deleteAdapter(model: string): Promise<void> {
  await (await labDb()).delete('adapters', model);
}
