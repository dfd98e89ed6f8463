/**
 * The run's memory: experience (level 0), insights (level 1: strategies and lessons) and the
 * behavior bank (level 2), each item linked to the rollouts and the reflection call that
 * produced it and naming the reflector that wrote it; and the per-step changes from the memory
 * event log (added, updated, removed, evicted, rejected). Search and a filter to the selected
 * problem; long lists are virtualized.
 */
import { useMemo } from 'react';
import { MEMORY_TABS, useLayout, type MemoryTab } from '../../layout';
import { NoRun, Panel, useRecordIndex } from '../Panel';
import { useSelection } from '../selection';
import { useRun } from '../store';
import { BehaviorList, ChangeList, ExperienceList, InsightList } from './lists';
import { ReflectionDetail } from './ReflectionDetail';

const TAB_LABEL: Record<MemoryTab, string> = { experience: 'Experience', insights: 'Insights', behaviors: 'Behaviors', changes: 'Changes' };

export function MemoryPanel() {
  const memory = useRun((s) => s.open?.view.memory ?? null);
  const tab = useLayout((s) => s.memoryTab);
  const query = useLayout((s) => s.memoryQuery);
  const only = useLayout((s) => s.memoryOnlySelected);
  const setLayout = useLayout((s) => s.setLayout);
  const problem = useSelection((s) => s.problem);
  const reflection = useSelection((s) => s.reflection);
  const [ix, version] = useRecordIndex();
  const counts = useMemo(() => {
    if (!memory) return null;
    let experience = 0;
    let insights = 0;
    for (const pm of Object.values(memory.problems)) {
      experience += pm.experience.length;
      insights += pm.insights.length;
    }
    return { experience, insights, behaviors: memory.behaviors.length, changes: ix.events.length };
  }, [memory, ix, version]);
  const scope = only && problem ? problem : null;
  return (
    <Panel
      id="memory"
      title="Memory"
      tools={
        memory && (
          <>
            <input type="search" placeholder="Search memory" aria-label="Search memory" value={query} onChange={(e) => setLayout({ memoryQuery: e.target.value })} className="search" data-testid="memory-search" />
            <label className="check inline">
              <input type="checkbox" checked={only} onChange={(e) => setLayout({ memoryOnlySelected: e.target.checked })} />
              only {problem ?? 'the selected problem'}
            </label>
          </>
        )
      }
    >
      {!memory || !counts ? (
        <NoRun what="memory" />
      ) : (
        <>
          <div className="subtabs" role="tablist" aria-label="Memory level">
            {MEMORY_TABS.map((t) => (
              <button key={t} type="button" role="tab" aria-selected={tab === t} className={tab === t ? 'subtab active' : 'subtab'} onClick={() => setLayout({ memoryTab: t })} data-testid={`memory-tab-${t}`}>
                {TAB_LABEL[t]} <span className="count">{counts[t]}</span>
              </button>
            ))}
          </div>
          <div role="tabpanel" aria-label={TAB_LABEL[tab]}>
            {tab === 'experience' && <ExperienceList problems={memory.problems} query={query} scope={scope} />}
            {tab === 'insights' && <InsightList problems={memory.problems} query={query} scope={scope} />}
            {tab === 'behaviors' && <BehaviorList behaviors={memory.behaviors} query={query} scope={scope} />}
            {tab === 'changes' && <ChangeList events={ix.events} query={query} scope={scope} version={version} />}
          </div>
          {reflection && <ReflectionDetail id={reflection} />}
        </>
      )}
    </Panel>
  );
}

