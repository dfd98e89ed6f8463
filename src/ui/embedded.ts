/**
 * The embedded default the app ships with: the trained tiny "world" model and its task suite
 * under public/world/ when that folder exists, otherwise the seeded tiny-qwen3 under
 * public/models/. Which one is known when the app is built (or the dev server starts), from the
 * files Vite finds there, so the page never probes a missing URL.
 */
const worldModel = import.meta.glob('/public/world/model/config.json');
const worldRun = import.meta.glob<Record<string, unknown>>('/public/world/run.json', { eager: true, import: 'default' });

/** public/world/ is present: its model is the default and its tasks are offered first. */
export const HAS_WORLD = Object.keys(worldModel).length > 0;

/** The world's run settings (a partial PmdConfig), laid under the user's own settings. */
export const WORLD_RUN_CONFIG: Record<string, unknown> = worldRun['/public/world/run.json'] ?? {};

export const EMBEDDED = HAS_WORLD
  ? { folder: 'world/model/', label: 'world model (embedded)', about: 'a tiny model trained for the task world shipped with the app' }
  : { folder: 'models/tiny-qwen3/', label: 'tiny-qwen3 (embedded)', about: 'a seeded two-layer Qwen3 with random weights and a small BPE tokenizer' };

/** Absolute URL of a file the app serves from public/. */
export function publicUrl(path: string): string {
  return new URL(`${import.meta.env.BASE_URL}${path}`, window.location.href).href;
}
