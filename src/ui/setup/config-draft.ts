/**
 * The run configuration as the setup form holds it: a variant, the fields the user changed
 * (`overrides`, by field path) and text that is not a value yet (`drafts`, e.g. "1e-" while
 * typing). The effective config is the variant's defaults, the embedded world's settings when
 * its suite is chosen, then the overrides; it is validated by the config object's own
 * `validatePmdConfig` on every change, so each field shows its problem until it is fixed.
 */
import { PMD_FIELDS, validatePmdConfig, variantDefaults, type PmdConfig, type Variant } from '../../worker/protocol';
import { getPath, mergeConfig, setPath, type ConfigField, type ConfigProblem } from '../../util/config-fields';

export interface ConfigDraft {
  variant: Variant;
  overrides: Record<string, unknown>;
  drafts: Record<string, string>;
}

export const FIELD_BY_PATH = new Map<string, ConfigField>(PMD_FIELDS.map((f) => [f.path, f]));

/** Defaults under the user's changes: the variant's, with `base` (e.g. the world's run.json) laid over. */
export function baseConfig(variant: Variant, base: Record<string, unknown>): PmdConfig {
  return mergeConfig(variantDefaults(variant), { ...base, variant });
}

export function nestOverrides(overrides: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> = {};
  for (const [path, v] of Object.entries(overrides)) if (FIELD_BY_PATH.has(path)) out = setPath(out, path, v);
  return out;
}

export function effectiveConfig(d: ConfigDraft, base: Record<string, unknown>): PmdConfig {
  return mergeConfig(baseConfig(d.variant, base), nestOverrides(d.overrides));
}

/** Every problem: text that is not a value, then the config's own validation. */
export function draftProblems(d: ConfigDraft, base: Record<string, unknown>): ConfigProblem[] {
  const problems: ConfigProblem[] = Object.entries(d.drafts).map(([path, text]) => ({ path, message: describeUnparsed(FIELD_BY_PATH.get(path), text) }));
  const drafted = new Set(Object.keys(d.drafts));
  return [...problems, ...validatePmdConfig(effectiveConfig(d, base)).filter((p) => !drafted.has(p.path))];
}

function describeUnparsed(f: ConfigField | undefined, text: string): string {
  if (!f || f.spec.kind !== 'number') return `"${text}" is not a valid value`;
  if (text.trim() === '') return f.spec.nullable ? 'enter a number, or leave empty for the default' : 'enter a number';
  return `"${text}" is not ${f.spec.integer ? 'a whole number' : 'a number'}`;
}

/**
 * Read a number field's text: a number, null (empty and nullable), or undefined when the text
 * is not a number at all. Range checks are left to validation, so the field can say what the
 * range is.
 */
export function parseNumberText(f: ConfigField, text: string): number | null | undefined {
  const t = text.trim();
  if (t === '') return f.spec.kind === 'number' && f.spec.nullable ? null : undefined;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

/** The valid range of a number field in words, e.g. "whole number, 1 to 4096". */
export function describeRange(f: ConfigField): string {
  const s = f.spec;
  switch (s.kind) {
    case 'number': {
      const what = s.integer ? 'whole number' : 'number';
      const lo = s.min === undefined ? null : `${s.above ? '>' : '≥'} ${s.min}`;
      const hi = s.max === undefined ? null : `≤ ${s.max}`;
      const range = lo && hi ? `${s.above ? `above ${s.min}` : s.min} to ${s.max}` : (lo ?? hi ?? 'any');
      return `${what}, ${range}${s.nullable ? `, or empty (${f.nullMeans ?? 'default'})` : ''}`;
    }
    case 'enum':
      return `one of ${s.values.join(', ')}`;
    case 'set':
      return `any of ${s.values.join(', ')}`;
    case 'boolean':
      return 'on or off';
    case 'string':
      return s.nullable ? 'text, or empty' : 'text';
  }
}

/** Set one field from the form: a value (kept as an override unless it equals the default) or unparsed text. */
export function applyField(d: ConfigDraft, base: Record<string, unknown>, path: string, value: unknown, text?: string): ConfigDraft {
  const overrides = { ...d.overrides };
  const drafts = { ...d.drafts };
  if (value === undefined) {
    drafts[path] = text ?? '';
    return { ...d, drafts };
  }
  delete drafts[path];
  const def = getPath(baseConfig(d.variant, base), path);
  if (JSON.stringify(def) === JSON.stringify(value)) delete overrides[path];
  else overrides[path] = value;
  return { ...d, overrides, drafts };
}

/** Choose a variant: its preset's fields take the preset's values (the user's other changes stay). */
export function applyVariant(d: ConfigDraft, variant: Variant, presetPaths: readonly string[]): ConfigDraft {
  const overrides = { ...d.overrides };
  const drafts = { ...d.drafts };
  for (const p of [...presetPaths, 'variant']) {
    for (const k of Object.keys(overrides)) if (k === p || k.startsWith(`${p}.`)) delete overrides[k];
    for (const k of Object.keys(drafts)) if (k === p || k.startsWith(`${p}.`)) delete drafts[k];
  }
  return { variant, overrides, drafts };
}

/** Dotted paths a preset sets (its leaves). */
export function presetPaths(preset: Record<string, unknown>, prefix = ''): string[] {
  return Object.entries(preset).flatMap(([k, v]) => {
    const p = prefix ? `${prefix}.${k}` : k;
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? presetPaths(v as Record<string, unknown>, p) : [p];
  });
}
