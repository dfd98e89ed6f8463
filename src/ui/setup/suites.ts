/**
 * Task suites the setup offers: the four shipped with the app (public/tasks/), the embedded
 * world's when public/world/ exists, and one the user imported (a public dataset file converted
 * by the worker's `tasks-import`, or a file in the project's JSONL format).
 */
import { HAS_WORLD, publicUrl } from '../embedded';

export const SHIPPED_SUITES = [
  { name: 'arithmetic', about: 'one- or two-step word problems, numeric answers' },
  { name: 'science-mcq', about: 'short science questions, multiple choice' },
  { name: 'python-functions', about: 'small Python functions checked by unit tests' },
  { name: 'javascript-functions', about: 'small JavaScript functions checked by unit tests' },
] as const;

export type SuiteChoice = { kind: 'shipped'; name: string } | { kind: 'world' } | { kind: 'custom' };

/** A suite the user brought: its converted JSONL and where it came from. */
export interface CustomSuite {
  name: string;
  text: string;
  origin: string;
}

export const IMPORT_FORMATS = [
  { format: 'project', label: 'PMD Lab JSONL' },
  { format: 'gsm8k', label: 'GSM8K' },
  { format: 'sciknoweval', label: 'SciKnowEval' },
  { format: 'mbpp', label: 'MBPP' },
  { format: 'livecodebench', label: 'LiveCodeBench' },
] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number]['format'];

export const DEFAULT_SUITE: SuiteChoice = HAS_WORLD ? { kind: 'world' } : { kind: 'shipped', name: 'arithmetic' };

export function suiteName(c: SuiteChoice, custom: CustomSuite | null): string {
  if (c.kind === 'world') return 'world';
  if (c.kind === 'shipped') return c.name;
  return custom?.name ?? 'imported suite';
}

/** The suite's JSONL text (fetched for shipped suites). */
export async function suiteText(c: SuiteChoice, custom: CustomSuite | null): Promise<string> {
  if (c.kind === 'custom') {
    if (!custom) throw new Error('import a task file first');
    return custom.text;
  }
  const url = c.kind === 'world' ? publicUrl('world/tasks.jsonl') : publicUrl(`tasks/${c.name}.jsonl`);
  const res = await fetch(url);
  if (!res.ok) throw new Error(`could not fetch ${url}: HTTP ${res.status}`);
  return res.text();
}

export function isValidChoice(v: unknown): v is SuiteChoice {
  if (typeof v !== 'object' || v === null) return false;
  const c = v as Record<string, unknown>;
  if (c.kind === 'world') return HAS_WORLD;
  if (c.kind === 'custom') return true;
  return c.kind === 'shipped' && SHIPPED_SUITES.some((s) => s.name === c.name);
}
