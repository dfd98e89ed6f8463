/**
 * The model the app opens by default, as the specs see it on disk: the embedded world's model
 * when public/world/ holds one (vite.config.ts makes the same check), else the seeded tiny-qwen3.
 */
import { existsSync, readFileSync } from 'node:fs';

const WORLD = existsSync('public/world/model/config.json');

/** Folder of the embedded model's files, relative to the repository root. */
export const EMBEDDED_DIR = WORLD ? 'public/world/model' : 'public/models/tiny-qwen3';

/** The label the app gives it (the model summary, file names of downloads). */
export const EMBEDDED_LABEL = WORLD ? 'world model (embedded)' : 'tiny-qwen3 (embedded)';

/** The label as a file-name stem, as the app writes it in download names. */
export const EMBEDDED_STEM = EMBEDDED_LABEL.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '');

/** The embedded model's vocabulary size (its config.json), the bound of every token id it writes. */
export const EMBEDDED_VOCAB = (JSON.parse(readFileSync(`${EMBEDDED_DIR}/config.json`, 'utf8')) as { vocab_size: number }).vocab_size;
