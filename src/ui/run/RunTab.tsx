/** The Run tab: setup, controls, and the linked panels of the open run. */
import { AblationsPanel } from './ablations/AblationsPanel';
import { ClustersPanel } from './clusters/ClustersPanel';
import { ControlsBar } from './controls/ControlsBar';
import { dismissRunMessages } from './controller';
import { CurvesPanel } from './curves/CurvesPanel';
import { ExportPanel } from './export/ExportPanel';
import { MemoryPanel } from './memory/MemoryPanel';
import { RolloutsPanel } from './rollouts/RolloutsPanel';
import { useRun } from './store';
import { TeacherPanel } from './teacher/TeacherPanel';
import { SetupPanel } from '../setup/SetupPanel';

export function RunTab() {
  return (
    <div className="run-tab">
      <SetupPanel />
      <ControlsBar />
      <RunMessages />
      <div className="run-grid">
        <RolloutsPanel />
        <TeacherPanel />
        <MemoryPanel />
        <ClustersPanel />
        <CurvesPanel />
        <AblationsPanel />
        <ExportPanel />
      </div>
    </div>
  );
}

function RunMessages() {
  const error = useRun((s) => s.error);
  const notice = useRun((s) => s.notice);
  if (!error && !notice) return null;
  return (
    <div className={error ? 'error' : 'note info'} role={error ? 'alert' : 'status'} data-testid={error ? 'run-error' : 'run-notice'}>
      <div className="error-head">
        <strong>{error ? 'The run reported a problem' : 'Run'}</strong>
        <button type="button" className="link" aria-label="Dismiss" onClick={dismissRunMessages}>
          ×
        </button>
      </div>
      <p className={error ? 'error-message' : undefined}>{error ?? notice}</p>
    </div>
  );
}
