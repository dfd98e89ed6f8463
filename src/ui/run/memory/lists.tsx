/**
 * The memory panel's lists: experience and insights per problem, the behavior bank, and the
 * per-step changes from the event log. Every item links to where it came from.
 */
import { useMemo, type ReactNode } from 'react';
import type { Behavior, ItemSource, MemoryEvent, RunView } from '../../../worker/protocol';
import { VirtualList } from '../../components/VirtualList';
import { useRecordIndex } from '../Panel';
import { useSelection } from '../selection';

type Problems = RunView['memory']['problems'];
type Exp = Problems[string]['experience'][number];
type Ins = Problems[string]['insights'][number];
type BehaviorView = Omit<Behavior, 'embedding'>;

function matches(q: string, ...texts: (string | undefined | null)[]): boolean {
  if (!q) return true;
  const needle = q.toLowerCase();
  return texts.some((t) => t?.toLowerCase().includes(needle));
}

/** Where an item came from: its rollouts, its reflection call and its reflector, as links. */
function Source({ source, problem }: { source: ItemSource; problem: string | null }) {
  const selectRollout = useSelection((s) => s.selectRollout);
  const selectReflection = useSelection((s) => s.selectReflection);
  const [ix] = useRecordIndex();
  return (
    <span className="source">
      step {source.step}
      {source.rollouts.length > 0 && (
        <>
          {' · from '}
          {source.rollouts.map((id) => {
            const p = ix.rolloutById.get(id)?.rollout.problem ?? problem ?? id.replace(/^s\d+-(.*)-\d+$/, '$1');
            return (
              <button key={id} type="button" className="chip" onClick={() => selectRollout(id, p)} title="Show this rollout in the teacher view">
                {id}
              </button>
            );
          })}
        </>
      )}
      {source.reflection && (
        <>
          {' · '}
          <button type="button" className="chip" onClick={() => selectReflection(source.reflection!)} title="Show the reflection call that wrote it" data-testid="reflection-link">
            reflection {source.reflection}
          </button>
        </>
      )}
      {source.reflector && <span className="reflector"> · by {source.reflector}</span>}
    </span>
  );
}

/** Rows of a per-problem memory level (experience or insights), filtered by problem and search. */
function useProblemRows<T extends { id: string }>(problems: Problems, pick: (pm: Problems[string]) => T[], text: (item: T) => (string | undefined)[], query: string, scope: string | null) {
  return useMemo(
    () =>
      Object.entries(problems)
        .filter(([p]) => !scope || p === scope)
        .flatMap(([p, pm]) => pick(pm).map((item) => ({ problem: p, item })))
        .filter(({ problem, item }) => matches(query, problem, item.id, ...text(item))),
    // `pick` and `text` are module-level functions, the same on every call.
    [problems, query, scope],
  );
}

const experienceOf = (pm: Problems[string]) => pm.experience;
const experienceText = (x: Exp) => [x.response, x.feedback];
const insightsOf = (pm: Problems[string]) => pm.insights;
const insightText = (x: Ins) => [x.title, x.content];

/** The look every memory item shares: selection and problem highlight, a head line, its text, its source. */
function MemItem({ id, problem, head, children, source }: { id: string; problem: string | null; head: ReactNode; children: ReactNode; source: ItemSource }) {
  const selected = useSelection((s) => s.item === id || s.behavior === id);
  const related = useSelection((s) => problem !== null && s.problem === problem);
  return (
    <div className={`mem-item${selected ? ' selected' : ''}${related ? ' related' : ''}`} data-item={id} data-testid="memory-item">
      <div className="mem-head">{head}</div>
      {children}
      <Source source={source} problem={problem} />
    </div>
  );
}

export function ExperienceList({ problems, query, scope }: { problems: Problems; query: string; scope: string | null }) {
  const rows = useProblemRows(problems, experienceOf, experienceText, query, scope);
  if (!rows.length) return <p className="muted empty">{query || scope ? 'Nothing matches.' : 'No experience yet: it is written in the experience phase.'}</p>;
  return <VirtualList items={rows} keyOf={(r) => r.item.id} estimate={110} testId="memory-list" label="Experience items" render={(r) => <ExperienceItem problem={r.problem} item={r.item} />} />;
}

function ExperienceItem({ problem, item }: { problem: string; item: Exp }) {
  const selected = useSelection((s) => s.item === item.id);
  const selectItem = useSelection((s) => s.selectItem);
  const head = (
    <>
      <button type="button" className="link" onClick={() => selectItem(item.id, problem)} aria-pressed={selected}>
        {item.kind === 'success' ? 'success' : 'failure'}
      </button>
      <code>{problem}</code>
      <span className="hint">reward {item.reward.toFixed(2)}</span>
      <span className="hint mono">{item.id}</span>
    </>
  );
  return (
    <MemItem id={item.id} problem={problem} head={head} source={item.source}>
      <p className="mem-text">{item.response}</p>
      {item.feedback && <p className="feedback">{item.feedback}</p>}
    </MemItem>
  );
}

export function InsightList({ problems, query, scope }: { problems: Problems; query: string; scope: string | null }) {
  const rows = useProblemRows(problems, insightsOf, insightText, query, scope);
  if (!rows.length) return <p className="muted empty">{query || scope ? 'Nothing matches.' : 'No insights yet: the reflector writes them in the insight phase.'}</p>;
  return <VirtualList items={rows} keyOf={(r) => r.item.id} estimate={100} testId="memory-list" label="Insights" render={(r) => <InsightItem problem={r.problem} item={r.item} />} />;
}

