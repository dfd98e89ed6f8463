/**
 * Rollouts of one step, per problem: the G attempts with reward, verifier feedback and tokens
 * colored by log-prob; selecting an attempt opens it in the teacher view and highlights its
 * problem everywhere. Below, the selected problem's history across steps. The problem list is
 * virtualized (a step can hold hundreds of attempts).
 */
import { memo, useMemo } from 'react';
import type { RolloutView } from '../../../worker/protocol';
import { VirtualList } from '../../components/VirtualList';
import { useLayout } from '../../layout';
import { formatReward, NoRun, Panel, usePrompt, useRecordIndex } from '../Panel';
import { useSelection } from '../selection';
import { useRun } from '../store';
import { ColorLegend, TokenText } from './TokenText';
import { ProblemHistory } from './ProblemHistory';

interface StepRollouts {
  step: number;
  live: boolean;
  byProblem: [string, RolloutView[]][];
}

/** Steps that have rollouts: those recorded, and the step in progress once it sampled. */
export function useRolloutSteps(): { steps: { step: number; live: boolean }[]; get(step: number): RolloutView[] } {
  const [ix, version] = useRecordIndex();
  const work = useRun((s) => s.open?.view.work ?? null);
  return useMemo(() => {
    const steps = [...ix.rolloutsByStep.keys()].sort((a, b) => a - b).map((step) => ({ step, live: false }));
    const liveRollouts = work && work.rollouts.length > 0 && !ix.rolloutsByStep.has(work.step) ? work.rollouts : null;
    if (liveRollouts && work) steps.push({ step: work.step, live: true });
    return { steps, get: (step: number) => (liveRollouts && work?.step === step ? liveRollouts : (ix.rolloutsByStep.get(step) ?? [])) };
    // `version` is a dependency because the index is appended in place.
  }, [ix, version, work]);
}

export function RolloutsPanel() {
  const open = useRun((s) => s.open !== null);
  const { steps, get } = useRolloutSteps();
  const chosen = useLayout((s) => s.rolloutStep);
  const setLayout = useLayout((s) => s.setLayout);
  const step = chosen !== null && steps.some((s) => s.step === chosen) ? chosen : (steps[steps.length - 1]?.step ?? null);
  const live = steps.find((s) => s.step === step)?.live ?? false;
  const rollouts = step === null ? [] : get(step);
  const data: StepRollouts | null = useMemo(() => {
    if (step === null) return null;
    const by = new Map<string, RolloutView[]>();
    for (const r of rollouts) by.set(r.problem, [...(by.get(r.problem) ?? []), r]);
    return { step, live, byProblem: [...by.entries()] };
  }, [step, live, rollouts]);
  const problem = useSelection((s) => s.problem);
  return (
    <Panel
      id="rollouts"
      title="Rollouts"
      tools={
        steps.length > 0 && (
          <label className="inline">
            <span>Step</span>
            <select value={chosen === null ? 'latest' : String(step)} onChange={(e) => setLayout({ rolloutStep: e.target.value === 'latest' ? null : Number(e.target.value) })} data-testid="rollout-step">
              <option value="latest">latest ({steps[steps.length - 1].step})</option>
              {steps.map((s) => (
                <option key={s.step} value={s.step}>
                  {s.step}
                  {s.live ? ' (in progress)' : ''}
                </option>
              ))}
            </select>
          </label>
        )
      }
    >
      {!open ? (
        <NoRun what="rollouts" />
      ) : !data ? (
        <p className="muted empty">No rollouts yet: advance through the rollout phase.</p>
      ) : (
        <>
          <p className="hint panel-sub" data-testid="rollouts-summary">
            Step {data.step}
            {data.live ? ' (in progress)' : ''}: {data.byProblem.length} problems × {data.byProblem[0]?.[1].length ?? 0} attempts, {rollouts.filter((r) => r.reward !== null && r.reward >= 0.5).length} of {rollouts.length} correct.{' '}
            <ColorLegend coloring="logprob" />
          </p>
          <ProblemList data={data} />
        </>
      )}
      {open && problem && <ProblemHistory problem={problem} />}
    </Panel>
  );
}

function ProblemList({ data }: { data: StepRollouts }) {
  return <VirtualList items={data.byProblem} keyOf={([p]) => p} estimate={220} testId="rollout-list" render={([problem, rollouts]) => <ProblemCard problem={problem} rollouts={rollouts} />} />;
}

const ProblemCard = memo(function ProblemCard({ problem, rollouts }: { problem: string; rollouts: RolloutView[] }) {
  const selectedProblem = useSelection((s) => s.problem);
  const selectedRollout = useSelection((s) => s.rollout);
  const selectProblem = useSelection((s) => s.selectProblem);
  const selectRollout = useSelection((s) => s.selectRollout);
  const question = usePrompt(problem);
  const correct = rollouts.filter((r) => r.reward !== null && r.reward >= 0.5).length;
  const scored = rollouts.some((r) => r.reward !== null);
  return (
    <article className={`problem-card${selectedProblem === problem ? ' selected' : ''}`} data-problem={problem} data-testid="problem-card">
      <header>
        <button type="button" className="link problem-id" onClick={() => selectProblem(problem)} aria-pressed={selectedProblem === problem} title="Select this problem in every panel">
          {problem}
        </button>
        <span className="hint">{scored ? `${correct} of ${rollouts.length} correct` : `${rollouts.length} attempts, not scored yet`}</span>
      </header>
      {question && <p className="question">{question}</p>}
      <ol className="attempts">
        {rollouts.map((r) => (
          <li key={r.id} className={`attempt${selectedRollout === r.id ? ' selected' : ''}`} data-rollout={r.id} data-testid="attempt">
            <div className="attempt-head">
              <button type="button" className="link" onClick={() => selectRollout(r.id, r.problem)} aria-pressed={selectedRollout === r.id} title="Show in the teacher view">
                #{r.index + 1}
              </button>
              <span className={`reward ${r.reward === null ? '' : r.reward >= 0.5 ? 'good' : 'bad'}`} data-testid="reward">
                reward {formatReward(r.reward)}
              </span>
              <span className="hint">
                {r.tokens.length} tokens · {r.finish}
                {r.answer !== null ? ` · answer ${JSON.stringify(r.answer)}` : ''}
              </span>
              {r.teacher?.masked && <span className="pill">masked</span>}
            </div>
            {r.feedback ? (
              <p className="feedback" data-testid="feedback">
                {r.feedback}
              </p>
            ) : null}
            <TokenText rollout={r} coloring="logprob" />
          </li>
        ))}
      </ol>
    </article>
  );
});
