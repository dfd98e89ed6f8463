/**
 * LoRA fine-tuning of the loaded model in the browser: SFT data, LoRA and optimizer settings,
 * progress with a loss curve, stop, one-click PEFT download, and a switch that makes generation
 * use the trained adapter. The data text is user input: it is parsed in the worker, never
 * rendered as HTML.
 */
import { useId } from 'react';
import { LORA_TARGETS, type TrainConfig } from '../../worker/protocol';
import { setPath } from '../../util/config-fields';
import { formatMs } from '../format';
import { NumberField } from '../components/NumberField';
import { useLab } from '../store';
import { downloadAdapter, forgetSaved, importAdapter, resetAdapter, restoreSaved, setUseAdapter, stopTraining, train } from './controller';
import { LossChart } from './LossChart';
import { trainKey, useTrain } from './store';
import { useGroupInvalid } from '../components/field-drafts';
import { useSession } from '../session';

export function TrainPanel() {
  const t = useTrain();
  const model = useLab((s) => s.model);
  const generating = useLab((s) => s.generation.running);
  const loading = useLab((s) => s.load?.status === 'loading');
  const dataId = useId();
  const idle = t.status === 'idle';
  const invalid = useGroupInvalid('train');
  const activity = useSession((s) => s.activity);
  const otherWork = activity !== null && activity !== 'training';
  const canTrain = model !== null && idle && !generating && !loading && !invalid && !otherWork && t.jsonl.trim() !== '';
  const savedHistory = model && t.saved && t.startedWith === null ? (t.histories[model.label] ?? []) : [];
  const stale = t.startedWith !== null && t.startedWith !== trainKey(t);
  const last = t.history[t.history.length - 1];
  const c = t.config;
  const put = (path: string, v: unknown) => t.setConfig(setPath<TrainConfig>(c, path, v));

  return (
    <section className="panel train" aria-labelledby="train-title">
      <div className="panel-head">
        <h2 id="train-title">Train a LoRA adapter</h2>
        <span className="hint">supervised fine-tuning, in the worker</span>
      </div>
      {model && !model.hasTokenizer && <p className="hint warn">This model has no tokenizer.json, so it cannot read SFT text.</p>}
      {t.saved && t.startedWith === null && (
        <p className="notice" data-testid="saved-adapter">
          An adapter trained on this model ({t.saved.steps} steps, saved {new Date(t.saved.savedAt).toLocaleString()}) is stored in this browser.{' '}
          <button type="button" className="link" onClick={() => void restoreSaved()} disabled={!idle} data-testid="restore-adapter">
            Continue from it
          </button>{' '}
          <button type="button" className="link" onClick={() => void forgetSaved()}>
            Forget it
          </button>
        </p>
      )}
      <label htmlFor={dataId} className="field-label">
        Training data (JSONL: one {'{"prompt": …, "response": …}'} per line; the loss covers the response)
      </label>
      <textarea id={dataId} rows={5} value={t.jsonl} spellCheck={false} onChange={(e) => t.setTrain({ jsonl: e.target.value })} data-testid="train-data" />
      <fieldset className="sampling">
        <legend>LoRA and optimizer</legend>
        <NumberField group="train" label="Rank" integer min={1} max={256} value={c.lora.rank} onChange={(v) => put('lora.rank', v)} testId="train-rank" />
        <NumberField group="train" label="Alpha" min={0} minExclusive value={c.lora.alpha ?? 2 * c.lora.rank} onChange={(v) => put('lora.alpha', v)} testId="train-alpha" />
        <NumberField group="train" label="Learning rate" min={0} minExclusive value={c.optimizer.lr} onChange={(v) => put('optimizer.lr', v)} testId="train-lr" />
        <NumberField group="train" label="Warm-up steps" integer min={0} value={c.optimizer.warmupSteps} onChange={(v) => put('optimizer.warmupSteps', v)} />
        <NumberField group="train" label="Steps" integer min={1} max={100000} value={c.steps} onChange={(v) => put('steps', v)} testId="train-steps" />
        <NumberField group="train" label="Batch size" integer min={1} max={512} value={c.batchSize} onChange={(v) => put('batchSize', v)} testId="train-batch" />
        <NumberField group="train" label="Seed" integer min={0} value={c.seed} onChange={(v) => put('seed', v)} />
        <label className="check" title="Scale by alpha/sqrt(r) instead of alpha/r">
          <input type="checkbox" checked={c.lora.useRslora} onChange={(e) => put('lora.useRslora', e.target.checked)} />
          rsLoRA
        </label>
        <div className="targets" role="group" aria-label="Target modules">
          {LORA_TARGETS.map((m) => (
            <label key={m} className="check">
              <input
                type="checkbox"
                checked={c.lora.targets.includes(m)}
                onChange={(e) => {
                  const next = e.target.checked ? LORA_TARGETS.filter((x) => x === m || c.lora.targets.includes(x)) : c.lora.targets.filter((x) => x !== m);
                  if (next.length > 0) put('lora.targets', next);
                }}
              />
              {m}
            </label>
          ))}
        </div>
      </fieldset>
      {stale && (
        <p className="hint warn" data-testid="train-stale">
          Settings changed since this adapter was started: the next run starts a fresh adapter.
        </p>
      )}
      <div className="row actions">
        <button type="button" onClick={() => void train()} disabled={!canTrain} data-testid="train">
          {t.startedWith !== null && !stale ? `Train ${c.steps} more steps` : `Train ${c.steps} steps`}
        </button>
        <button type="button" className="secondary" onClick={() => void stopTraining()} disabled={t.status !== 'training'} data-testid="train-stop">
          Stop
        </button>
        <button type="button" className="secondary" onClick={() => void downloadAdapter()} disabled={!idle || t.startedWith === null} data-testid="download-adapter" title="adapter_config.json + adapter_model.safetensors, loadable with PeftModel.from_pretrained">
          Download adapter (PEFT .zip)
        </button>
        <button type="button" className="link" onClick={() => void resetAdapter()} disabled={!idle || t.startedWith === null}>
          Reset adapter
        </button>
        <label className="link file-link" title="Continue from a PEFT adapter: pick adapter_config.json and adapter_model.safetensors">
          Load adapter…
          <input
            type="file"
            multiple
            accept=".json,.safetensors"
            disabled={!idle || !model}
            onChange={(e) => {
              const files = Array.from(e.target.files ?? []);
              e.target.value = '';
              void importAdapter(files);
            }}
            data-testid="import-adapter"
          />
        </label>
        <label className="check" title="Generation and chat use the trained adapter">
          <input type="checkbox" checked={t.useAdapter} onChange={(e) => void setUseAdapter(e.target.checked)} data-testid="use-adapter" />
          Generate with the adapter
        </label>
      </div>
      <p className="hint" aria-live="polite" data-testid="train-status">
        {t.status === 'starting' && 'Starting the trainer…'}
        {t.status === 'training' && t.progress && `Step ${t.progress.step} of ${t.progress.steps} · ${t.progress.phase}`}
        {t.status === 'saving' && `Saving the adapter (${t.trainedSteps} steps) in this browser…`}
        {t.status === 'exporting' && 'Exporting the adapter…'}
        {idle && t.startedWith !== null && `${t.trainedSteps} steps trained${last ? ` · last step ${formatMs(last.ms)}, loss ${last.loss.toFixed(4)}, |g| ${last.gradNorm.toFixed(3)}` : ''}`}
        {idle && t.startedWith === null && (model ? 'No adapter yet.' : 'Load a model first.')}
      </p>
      {t.error && (
        <p className="note warn" role="status" data-testid="train-error">
          {t.error}
        </p>
      )}
      {invalid && <p className="hint warn">Fix the settings marked in red before training.</p>}
      {otherWork && idle && <p className="hint">The engine is busy ({activity}); training waits until it is done.</p>}
      {savedHistory.length > 0 ? (
        <>
          <p className="hint">Loss of the saved adapter (continue from it to train further):</p>
          <LossChart points={savedHistory} />
        </>
      ) : (
        <LossChart points={t.history} />
      )}
    </section>
  );
}
