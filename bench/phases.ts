/**
 * A PMD run's timing records (timings.jsonl on the CLI, IndexedDB in the browser) summed by
 * phase and effect, and printed as a markdown table, for bench/pmd-run.ts and bench/pmd-browser.ts.
 */

export interface PhaseSplit {
  /** Seconds per phase, then per effect within it. */
  effectS: Record<string, Record<string, number>>;
  /** Seconds per phase. */
  phaseS: Record<string, number>;
  /** Seconds of all effects. */
  effectsS: number;
}

export function phaseSplit(timings: readonly { phase?: unknown; effect?: unknown; ms?: unknown }[]): PhaseSplit {
  const effectS: Record<string, Record<string, number>> = {};
  for (const t of timings) {
    const phase = String(t.phase);
    const effect = String(t.effect);
    (effectS[phase] ??= {})[effect] = (effectS[phase][effect] ?? 0) + Number(t.ms) / 1000;
  }
  const phaseS = Object.fromEntries(Object.entries(effectS).map(([p, e]) => [p, Object.values(e).reduce((a, b) => a + b, 0)]));
  return { effectS, phaseS, effectsS: Object.values(phaseS).reduce((a, b) => a + b, 0) };
}

export function phaseTable({ effectS, phaseS, effectsS }: PhaseSplit): string {
  const rows = Object.entries(effectS).map(([p, e]) => `| ${p} | ${phaseS[p].toFixed(1)} | ${((100 * phaseS[p]) / effectsS).toFixed(0)}% | ${Object.entries(e).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')} |`);
  return `| phase | s | share | effects (s) |\n|---|---|---|---|\n${rows.join('\n')}`;
}
