/**
 * Declarative configuration fields: each algorithm's config (TrainConfig, PmdConfig) lists its
 * fields once, with the path into the config object, a one-line explanation, the valid values
 * and, where the command line offers it, a flag. Validation, the CLI flags and the UI forms are
 * all derived from that list, so a default or a range lives in exactly one place.
 */
import { isRecord } from './records';

export type FieldSpec =
  | { kind: 'number'; min?: number; max?: number; integer?: boolean; /** min itself is not allowed */ above?: boolean; nullable?: boolean }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'boolean' }
  | { kind: 'set'; values: readonly string[]; minItems?: number; /** what one value is, for messages */ item?: string }
  | { kind: 'string'; nullable?: boolean; minLength?: number };

export interface ConfigField {
  /** Dotted path into the config object, e.g. "optimizer.lr". */
  path: string;
  /** One line a researcher reads next to the field. */
  help: string;
  spec: FieldSpec;
  /** Command-line flag without the dashes, when the CLI offers one. */
  flag?: string;
  /** What null means, for nullable fields (e.g. "twice the rank"). */
  nullMeans?: string;
}

export interface ConfigProblem {
  /** Dotted path of the offending field ("" for the object itself). */
  path: string;
  message: string;
}

/** A configuration that failed validation; the message lists every problem with its path. */
export class ConfigError extends Error {
  constructor(readonly what: string, readonly problems: ConfigProblem[]) {
    super(`${what}: ${problems.map((p) => (p.path ? `${p.path}: ${p.message}` : p.message)).join('; ')}`);
    this.name = 'ConfigError';
  }
}

export function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const k of path.split('.')) {
    if (!isRecord(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

/** A copy of `obj` with the value at `path` replaced (intermediate objects copied, never shared). */
export function setPath<T>(obj: T, path: string, value: unknown): T {
  const keys = path.split('.');
  const root: Record<string, unknown> = { ...(obj as Record<string, unknown>) };
  let cur = root;
  for (let i = 0; i < keys.length - 1; i++) {
    const next = cur[keys[i]];
    cur[keys[i]] = isRecord(next) ? { ...next } : {};
    cur = cur[keys[i]] as Record<string, unknown>;
  }
  cur[keys[keys.length - 1]] = value;
  return root as T;
}

/** Problems of one value against its spec (empty when fine). */
export function checkField(f: ConfigField, v: unknown): string | null {
  const s = f.spec;
  switch (s.kind) {
    case 'number': {
      if (v === null && s.nullable) return null;
      if (typeof v !== 'number' || !Number.isFinite(v)) return `must be a finite number${s.nullable ? ' or null' : ''}, got ${JSON.stringify(v)}`;
      const what = s.integer ? 'a whole number' : 'a number';
      if (s.integer && !Number.isInteger(v)) return `must be a whole number, got ${v}`;
      if (s.min !== undefined && (s.above ? v <= s.min : v < s.min)) return `must be ${what} ${s.above ? '>' : '>='} ${s.min}, got ${v}`;
      if (s.max !== undefined && v > s.max) return `must be ${what} <= ${s.max}, got ${v}`;
      return null;
    }
    case 'enum':
      return typeof v === 'string' && s.values.includes(v) ? null : `must be one of ${s.values.map((x) => JSON.stringify(x)).join(', ')}, got ${JSON.stringify(v)}`;
    case 'boolean':
      return typeof v === 'boolean' ? null : `must be true or false, got ${JSON.stringify(v)}`;
    case 'set': {
      if (!Array.isArray(v)) return `must be a list of ${s.values.join(', ')}`;
      const bad = v.filter((x) => typeof x !== 'string' || !s.values.includes(x));
      const item = s.item ?? 'value';
      if (bad.length) return `unknown ${item}${bad.length > 1 ? 's' : ''} ${bad.map((x) => JSON.stringify(x)).join(', ')}; known: ${s.values.join(', ')}`;
      if (new Set(v).size !== v.length) return 'lists a value twice';
      if (s.minItems !== undefined && v.length < s.minItems) return `needs at least ${s.minItems} value${s.minItems > 1 ? 's' : ''}`;
      return null;
    }
    case 'string':
      if (v === null && s.nullable) return null;
      if (typeof v !== 'string') return `must be a string${s.nullable ? ' or null' : ''}, got ${JSON.stringify(v)}`;
      if (s.minLength !== undefined && v.length < s.minLength) return `must have at least ${s.minLength} character${s.minLength > 1 ? 's' : ''}`;
      return null;
  }
}

/** Every problem of a config: unknown keys (compared with `defaults`), then each field. */
export function validateFields(fields: readonly ConfigField[], defaults: unknown, value: unknown): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  if (!isRecord(value)) return [{ path: '', message: 'must be a JSON object' }];
  const walk = (d: unknown, v: unknown, prefix: string) => {
    if (!isRecord(d) || !isRecord(v)) return;
    for (const k of Object.keys(v)) {
      const p = prefix ? `${prefix}.${k}` : k;
      if (!(k in d)) problems.push({ path: p, message: `unknown field (known: ${Object.keys(d).join(', ')})` });
      else if (isRecord(d[k])) {
        if (!isRecord(v[k])) problems.push({ path: p, message: 'must be an object' });
        else walk(d[k], v[k], p);
      }
    }
  };
  walk(defaults, value, '');
  for (const f of fields) {
    const msg = checkField(f, getPath(value, f.path));
    if (msg) problems.push({ path: f.path, message: msg });
  }
  return problems;
}

/** `defaults` with every key `partial` gives replaced, recursively (plain data; arrays replaced whole). */
export function mergeConfig<T>(defaults: T, partial: unknown): T {
  if (!isRecord(defaults) || !isRecord(partial)) return (partial === undefined ? defaults : partial) as T;
  const out: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(partial)) {
    if (v === undefined) continue;
    out[k] = isRecord(out[k]) && isRecord(v) ? mergeConfig(out[k], v) : v;
  }
  return out as T;
}

/** Parse a command-line flag's text as the field's type (strict: "1e2" is not a whole number). */
export function parseFlagValue(f: ConfigField, text: string): unknown {
  const s = f.spec;
  const fail = (msg: string): never => {
    throw new ConfigError(`--${f.flag}`, [{ path: f.path, message: msg }]);
  };
  switch (s.kind) {
    case 'number': {
      if (s.nullable && text === 'null') return null;
      const t = text.trim();
      const ok = s.integer ? /^[+-]?\d+$/.test(t) : /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t);
      if (!ok) fail(`"${text}" is not ${s.integer ? 'a whole number' : 'a number'}`);
      return Number(t);
    }
    case 'enum':
    case 'string':
      return text;
    case 'boolean':
      if (text === 'true' || text === '1') return true;
      if (text === 'false' || text === '0') return false;
      return fail(`"${text}" is not true or false`);
    case 'set':
      return text
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
  }
}

/** The default of a field, formatted for help text. */
export function describeDefault(f: ConfigField, defaults: unknown): string {
  const v = getPath(defaults, f.path);
  if (v === null) return f.nullMeans ?? 'none';
  return Array.isArray(v) ? v.join(',') : String(v);
}
