/**
 * Curves of the open run per step: reward, loss, divergence, masked attempts, evaluation
 * (memory-free, or with memory where the run evaluates that way: frozen policy), memory sizes
 * per level, and seconds per phase; smoothing; and other runs overlaid, each labelled with only
 * the settings that differ from the open run's.
 */
import { useEffect, useMemo } from 'react';
import type { PmdConfig, StepMetric } from '../../../worker/protocol';
import { useLayout } from '../../layout';
import { NoRun, Panel, useRecordIndex } from '../Panel';
import type { Timing } from '../records';
import { useRun } from '../store';
import { loadSeries, seriesOf, useOverlay } from './overlay';
import { align, differenceLabel, lineOf, phaseLines, smooth, type Line, type Pick } from './series';
import { UPlotChart, type ChartSeries } from './UPlotChart';

const RUN_COLORS = ['#2f5bd3', '#d0452f', '#1f8a4c', '#a35bd3', '#c98a0b', '#1d9aa6'];
const LEVEL_COLORS = { experience: '#1f8a4c', insights: '#c98a0b', behaviors: '#a35bd3' };
const PHASE_COLORS: Record<string, string> = { rollout: '#2f5bd3', verify: '#1d9aa6', experience: '#1f8a4c', insight: '#c98a0b', behavior: '#a35bd3', teacher: '#d3427f', update: '#d0452f', evaluate: '#4b5563' };

interface RunLines {
  name: string;
  config: PmdConfig;
  metrics: StepMetric[];
  timings: Timing[];
}

const METRIC_CHARTS: { key: string; title: string; pick: Pick; range?: [number, number] }[] = [
  { key: 'reward', title: 'Mean reward of the step’s attempts', pick: (m) => m.reward_mean, range: [0, 1] },
  { key: 'loss', title: 'Loss of the update', pick: (m) => m.loss },
  { key: 'divergence', title: 'Mean teacher-student divergence per token', pick: (m) => m.divergence_mean },
  { key: 'masked', title: 'Masked attempts (teacher context added nothing)', pick: (m) => m.masked },
];

export function CurvesPanel() {
  const openId = useRun((s) => s.open?.meta.id ?? null);
  const config = useRun((s) => s.open?.view.config ?? null);
  const runs = useRun((s) => s.runs);
  const [ix, version] = useRecordIndex();
  const smoothing = useLayout((s) => s.smoothing);
  const overlay = useLayout((s) => s.overlay);
  const setLayout = useLayout((s) => s.setLayout);
  const loaded = useOverlay((s) => s.runs);
  const others = runs.filter((m) => m.id !== openId);
  const shownOthers = useMemo(() => overlay.filter((id) => id !== openId && runs.some((m) => m.id === id)), [overlay, openId, runs]);
  useEffect(() => {
    for (const id of shownOthers) void loadSeries(id);
  }, [shownOthers]);

  const lines: RunLines[] = useMemo(() => {
    if (!config) return [];
    const own: RunLines = { name: 'this run', config, metrics: [...ix.metrics], timings: [...ix.timings] };
    const rest = shownOthers.flatMap((id) => {
      const s = seriesOf(loaded[id]);
      const meta = runs.find((m) => m.id === id);
      return s && meta ? [{ name: `${meta.name} (${differenceLabel(config, s.config)})`, config: s.config, metrics: s.metrics, timings: s.timings }] : [];
    });
    return [own, ...rest];
  }, [config, ix, version, shownOthers, loaded, runs]);

  return (
    <Panel
      id="curves"
      title="Curves"
      className="wide"
      tools={
        openId && (
          <>
            <label className="inline">
              <span>Smoothing</span>
              <input type="range" min={0} max={0.95} step={0.05} value={smoothing} onChange={(e) => setLayout({ smoothing: Number(e.target.value) })} aria-valuetext={smoothing === 0 ? 'none' : String(smoothing)} />
              <span className="mono">{smoothing === 0 ? 'off' : smoothing.toFixed(2)}</span>
            </label>
            {others.length > 0 && (
              <details className="overlay-pick">
                <summary>Overlay runs ({shownOthers.length})</summary>
                <ul>
                  {others.map((m) => (
                    <li key={m.id}>
                      <label className="check">
                        <input type="checkbox" checked={overlay.includes(m.id)} onChange={(e) => setLayout({ overlay: e.target.checked ? [...overlay, m.id] : overlay.filter((x) => x !== m.id) })} />
                        {m.name} <span className="hint">{m.summary}</span>
                      </label>
                    </li>
                  ))}
                </ul>
              </details>
            )}
          </>
        )
      }
    >
      {!openId ? (
        <NoRun what="curves" />
      ) : ix.metrics.length === 0 ? (
        <p className="muted empty">Curves start when the first step completes (each step writes one row of metrics).</p>
      ) : (
        <div className="charts">
          {METRIC_CHARTS.map((c) => (
            <RunChart key={c.key} id={c.key} title={c.title} lines={lines} pick={c.pick} smoothing={smoothing} range={c.range} />
          ))}
          <EvalChart lines={lines} smoothing={smoothing} />
          <MemoryChart own={lines[0]} smoothing={smoothing} />
          <PhaseChart own={lines[0]} />
        </div>
      )}
    </Panel>
  );
}

