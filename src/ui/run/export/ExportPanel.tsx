/** What can be taken out of the open run: the student adapter (PEFT zip), memory (JSONL), the whole run (a re-importable file), metrics (CSV). */
import { useSession } from '../../session';
import { exportAdapter, exportMemory, exportMetrics, exportRunFile } from '../exports';
import { NoRun, Panel } from '../Panel';
import { useRun } from '../store';

export function ExportPanel() {
  const open = useRun((s) => s.open !== null);
  const busy = useRun((s) => s.busy);
  const metrics = useRun((s) => s.index.metrics.length);
  const activity = useSession((s) => s.activity);
  const disabled = !open || busy !== null;
  return (
    <Panel id="export" title="Export">
      {!open ? (
        <NoRun what="exports" />
      ) : (
        <>
          <ul className="exports">
            <li>
              <button type="button" onClick={() => void exportAdapter('student')} disabled={disabled}>
                Export adapter
              </button>
              <span className="hint">the student’s LoRA as a PEFT zip (adapter_config.json, adapter_model.safetensors), loadable with PeftModel.from_pretrained</span>
            </li>
            <li>
              <button type="button" className="secondary" onClick={() => void exportAdapter('teacher')} disabled={disabled}>
                Export teacher adapter
              </button>
              <span className="hint">the EMA teacher’s LoRA, same format</span>
            </li>
            <li>
              <button type="button" className="secondary" onClick={exportMemory} disabled={!open}>
                Export memory (JSONL)
              </button>
              <span className="hint">one line per experience item, insight and behavior, with its source</span>
            </li>
            <li>
              <button type="button" className="secondary" onClick={() => void exportRunFile()} disabled={disabled}>
                Export run file
              </button>
              <span className="hint">the whole run (config, state, logs, memory, checkpoint) as one zip, in the pmd-lab run folder layout; import it in any browser</span>
            </li>
            <li>
              <button type="button" className="secondary" onClick={exportMetrics} disabled={!open || metrics === 0}>
                Export metrics (CSV)
              </button>
              <span className="hint">one row per completed step ({metrics} so far)</span>
            </li>
          </ul>
          {activity === 'running' && <p className="hint">While the run advances, exports are answered between phases.</p>}
          {busy === 'exporting' && <p className="hint">Exporting…</p>}
        </>
      )}
    </Panel>
  );
}
