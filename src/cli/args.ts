/** A small `--flag value` parser with typed getters and clear errors. */

export class UsageError extends Error {
  override name = 'UsageError';
}

export class Args {
  readonly positional: string[] = [];
  private readonly flags = new Map<string, string | true>();
  private readonly used = new Set<string>();

  constructor(argv: readonly string[], booleanFlags: readonly string[] = []) {
    for (let i = 0; i < argv.length; i++) {
      const a = argv[i];
      if (a.startsWith('--')) {
        const eq = a.indexOf('=');
        const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
        if (eq > 0) this.flags.set(name, a.slice(eq + 1));
        else if (booleanFlags.includes(name)) this.flags.set(name, true);
        else {
          const v = argv[i + 1];
          if (v === undefined || (v.startsWith('--') && v.length > 2)) throw new UsageError(`--${name} needs a value`);
          this.flags.set(name, v);
          i++;
        }
      } else this.positional.push(a);
    }
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

  number(name: string, fallback: number): number {
    const v = this.string(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got "${v}"`);
    return n;
  }

  integer(name: string, fallback: number, min = 0): number {
    const n = this.number(name, fallback);
    if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be a whole number >= ${min}, got ${n}`);
    return n;
  }

  /** Fail on flags no command asked about, so typos do not pass silently. */
  rejectUnknown(): void {
    const unknown = [...this.flags.keys()].filter((k) => !this.used.has(k));
    if (unknown.length) throw new UsageError(`unknown option${unknown.length > 1 ? 's' : ''}: ${unknown.map((u) => `--${u}`).join(' ')}`);
  }
}

/** `1,2,3;4,5` -> [[1,2,3],[4,5]] */
export function parseIdLists(text: string, vocabSize?: number): number[][] {
  const seqs = text.split(';').map((s) => s.trim());
  return seqs.map((s, i) => {
    if (s === '') throw new UsageError(`--ids: sequence ${i + 1} is empty`);
    return s.split(',').map((t) => {
      const v = Number(t.trim());
      if (t.trim() === '' || !Number.isInteger(v) || v < 0) throw new UsageError(`--ids: "${t}" in sequence ${i + 1} is not a token id`);
      if (vocabSize !== undefined && v >= vocabSize) throw new UsageError(`--ids: token ${v} is outside the vocabulary (size ${vocabSize})`);
      return v;
    });
  });
}
