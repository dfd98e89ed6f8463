/**
 * One uPlot chart that fills its container's width: created once per set of series (labels,
 * colors), fed new data in place, resized with its container. Colors of axes and grid follow
 * the page's theme.
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  color: string;
  dash?: number[];
}

export interface UPlotChartProps {
  title: string;
  /** x values (steps), then one y array per series (null: no value at that x). */
  data: [number[], ...(number | null)[][]];
  series: ChartSeries[];
  height?: number;
  yLabel?: string;
  testId?: string;
  /** Facts for tests and screen readers (e.g. points and last value of the open run's series). */
  summary: string;
  dataAttrs?: Record<string, string | number>;
  /** A fixed y range (e.g. [0, 1] for rewards); otherwise from the data, from 0 when all values are >= 0. */
  yRange?: [number, number];
}

function themeColor(name: string, fallback: string): string {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

export function UPlotChart({ title, data, series, height = 170, yLabel, testId, summary, dataAttrs, yRange }: UPlotChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = JSON.stringify(series) + title + JSON.stringify(yRange ?? null);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const text = themeColor('--muted', '#667085');
    const grid = themeColor('--border', '#dde1e7');
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      legend: { show: true, live: false },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: false },
        y: {
          range: (_u, lo, hi): [number, number] => {
            if (yRange) return [Math.min(yRange[0], lo), Math.max(yRange[1], hi)];
            const min = lo >= 0 ? 0 : lo;
            const max = hi > min ? hi + (hi - min) * 0.08 : min + 1;
            return [min, max];
          },
        },
      },
      axes: [
        { ...axis, label: 'step', labelSize: 14, size: 30, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] },
        { ...axis, label: yLabel, labelSize: yLabel ? 14 : 0, size: 48 },
      ],
      series: [{ label: 'step' }, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 1.6, dash: s.dash, spanGaps: true, points: { show: true, size: 4 } }))],
    };
    const u = new uPlot(opts, data as uPlot.AlignedData, el);
    plot.current = u;
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
    // Recreated only when the series change; data updates go through setData below.
  }, [shape, height]);

  useEffect(() => {
    plot.current?.setData(data as uPlot.AlignedData);
  }, [data]);

  const attrs = Object.fromEntries(Object.entries(dataAttrs ?? {}).map(([k, v]) => [`data-${k}`, String(v)]));
  return (
    <figure className="chart" data-testid={testId} {...attrs}>
      <figcaption>{title}</figcaption>
      <div ref={box} className="chart-box" role="img" aria-label={`${title}: ${summary}`} />
    </figure>
  );
}
