/**
 * The playground shell: the model and device column on the left, and three tabs (the PMD run,
 * chat and generation, LoRA fine-tuning) sharing one engine worker. Starting the engine is
 * idempotent, so StrictMode's double effect creates one worker.
 */
import { useEffect, useState } from 'react';
import { ConfirmDialog } from './components/ConfirmDialog';
import { ErrorBox } from './components/ErrorBox';
import { EngineFailureNotice } from './components/EngineFailureNotice';
import { DevicePanel } from './device/DevicePanel';
import { GeneratePanel } from './generate/GeneratePanel';
import { TABS, useLayout, type Tab } from './layout';
import { LoadProgress } from './model/LoadProgress';
import { ModelSummaryCard } from './model/ModelSummaryCard';
import { ResumeNotice } from './model/ResumeNotice';
import { SourcePicker } from './model/SourcePicker';
import { startEngine } from './model/controller';
import { RunTab } from './run/RunTab';
import { applyUrlSettings } from './setup/share';
import { useSession } from './session';
import { useLab } from './store';
import { TrainPanel } from './train/TrainPanel';

const TAB_LABELS: Record<Tab, string> = { run: 'Run', chat: 'Chat / Generate', finetune: 'Fine-tune' };

/** Settings from the address bar are applied once, before the engine starts. */
let urlNote: string | null | undefined;

export function App() {
  const [note, setNote] = useState<string | null>(null);
  useEffect(() => {
    if (urlNote === undefined) urlNote = applyUrlSettings();
    setNote(urlNote);
    void startEngine();
  }, []);
  const tab = useLayout((s) => s.tab);
  const side = useLayout((s) => s.side);
  const setLayout = useLayout((s) => s.setLayout);
  return (
    <div className={`app${side ? '' : ' no-side'}`}>
      <header className="app-header">
        <h1>PMD Lab</h1>
        <nav className="tabs" role="tablist" aria-label="Workspace">
          {TABS.map((t) => (
            <button
              key={t}
              type="button"
              role="tab"
              id={`tab-${t}`}
              aria-selected={tab === t}
              aria-controls={`panel-${t}`}
              tabIndex={tab === t ? 0 : -1}
              className={tab === t ? 'tab active' : 'tab'}
              onClick={() => setLayout({ tab: t })}
              onKeyDown={(e) => {
                const i = TABS.indexOf(t);
                const next = e.key === 'ArrowRight' ? TABS[(i + 1) % TABS.length] : e.key === 'ArrowLeft' ? TABS[(i + TABS.length - 1) % TABS.length] : null;
                if (next) {
                  e.preventDefault();
                  setLayout({ tab: next });
                  document.getElementById(`tab-${next}`)?.focus();
                }
              }}
            >
              {TAB_LABELS[t]}
            </button>
          ))}
        </nav>
        <EngineLine />
        <button type="button" className="link side-toggle" onClick={() => setLayout({ side: !side })} aria-expanded={side} aria-controls="side">
          {side ? 'Hide model & device' : 'Show model & device'}
        </button>
      </header>
      {note && (
        <p className="note banner" role="status">
          {note}{' '}
          <button type="button" className="link" onClick={() => setNote(null)}>
            Dismiss
          </button>
        </p>
      )}
      <EngineFailureNotice />
      <div className="layout">
        <aside className="side" id="side" aria-label="Model and device" hidden={!side}>
          <ResumeNotice />
          <SourcePicker />
          <LoadProgress />
          <ModelSummaryCard />
          <DevicePanel />
        </aside>
        <main className="main">
          <ErrorBox />
          <div role="tabpanel" id="panel-run" aria-labelledby="tab-run" hidden={tab !== 'run'}>
            {tab === 'run' && <RunTab />}
          </div>
          <div role="tabpanel" id="panel-chat" aria-labelledby="tab-chat" hidden={tab !== 'chat'}>
            <GeneratePanel />
          </div>
          <div role="tabpanel" id="panel-finetune" aria-labelledby="tab-finetune" hidden={tab !== 'finetune'}>
            <TrainPanel />
          </div>
        </main>
      </div>
      <ConfirmDialog />
    </div>
  );
}

/** One line in the header: backend, model, what the engine is doing. */
function EngineLine() {
  const engine = useLab((s) => s.engine);
  const model = useLab((s) => s.model);
  const activity = useSession((s) => s.activity);
  return (
    <p className="engine-line" aria-live="off">
      {engine.state === 'ready' ? <span className={`badge badge-${engine.info.backend}`}>{engine.info.backend}</span> : <span className="badge">{engine.state}</span>}
      <span className="engine-model">{model ? model.label : 'no model'}</span>
      {activity && <span className="engine-activity">{activity}…</span>}
    </p>
  );
}
