/** The loss per optimizer step as a small SVG line chart (values also listed for screen readers). */
import type { StepPoint } from './store';

const W = 320;
const H = 110;
const PAD = { left: 40, right: 8, top: 8, bottom: 18 };

export function LossChart({ points }: { points: StepPoint[] }) {
  if (points.length === 0) return <p className="hint">The loss curve appears here once training runs.</p>;
  const losses = points.map((p) => p.loss);
  let lo = Math.min(...losses);
  let hi = Math.max(...losses);
  if (hi - lo < 1e-9) {
    lo -= 0.5;
    hi += 0.5;
  }
  const first = points[0].step;
  const last = points[points.length - 1].step;
  const x = (step: number) => PAD.left + (last === first ? 0.5 : (step - first) / (last - first)) * (W - PAD.left - PAD.right);
  const y = (loss: number) => PAD.top + (1 - (loss - lo) / (hi - lo)) * (H - PAD.top - PAD.bottom);
  const path = points.map((p) => `${x(p.step).toFixed(1)},${y(p.loss).toFixed(1)}`).join(' ');
  return (
    <figure className="loss-chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`Loss from ${losses[0].toFixed(4)} to ${losses[losses.length - 1].toFixed(4)} over steps ${first} to ${last}`} data-testid="loss-chart">
        <line x1={PAD.left} y1={H - PAD.bottom} x2={W - PAD.right} y2={H - PAD.bottom} className="axis" />
        <line x1={PAD.left} y1={PAD.top} x2={PAD.left} y2={H - PAD.bottom} className="axis" />
        <text x={PAD.left - 4} y={PAD.top + 8} textAnchor="end">{hi.toPrecision(3)}</text>
        <text x={PAD.left - 4} y={H - PAD.bottom} textAnchor="end">{lo.toPrecision(3)}</text>
        <text x={PAD.left} y={H - 4}>{first}</text>
        <text x={W - PAD.right} y={H - 4} textAnchor="end">{last}</text>
        <polyline points={path} className="curve" data-points={points.length} />
        {points.length <= 60 && points.map((p) => <circle key={p.step} cx={x(p.step)} cy={y(p.loss)} r={1.8} className="dot" />)}
      </svg>
      <figcaption>
        loss per step (response-token mean cross-entropy); last <strong data-testid="last-loss">{losses[losses.length - 1].toFixed(4)}</strong>
      </figcaption>
    </figure>
  );
}
