/**
 * The embedded default the app ships with: the trained tiny "world" model and its task suite
 * under public/world/ when that folder exists, otherwise the seeded tiny-qwen3 under
 * public/models/. Which one is known when the app is built (or the dev server starts), from the
 * files vite.config.ts finds there, so the page never probes a missing URL.
 */
declare const __PMD_WORLD__: { run: Record<string, unknown> } | null;

/** public/world/ is present: its model is the default and its tasks are offered first. */
const WORLD = typeof __PMD_WORLD__ === 'undefined' ? null : __PMD_WORLD__;

export const HAS_WORLD = WORLD !== null;

/** The world's run settings (a partial PmdConfig), laid under the user's own settings. */
export const WORLD_RUN_CONFIG: Record<string, unknown> = WORLD?.run ?? {};

export const EMBEDDED = HAS_WORLD
  ? { folder: 'world/model/', label: 'world model (embedded)', about: 'a four-layer Qwen3 (0.9M parameters) that the project pretrained for the task world it ships with' }
  : { folder: 'models/tiny-qwen3/', label: 'tiny-qwen3 (embedded)', about: 'a seeded two-layer Qwen3 with random weights and a small BPE tokenizer' };

/** Absolute URL of a file the app serves from public/. */
export function publicUrl(path: string): string {
  return new URL(`${import.meta.env.BASE_URL}${path}`, window.location.href).href;
}
