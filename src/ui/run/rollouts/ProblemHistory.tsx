/** One problem across the run: its attempts at every step so far (from the rollout records), newest first. */
import { useMemo } from 'react';
import { useOpen } from '../../layout';
import { formatReward, useRecordIndex } from '../Panel';
import { useSelection } from '../selection';

export function ProblemHistory({ problem }: { problem: string }) {
  const [ix, version] = useRecordIndex();
  const [open, setOpen] = useOpen('problem-history', true);
  const selectRollout = useSelection((s) => s.selectRollout);
  const selected = useSelection((s) => s.rollout);
  const steps = useMemo(() => {
    const by = new Map<number, { id: string; reward: number | null; text: string }[]>();
    for (const { step, rollout } of ix.rolloutsByProblem.get(problem) ?? []) by.set(step, [...(by.get(step) ?? []), { id: rollout.id, reward: rollout.reward, text: rollout.text }]);
    return [...by.entries()].sort((a, b) => b[0] - a[0]);
  }, [ix, version, problem]);
  return (
    <details className="history" open={open} onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)} data-testid="problem-history">
      <summary>
        History of <code>{problem}</code> across steps ({steps.length} step{steps.length === 1 ? '' : 's'} recorded)
      </summary>
      {steps.length === 0 ? (
        <p className="hint">No completed step has attempted this problem yet.</p>
      ) : (
        <table className="history-table">
          <thead>
            <tr>
              <th scope="col">Step</th>
              <th scope="col">Mean reward</th>
              <th scope="col">Attempts</th>
            </tr>
          </thead>
          <tbody>
            {steps.map(([step, attempts]) => (
              <tr key={step}>
                <td>{step}</td>
                <td>{(attempts.reduce((a, x) => a + (x.reward ?? 0), 0) / attempts.length).toFixed(2)}</td>
                <td className="history-attempts">
                  {attempts.map((a) => (
                    <button key={a.id} type="button" className={`chip${selected === a.id ? ' selected' : ''}${a.reward !== null && a.reward >= 0.5 ? ' good' : ''}`} title={a.text.slice(0, 300)} onClick={() => selectRollout(a.id, problem)}>
                      {formatReward(a.reward)}
                    </button>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </details>
  );
}