function facts(line: Line | undefined): { points: number; last: string } {
  const steps = line ? [...line.points.keys()].sort((a, b) => a - b) : [];
  const last = steps.length ? line!.points.get(steps[steps.length - 1])! : null;
  return { points: steps.length, last: last === null ? 'none' : String(Number(last.toPrecision(6))) };
}

function RunChart({ id, title, lines, pick, smoothing, range }: { id: string; title: string; lines: RunLines[]; pick: Pick; smoothing: number; range?: [number, number] }) {
  const raw = lines.map((l) => lineOf(l.metrics, pick));
  const shown = raw.map((l) => smooth(l, smoothing));
  const series: ChartSeries[] = lines.map((l, i) => ({ label: l.name, color: RUN_COLORS[i % RUN_COLORS.length], dash: i === 0 ? undefined : [5, 3] }));
  const f = facts(raw[0]);
  return <UPlotChart title={title} testId={`chart-${id}`} data={align(shown)} series={series} summary={`${f.points} steps, last ${f.last}`} dataAttrs={{ points: f.points, last: f.last }} yRange={range} />;
}

function EvalChart({ lines, smoothing }: { lines: RunLines[]; smoothing: number }) {
  const withMem = lines[0].metrics.some((m) => m.eval?.with_memory);
  const picks: [string, Pick][] = [
    ['avg@n', (m) => m.eval?.avg_at_n],
    ['pass@k', (m) => m.eval?.pass_at_k],
  ];
  const raw = lines.flatMap((l) => picks.map(([, p]) => lineOf(l.metrics, p)));
  const series: ChartSeries[] = lines.flatMap((l, i) => picks.map(([name], j) => ({ label: `${name} · ${l.name}`, color: RUN_COLORS[i % RUN_COLORS.length], dash: j === 0 ? undefined : [2, 3] })));
  const f = facts(raw[0]);
  const title = withMem ? 'Evaluation with memory in the prompt (frozen policy)' : 'Evaluation without memory (held-out split)';
  if (f.points === 0)
    return (
      <figure className="chart empty-chart" data-testid="chart-eval" data-points={0}>
        <figcaption>{title}</figcaption>
        <p className="hint">No evaluation yet: it runs every eval.every steps and after the last.</p>
      </figure>
    );
  return <UPlotChart title={title} testId="chart-eval" data={align(raw.map((l) => smooth(l, smoothing)))} series={series} summary={`${f.points} evaluations, last avg@n ${f.last}`} dataAttrs={{ points: f.points, last: f.last }} yRange={[0, 1]} />;
}

function MemoryChart({ own, smoothing }: { own: RunLines; smoothing: number }) {
  const levels = ['experience', 'insights', 'behaviors'] as const;
  const raw = levels.map((k) => lineOf(own.metrics, (m) => m.memory[k]));
  const f = facts(raw[0]);
  return (
    <UPlotChart
      title="Memory size per level (this run)"
      testId="chart-memory"
      data={align(raw.map((l) => smooth(l, smoothing)))}
      series={levels.map((k) => ({ label: k, color: LEVEL_COLORS[k] }))}
      summary={`${f.points} steps; last sizes ${levels.map((k, i) => `${k} ${facts(raw[i]).last}`).join(', ')}`}
      dataAttrs={{ points: f.points, last: levels.map((_, i) => facts(raw[i]).last).join('/') }}
    />
  );
}

function PhaseChart({ own }: { own: RunLines }) {
  const byPhase = phaseLines(own.timings);
  const phases = [...byPhase.keys()];
  const lines = phases.map((p) => byPhase.get(p)!);
  const total = own.timings.reduce((a, t) => a + t.ms, 0) / 1000;
  return (
    <UPlotChart
      title="Seconds per phase (this run)"
      testId="chart-time"
      yLabel="s"
      data={align(lines)}
      series={phases.map((p) => ({ label: p, color: PHASE_COLORS[p] ?? '#4b5563' }))}
      summary={`${phases.length} phases timed, ${total.toFixed(1)} s in all`}
      dataAttrs={{ points: own.timings.length }}
    />
  );
}
