/**
 * Behavior clusters: the run's questions on a 2-D map (the worker projects their embeddings with
 * umap-js: run-map), colored by k-means cluster, with each cluster's problems and behaviors.
 * Hovering a point names its question; clicking selects the problem everywhere. The map is
 * fetched again when memory gains questions or the bank is consolidated.
 */
import { useEffect, useMemo, useState } from 'react';
import { loadMap } from '../controller';
import { NoRun, Panel } from '../Panel';
import { useSelection } from '../selection';
import { useRun, type RunMap } from '../store';

const PALETTE = ['#2f5bd3', '#d0452f', '#1f8a4c', '#a35bd3', '#c98a0b', '#1d9aa6', '#d3427f', '#6b7a1f', '#7a4b2a', '#4b5563'];
export const clusterColor = (i: number) => PALETTE[i % PALETTE.length];

const W = 420;
const H = 280;
const PAD = 14;

export function ClustersPanel() {
  const openId = useRun((s) => s.open?.meta.id ?? null);
  const memory = useRun((s) => s.open?.view.memory ?? null);
  const map = useRun((s) => s.map);
  const busy = useRun((s) => s.mapBusy);
  const open = openId !== null;
  const questions = memory ? Object.values(memory.problems).filter((p) => p.question).length : 0;
  const key = memory ? `${openId}|${questions}|${memory.consolidations}|${memory.behaviors.length}` : null;
  const [loadedFor, setLoadedFor] = useState<string | null>(null);
  useEffect(() => {
    if (!key || questions === 0 || key === loadedFor) return;
    setLoadedFor(key);
    void loadMap();
  }, [key, questions, loadedFor]);
  const stale = map && map.runId !== openId;
  return (
    <Panel
      id="clusters"
      title="Behavior clusters"
      tools={
        open && (
          <button type="button" className="link" disabled={busy || questions === 0} onClick={() => void loadMap()}>
            {busy ? 'Computing…' : 'Refresh map'}
          </button>
        )
      }
    >
      {!open ? (
        <NoRun what="the cluster map" />
      ) : questions === 0 ? (
        <p className="muted empty">No question embeddings yet: memory records each problem’s question in the experience phase.</p>
      ) : !map || stale ? (
        <p className="muted empty">{busy ? 'Projecting the question embeddings…' : 'The map appears here.'}</p>
      ) : (
        <MapView map={map} />
      )}
    </Panel>
  );
}

function MapView({ map }: { map: RunMap }) {
  const problem = useSelection((s) => s.problem);
  const behavior = useSelection((s) => s.behavior);
  const selectProblem = useSelection((s) => s.selectProblem);
  const selectBehavior = useSelection((s) => s.selectBehavior);
  const [hover, setHover] = useState<string | null>(null);
  const xy = useMemo(() => {
    const xs = map.points.map((p) => p.x);
    const ys = map.points.map((p) => p.y);
    const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
    const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
    const sx = (x: number) => PAD + (x1 > x0 ? (x - x0) / (x1 - x0) : 0.5) * (W - 2 * PAD);
    const sy = (y: number) => PAD + (y1 > y0 ? 1 - (y - y0) / (y1 - y0) : 0.5) * (H - 2 * PAD);
    return new Map(map.points.map((p) => [p.id, [sx(p.x), sy(p.y)] as const]));
  }, [map]);
  const behaviorProblems = useMemo(() => new Set(map.clusters.filter((c) => behavior && c.behaviors.includes(behavior)).flatMap((c) => c.members)), [map, behavior]);
  const hovered = hover ? map.points.find((p) => p.id === hover) : null;
  return (
    <div className="clusters" data-testid="cluster-map">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${map.points.length} questions in ${map.clusters.length} clusters`} className="map">
        <rect x={0} y={0} width={W} height={H} className="map-bg" />
        {map.points.map((p) => {
          const [x, y] = xy.get(p.id)!;
          const sel = p.id === problem;
          const related = behaviorProblems.has(p.id);
          return (
            <circle
              key={p.id}
              cx={x}
              cy={y}
              r={sel ? 8 : related ? 7 : 5}
              fill={clusterColor(p.cluster)}
              className={`pt${sel ? ' selected' : ''}${related ? ' related' : ''}`}
              data-problem={p.id}
              onMouseEnter={() => setHover(p.id)}
              onMouseLeave={() => setHover(null)}
              onClick={() => selectProblem(p.id)}
            >
              <title>{`${p.id} (cluster ${p.cluster}): ${p.question}`}</title>
            </circle>
          );
        })}
      </svg>
      <p className="hint map-hover" aria-live="off">
        {hovered ? `${hovered.id} · cluster ${hovered.cluster}: ${hovered.question.slice(0, 160)}` : 'Hover a point to read its question; click it to select the problem.'}
      </p>
      <ul className="cluster-list">
        {map.clusters.map((c) => (
          <li key={c.index} data-testid="cluster">
            <span className="swatch" style={{ background: clusterColor(c.index) }} aria-hidden="true" />
            <strong>cluster {c.index}</strong> <span className="hint">{c.members.length} problems</span>
            <div>
              {c.members.map((m) => (
                <button key={m} type="button" className={`chip${m === problem ? ' selected' : ''}`} onClick={() => selectProblem(m)}>
                  {m}
                </button>
              ))}
            </div>
            <div className="hint">
              behaviors:{' '}
              {c.behaviors.length === 0
                ? 'none yet'
                : c.behaviors.map((b) => (
                    <button key={b} type="button" className={`chip mono${b === behavior ? ' selected' : ''}`} onClick={() => selectBehavior(b === behavior ? null : b)}>
                      {b}
                    </button>
                  ))}
            </div>
          </li>
        ))}
      </ul>
    </div>
  );
}
