/**
 * The embedded default (issue 11): the tiny model and task world shipped in public/world/, used
 * by `pmd-lab run` and `pmd-lab eval` when no model and no tasks are given.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { FileArgumentError } from './args';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const WORLD = {
  model: `${ROOT}public/world/model`,
  tasks: `${ROOT}public/world/tasks.jsonl`,
  /** The world's run settings (a partial PmdConfig), laid under a user's config. */
  runConfig: `${ROOT}public/world/run.json`,
};

export function requireWorld(): void {
  if (!existsSync(`${WORLD.model}/config.json`) || !existsSync(WORLD.tasks)) {
    throw new FileArgumentError(`the embedded default world is missing (${WORLD.model}); give --model and --tasks, or rebuild it with npm run build:world`);
  }
}

/** The world's run settings, or {} when it ships none. */
export async function worldRunConfig(): Promise<Record<string, unknown>> {
  if (!existsSync(WORLD.runConfig)) return {};
  return JSON.parse(await readFile(WORLD.runConfig, 'utf8')) as Record<string, unknown>;
}