function InsightItem({ problem, item }: { problem: string; item: Ins }) {
  const selected = useSelection((s) => s.item === item.id);
  const selectItem = useSelection((s) => s.selectItem);
  const head = (
    <>
      <span className={`pill ${item.kind}`}>{item.kind}</span>
      <button type="button" className="link mem-title" onClick={() => selectItem(item.id, problem)} aria-pressed={selected}>
        {item.title}
      </button>
      <code>{problem}</code>
    </>
  );
  return (
    <MemItem id={item.id} problem={problem} head={head} source={item.source}>
      <p className="mem-text">{item.content}</p>
    </MemItem>
  );
}

export function BehaviorList({ behaviors, query, scope }: { behaviors: BehaviorView[]; query: string; scope: string | null }) {
  const rows = useMemo(() => behaviors.filter((b) => (!scope || b.problems.includes(scope)) && matches(query, b.name, b.instruction, ...b.problems)), [behaviors, query, scope]);
  if (!rows.length) return <p className="muted empty">{query || scope ? 'Nothing matches.' : 'The behavior bank is empty: behaviors are consolidated every K steps (behavior.every).'}</p>;
  return <VirtualList items={rows} keyOf={(b) => b.name} estimate={120} testId="memory-list" label="Behaviors" render={(b) => <BehaviorItem b={b} />} />;
}

function BehaviorItem({ b }: { b: BehaviorView }) {
  const selected = useSelection((s) => s.behavior === b.name);
  const problem = useSelection((s) => s.problem);
  const selectBehavior = useSelection((s) => s.selectBehavior);
  const selectProblem = useSelection((s) => s.selectProblem);
  const head = (
    <>
      <button type="button" className="link mono" onClick={() => selectBehavior(selected ? null : b.name)} aria-pressed={selected}>
        {b.name}
      </button>
      <span className="hint">cluster {b.cluster}</span>
    </>
  );
  return (
    <MemItem id={b.name} problem={problem && b.problems.includes(problem) ? problem : null} head={head} source={b.source}>
      <p className="mem-text">{b.instruction}</p>
      <p className="hint">
        problems:{' '}
        {b.problems.map((p) => (
          <button key={p} type="button" className="chip" onClick={() => selectProblem(p)}>
            {p}
          </button>
        ))}
      </p>
      {b.history.length > 1 && (
        <details>
          <summary>History ({b.history.length} changes)</summary>
          <ol className="hint">
            {b.history.map((h, i) => (
              <li key={i}>
                step {h.step}: {h.op}
                {h.instruction ? ` — ${h.instruction}` : ''}
              </li>
            ))}
          </ol>
        </details>
      )}
    </MemItem>
  );
}

const OPS: MemoryEvent['op'][] = ['add', 'update', 'remove', 'evict', 'reject', 'clear'];
const OP_WORD: Record<MemoryEvent['op'], string> = { add: 'added', update: 'updated', remove: 'removed', evict: 'evicted', reject: 'rejected', clear: 'cleared' };

export function ChangeList({ events, query, scope, version }: { events: MemoryEvent[]; query: string; scope: string | null; version: number }) {
  const steps = useMemo(() => {
    const by = new Map<number, MemoryEvent[]>();
    for (const e of events) {
      if (scope && e.problem !== scope) continue;
      if (!matches(query, e.item, e.problem, e.cause.reason, e.level, e.op)) continue;
      by.set(e.step, [...(by.get(e.step) ?? []), e]);
    }
    return [...by.entries()].sort((a, b) => b[0] - a[0]);
    // `version`: events are appended in place
  }, [events, query, scope, version]);
  if (!steps.length) return <p className="muted empty">{query || scope ? 'Nothing matches.' : 'No memory changes yet.'}</p>;
  return <VirtualList items={steps} keyOf={([s]) => String(s)} estimate={160} testId="memory-changes" label="Memory changes by step" render={([step, evs]) => <StepChanges step={step} events={evs} />} />;
}

function StepChanges({ step, events }: { step: number; events: MemoryEvent[] }) {
  const selectItem = useSelection((s) => s.selectItem);
  const selectBehavior = useSelection((s) => s.selectBehavior);
  const selectReflection = useSelection((s) => s.selectReflection);
  const count = (op: MemoryEvent['op']) => events.filter((e) => e.op === op).length;
  return (
    <div className="step-changes" data-step={step} data-testid="step-changes">
      <h3>
        Step {step}:{' '}
        {OPS.filter((op) => count(op) > 0)
          .map((op) => `${count(op)} ${OP_WORD[op]}`)
          .join(' · ')}
      </h3>
      <ul>
        {events.map((e, i) => (
          <li key={i} className={`event op-${e.op}`}>
            <span className={`pill op-${e.op}`}>{OP_WORD[e.op]}</span> <span className="hint">{e.level}</span>{' '}
            <button type="button" className="link mono" onClick={() => (e.level === 'behavior' ? selectBehavior(e.item) : selectItem(e.item, e.problem ?? null))}>
              {e.item}
            </button>
            {e.problem && <code> {e.problem}</code>} <span className="hint">— {e.cause.reason}</span>
            {e.cause.reflection && (
              <button type="button" className="chip" onClick={() => selectReflection(e.cause.reflection!)}>
                reflection
              </button>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}
