/** A run panel: a named region with a heading, optional tools beside it, and a note when no run is open. */
import type { ReactNode } from 'react';
import { useRun } from './store';
import type { RecordIndex } from './records';

export function Panel({ id, title, tools, className, children }: { id: string; title: string; tools?: ReactNode; className?: string; children: ReactNode }) {
  return (
    <section className={`panel run-panel ${className ?? ''}`} aria-labelledby={`${id}-title`} data-testid={`panel-${id}`}>
      <div className="panel-head">
        <h2 id={`${id}-title`}>{title}</h2>
        {tools && <div className="panel-tools">{tools}</div>}
      </div>
      {children}
    </section>
  );
}

export function NoRun({ what }: { what: string }) {
  const busy = useRun((s) => s.busy);
  return <p className="muted empty">{busy === 'opening' || busy === 'creating' ? 'Opening the run…' : `Open or create a run to see ${what}.`}</p>;
}

/** The open run's record index; re-renders when records arrive. Returns the version for memo keys. */
export function useRecordIndex(): [RecordIndex, number] {
  const version = useRun((s) => s.recordsVersion);
  const index = useRun((s) => s.index);
  return [index, version];
}

/** The question of a problem, as far as the run has shown it. */
export function usePrompt(problem: string | null): string | null {
  const [ix] = useRecordIndex();
  const fromView = useRun((s) => (problem ? (s.open?.view.prompts?.[problem] ?? s.open?.view.memory.problems[problem]?.question?.text ?? null) : null));
  return problem ? (fromView ?? ix.prompts.get(problem) ?? null) : null;
}

export function formatReward(r: number | null): string {
  return r === null ? 'not scored' : r.toFixed(2);
}
