/** A small `--flag value` parser with typed, strict getters and clear errors. */
import { ConfigError, describeDefault, parseFlagValue, setPath, type ConfigField } from '../util/config-fields';

export class UsageError extends Error {
  override name = 'UsageError';
}

/** A file named on the command line that cannot be used (missing, unreadable, in the way). */
export class FileArgumentError extends Error {
  override name = 'FileArgumentError';
}

const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INTEGER_RE = /^[+-]?\d+$/;

export class Args {
  private readonly args: string[] = [];
  /** Whether the command read its positional arguments (then they are not stray). */
  private argsRead = false;
  private readonly flags = new Map<string, string | true>();
  private readonly used = new Set<string>();

  constructor(argv: readonly string[], booleanFlags: readonly string[] = []) {
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i];
      if (a.startsWith('--')) {
        const eq = a.indexOf('=');
        const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
        if (this.flags.has(name)) throw new UsageError(`--${name} is given twice`);
        if (eq > 0 && booleanFlags.includes(name)) throw new UsageError(`--${name} takes no value (got "${a}")`);
        if (eq > 0) this.flags.set(name, a.slice(eq + 1));
        else if (booleanFlags.includes(name)) this.flags.set(name, true);
        else {
          const v = argv[i + 1];
          if (v === undefined || (v.startsWith('--') && v.length > 2)) throw new UsageError(`--${name} needs a value`);
          this.flags.set(name, v);
          i++;
        }
      } else this.args.push(a);
    }
  }

  /** The arguments that are not flags; reading them says the command takes some. */
  get positional(): readonly string[] {
    this.argsRead = true;
    return this.args;
  }

  has(name: string): boolean {
    this.used.add(name);
    return this.flags.has(name);
  }

  string(name: string): string | undefined {
    this.used.add(name);
    const v = this.flags.get(name);
    if (v === true) throw new UsageError(`--${name} needs a value`);
    return v;
  }

  required(name: string): string {
    const v = this.string(name);
    if (v === undefined) throw new UsageError(`--${name} is required`);
    return v;
  }

  /** A decimal number (no hex, no Infinity, no empty string). */
  number(name: string, fallback: number): number {
    const v = this.string(name);
    if (v === undefined) return fallback;
    if (!NUMBER_RE.test(v.trim())) throw new UsageError(`--${name} must be a number, got "${v}"`);
    return Number(v);
  }

  /** A whole number written with digits only ("1e2" and "0x10" are refused). */
  integer(name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.string(name);
    if (v === undefined) return fallback;
    if (!INTEGER_RE.test(v.trim())) throw new UsageError(`--${name} must be a whole number, got "${v}"`);
    const n = Number(v);
    if (n < min || n > max) throw new UsageError(`--${name} must be between ${min} and ${max}, got ${n}`);
    return n;
  }

  /**
   * A partial config from the flags of `fields` that were given (parsed per field type), laid
   * over `base`. Validation of ranges is the config's job (resolve*Config).
   */
  config<T>(fields: readonly ConfigField[], base: T): T {
    let out = base;
    for (const f of fields) {
      if (!f.flag) continue;
      if (f.spec.kind === 'boolean' && this.flags.get(f.flag) === true) {
        this.used.add(f.flag);
        out = setPath(out, f.path, true);
        continue;
      }
      const text = this.string(f.flag);
      if (text === undefined) continue;
      try {
        out = setPath(out, f.path, parseFlagValue(f, text));
      } catch (e) {
        if (e instanceof ConfigError) throw new UsageError(`--${f.flag} ${e.problems[0].message}`);
        throw e;
      }
    }
    return out;
  }

  /** Fail on flags no command asked about, and on arguments it does not take, so typos do not pass silently. */
  rejectUnknown(): void {
    const unknown = [...this.flags.keys()].filter((k) => !this.used.has(k));
    if (unknown.length) throw new UsageError(`unknown option${unknown.length > 1 ? 's' : ''}: ${unknown.map((u) => `--${u}`).join(' ')}`);
    // e.g. a value after a flag that takes none: `--stop-at-eos yes`
    if (!this.argsRead && this.args.length) throw new UsageError(`unexpected argument "${this.args[0]}"`);
  }
}

/** Usage lines for the flags of some config fields: `--flag <value>  help (default: x)`. */
export function configFlagHelp(fields: readonly ConfigField[], defaults: unknown, indent = '            '): string {
  return fields
    .filter((f) => f.flag)
    .map((f) => `${indent}--${f.flag}${f.spec.kind === 'boolean' ? '' : ' <value>'}  ${f.help} (default: ${describeDefault(f, defaults)})`)
    .join('\n');
}

/** `1,2,3;4,5` -> [[1,2,3],[4,5]]; every id is digits only. */
export function parseIdLists(text: string, vocabSize?: number): number[][] {
  const seqs = text.split(';').map((s) => s.trim());
  return seqs.map((s, i) => {
    if (s === '') throw new UsageError(`--ids: sequence ${i + 1} is empty`);
    return s.split(',').map((t) => {
      const v = Number(t.trim());
      if (!/^\d+$/.test(t.trim()) || !Number.isSafeInteger(v)) throw new UsageError(`--ids: "${t}" in sequence ${i + 1} is not a token id`);
      if (vocabSize !== undefined && v >= vocabSize) throw new UsageError(`--ids: token ${v} is outside the vocabulary (size ${vocabSize})`);
      return v;
    });
  });
}
