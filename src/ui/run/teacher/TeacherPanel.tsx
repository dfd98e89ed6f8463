/**
 * The teacher view of the selected attempt: the student's prompt beside the teacher's reprompt,
 * each memory block marked with the level it comes from (BLOCK_LEVEL) and linked to the items
 * it shows; the response colored by per-token teacher-student divergence, with both log-probs in
 * each token's tooltip; masked attempts shown as such; and, on demand, the same question
 * answered by the student with and without the run's memory.
 */
import { useMemo, useState } from 'react';
import { BLOCK_LEVEL, type ContextBlock, type RolloutView } from '../../../worker/protocol';
import { compareWithMemory } from '../controller';
import { formatReward, NoRun, Panel, usePrompt, useRecordIndex } from '../Panel';
import { ColorLegend, TokenText } from '../rollouts/TokenText';
import { useSelection } from '../selection';
import { useRun } from '../store';
import { useSession } from '../../session';

const LEVEL_LABEL: Record<string, string> = {
  problem: 'problem',
  insight: 'insight memory (level 1)',
  behavior: 'behavior memory (level 2)',
  experience: 'experience memory (level 0)',
  instruction: 'instruction',
};

/** The selected attempt (live in the step in progress, or from the records), else the latest step's first. */
export function useSelectedRollout(): { rollout: RolloutView; step: number; live: boolean } | null {
  const id = useSelection((s) => s.rollout);
  const work = useRun((s) => s.open?.view.work ?? null);
  const [ix, version] = useRecordIndex();
  return useMemo(() => {
    const live = work?.rollouts.find((r) => r.id === id);
    if (live && work) return { rollout: live, step: work.step, live: true };
    const rec = id ? ix.rolloutById.get(id) : undefined;
    if (rec) return { rollout: rec.rollout, step: rec.step, live: false };
    if (work && work.rollouts.length) return { rollout: work.rollouts[0], step: work.step, live: true };
    const last = [...ix.rolloutsByStep.keys()].sort((a, b) => b - a)[0];
    const first = last !== undefined ? ix.rolloutsByStep.get(last)?.[0] : undefined;
    return first ? { rollout: first, step: last, live: false } : null;
  }, [id, work, ix, version]);
}

export function TeacherPanel() {
  const variant = useRun((s) => s.open?.view.config.variant ?? null);
  const sel = useSelectedRollout();
  return (
    <Panel id="teacher" title="Teacher view">
      {!variant ? <NoRun what="the teacher's context" /> : !sel ? <p className="muted empty">No attempts yet: advance through the rollout phase, then pick an attempt in Rollouts.</p> : <TeacherBody {...sel} variant={variant} />}
    </Panel>
  );
}

function TeacherBody({ rollout: r, step, live, variant }: { rollout: RolloutView; step: number; live: boolean; variant: string }) {
  const question = usePrompt(r.problem);
  const t = r.teacher;
  const tv = r.tokensView;
  const scale = tv ? Math.max(0.05, ...tv.divergence.filter(Number.isFinite)) : undefined;
  const meanDiv = tv && tv.divergence.length ? tv.divergence.reduce((a, b) => a + b, 0) / tv.divergence.length : null;
  return (
    <div className="teacher" data-testid="teacher-body" data-rollout={r.id}>
      <p className="hint panel-sub">
        Attempt <code>{r.id}</code> (problem <code>{r.problem}</code>, step {step}
        {live ? ', in progress' : ''}) · reward {formatReward(r.reward)}
      </p>
      {t?.masked && (
        <p className="note warn masked" data-testid="masked">
          Masked: the teacher’s context adds nothing beyond the problem (no solution, no feedback, no memory), so this attempt adds no loss.
        </p>
      )}
      <div className="teacher-cols">
        <div>
          <h3>Student’s prompt</h3>
          <pre className="prompt" data-testid="student-prompt">
            {question ?? t?.blocks.find((b) => b.kind === 'problem')?.text ?? `(problem ${r.problem})`}
          </pre>
        </div>
        <div>
          <h3>Teacher’s reprompt</h3>
          {!t ? (
            <p className="hint" data-testid="no-teacher">
              {variant === 'grpo' ? 'GRPO uses no teacher.' : 'Teacher contexts are built in the teacher phase of this step.'}
            </p>
          ) : (
            <ol className="blocks" data-testid="teacher-blocks">
              {t.blocks.map((b, i) => (
                <Block key={i} block={b} problem={r.problem} />
              ))}
            </ol>
          )}
        </div>
      </div>
      <h3>
        Response{tv ? ', colored by teacher-student divergence' : ', colored by the student’s log-prob'} <ColorLegend coloring={tv ? 'divergence' : 'logprob'} scale={scale} />
      </h3>
      <TokenText rollout={r} coloring="divergence" className="response" />
      <p className="hint">
        {tv
          ? `Mean divergence ${meanDiv?.toFixed(4)} over ${tv.divergence.length} tokens. Hover a token for the student’s and the teacher’s log-prob of it.`
          : t?.masked
            ? 'Masked attempts get no per-token scores.'
            : 'Per-token student and teacher log-probs and the divergence appear after the update phase.'}
      </p>
      <Compare problem={r.problem} />
    </div>
  );
}

