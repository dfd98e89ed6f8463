/**
 * A response as its tokens, each a text span colored by a per-token number: the student's
 * log-probability when it was sampled (redder: less likely), or the teacher-student divergence
 * after the update (darker violet: larger). The numbers are in each token's tooltip. Tokens are
 * text nodes: model output never becomes markup.
 */
import type { RolloutView } from '../../../worker/protocol';

export type Coloring = 'logprob' | 'divergence';

/** Log-probs at or below this are fully red. */
const LOGP_FLOOR = -8;

export function logprobColor(lp: number): string | undefined {
  if (!Number.isFinite(lp) || lp > -0.05) return undefined;
  const t = Math.min(1, -lp / -LOGP_FLOOR);
  return `rgba(214, 55, 46, ${(0.08 + 0.55 * t).toFixed(3)})`;
}

export function divergenceColor(d: number, scale: number): string | undefined {
  if (!Number.isFinite(d) || d <= 0 || scale <= 0) return undefined;
  const t = Math.min(1, d / scale);
  return `rgba(124, 58, 237, ${(0.06 + 0.6 * t).toFixed(3)})`;
}

function show(piece: string): string {
  return JSON.stringify(piece);
}

export function TokenText({ rollout, coloring, className }: { rollout: RolloutView; coloring: Coloring; className?: string }) {
  const tv = rollout.tokensView;
  const useDiv = coloring === 'divergence' && tv !== null;
  const scale = useDiv ? Math.max(0.05, ...tv.divergence.filter(Number.isFinite)) : 0;
  const pieces = rollout.pieces;
  return (
    <p className={`tokens ${className ?? ''}`} data-coloring={useDiv ? 'divergence' : 'logprob'}>
      {pieces.map((piece, i) => {
        const lp = rollout.logprobs[i];
        const title = useDiv
          ? `${show(piece)} · student log p ${tv.studentLogp[i]?.toFixed(3) ?? '?'} · teacher log p ${tv.teacherLogp[i]?.toFixed(3) ?? '?'} · divergence ${tv.divergence[i]?.toFixed(4) ?? '?'}`
          : `${show(piece)} · log p ${lp === undefined ? '?' : lp.toFixed(3)} (p ${lp === undefined ? '?' : Math.exp(lp).toFixed(3)})`;
        const bg = useDiv ? divergenceColor(tv.divergence[i] ?? 0, scale) : logprobColor(lp ?? 0);
        return (
          <span key={i} className="tok" style={bg ? { background: bg } : undefined} title={title}>
            {piece}
          </span>
        );
      })}
      {rollout.tokens.length === 0 ? <span className="muted">(empty response)</span> : null}
    </p>
  );
}

export function ColorLegend({ coloring, scale }: { coloring: Coloring; scale?: number }) {
  return coloring === 'divergence' ? (
    <span className="legend" aria-label="Token color: teacher-student divergence">
      <span className="legend-bar legend-div" aria-hidden="true" /> divergence 0 → {scale !== undefined ? scale.toFixed(3) : 'max of the response'}
    </span>
  ) : (
    <span className="legend" aria-label="Token color: student log-probability">
      <span className="legend-bar legend-logp" aria-hidden="true" /> log p 0 → {LOGP_FLOOR} (redder: less likely)
    </span>
  );
}