function Block({ block: b, problem }: { block: ContextBlock; problem: string }) {
  const level = BLOCK_LEVEL[b.kind];
  const selectItem = useSelection((s) => s.selectItem);
  const selectBehavior = useSelection((s) => s.selectBehavior);
  const selectRollout = useSelection((s) => s.selectRollout);
  const item = useSelection((s) => s.item);
  const behavior = useSelection((s) => s.behavior);
  const [ix] = useRecordIndex();
  const highlighted = b.items.some((x) => x === item || x === behavior);
  return (
    <li className={`block level-${level}${highlighted ? ' selected' : ''}`} data-kind={b.kind} data-level={level}>
      <span className="block-tag">{b.kind === level ? b.kind : `${b.kind} · ${LEVEL_LABEL[level] ?? level}`}</span>
      <pre>{b.text}</pre>
      {b.items.length > 0 && (
        <span className="block-items">
          from{' '}
          {b.items.map((x) => (
            <button
              key={x}
              type="button"
              className="chip"
              onClick={() => {
                if (b.kind === 'behaviors') selectBehavior(x);
                else if (ix.rolloutById.has(x)) selectRollout(x, problem);
                else selectItem(x, problem);
              }}
            >
              {x}
            </button>
          ))}
        </span>
      )}
    </li>
  );
}

function Compare({ problem }: { problem: string }) {
  const cmp = useRun((s) => s.compare);
  const busy = useRun((s) => s.compareBusy);
  const activity = useSession((s) => s.activity);
  const [seed, setSeed] = useState(0);
  const shown = cmp && cmp.problem === problem ? cmp : null;
  return (
    <div className="compare">
      <div className="row">
        <button type="button" className="secondary" disabled={busy} onClick={() => void compareWithMemory(problem, seed)} data-testid="compare">
          {busy ? 'Answering…' : 'Answer with and without memory'}
        </button>
        <label className="inline">
          <span>seed</span>
          <input type="number" min={0} step={1} value={seed} onChange={(e) => setSeed(Math.max(0, Math.floor(Number(e.target.value) || 0)))} className="narrow" />
        </label>
        {activity === 'running' && !busy && <span className="hint">Answered between phases while the run advances.</span>}
      </div>
      {shown && (
        <div className="compare-cols" data-testid="comparison">
          {(['without', 'with'] as const).map((k) => (
            <div key={k}>
              <h3>{k === 'with' ? 'With the run’s memory in the prompt' : 'Without memory (as evaluated)'}</h3>
              <p>
                reward <strong>{shown[k].reward.toFixed(2)}</strong>
              </p>
              <pre className="prompt">{shown[k].text || '(empty response)'}</pre>
              {shown[k].feedback && <p className="feedback">{shown[k].feedback}</p>}
              <details>
                <summary>Prompt</summary>
                <pre className="prompt small">{shown[k].prompt}</pre>
              </details>
            </div>
          ))}
        </div>
      )}
    </div>
  );
}
