/**
 * Drives LoRA training in the engine worker from the training panel: start a trainer with the
 * panel's settings, run SFT steps with progress, stop, export the adapter as a zip download,
 * choose whether generation uses it, and keep the latest adapter per model in IndexedDB so it
 * survives a reload.
 */
import type { EngineEvent } from '../../worker/protocol';
import { deleteAdapter, loadAdapter, saveAdapter } from '../../storage/db';
import { message, registerDiscardCheck } from '../model/controller';
import { session } from '../session';
import { adapterZip, downloadBytes, slug } from '../files/download';
import { ask } from '../components/confirm';
import { useLab } from '../store';
import { INITIAL_TRAIN_RUNTIME, MAX_KEPT_HISTORY, trainKey, useTrain, type StepPoint } from './store';

type Ev<T extends EngineEvent['type']> = Extract<EngineEvent, { type: T }>;

const set = useTrain.setState;
const get = useTrain.getState;

function currentModel(): string | null {
  return useLab.getState().model?.label ?? null;
}

/** A new model drops the worker's trainer: forget ours and look for a saved adapter. */
let lastModel: unknown = null;
useLab.subscribe((s) => {
  if (s.model === lastModel) return;
  lastModel = s.model;
  set({ ...INITIAL_TRAIN_RUNTIME });
  if (s.model) void refreshSaved();
});

async function refreshSaved(): Promise<void> {
  const model = currentModel();
  if (!model) return;
  try {
    const a = await loadAdapter(model);
    if (currentModel() === model) set({ saved: a ? { model, steps: a.steps, savedAt: a.savedAt } : null });
  } catch {
    // IndexedDB unavailable (private mode, blocked): nothing to offer.
  }
}

/** A model change would drop the worker's adapter: say so when it is not the saved one. */
registerDiscardCheck(() => {
  const s = get();
  if (s.startedWith === null || !s.unsaved) return null;
  return `the LoRA adapter in the Fine-tune tab (${s.trainedSteps} steps), which is not saved in this browser`;
});

function busy(): boolean {
  return get().status !== 'idle' || session.busy();
}

async function startFresh(): Promise<boolean> {
  const s = get();
  set({ status: 'starting', error: null });
  try {
    await session.request<Ev<'train-ready'>>({ type: 'train-start', config: s.config, baseModel: null });
    set({ startedWith: trainKey(s), trainedSteps: 0, stepOffset: 0, history: [], status: 'idle', unsaved: false });
    return true;
  } catch (err) {
    set({ status: 'idle', error: message(err) });
    return false;
  }
}

/** Run the panel's number of SFT steps, starting a fresh adapter first when needed. */
export async function train(): Promise<void> {
  if (!useLab.getState().model || busy()) return;
  await session.exclusive('training', trainNow);
}

async function trainNow(): Promise<void> {
  const s = get();
  if (s.startedWith !== trainKey(s) && !(await startFresh())) return;
  const { steps, batchSize, seed } = s.config;
  set({ status: 'training', error: null, progress: { step: 0, steps, phase: 'starting' } });
  try {
    const done = await session.request<Ev<'train-done'>>(
      { type: 'train-sft', jsonl: s.jsonl, steps, batchSize, seed: seed + get().trainedSteps },
      (e) => {
        if (e.type === 'train-progress') set({ progress: { step: e.step, steps: e.steps, phase: e.phase } });
        else if (e.type === 'train-log') {
          const l = e.log;
          set((st) => {
            const step = st.stepOffset + l.step;
            return { history: [...st.history, { step, loss: l.loss, gradNorm: l.gradNorm, ms: l.ms }], trainedSteps: step };
          });
        }
      },
    );
    // Saving is part of the job: the panel says so, and nothing else starts until it is done.
    set({ status: 'saving', progress: null, error: done.stopped ? 'Stopped.' : null });
    await persistAdapter();
    set({ status: 'idle' });
  } catch (err) {
    set({ status: 'idle', progress: null, error: message(err) });
  }
}

export function stopTraining(): Promise<void> {
  return session.stop();
}

/** Throw away the trained adapter and start again from the seeded initialisation. */
export async function resetAdapter(): Promise<void> {
  if (busy()) return;
  if (get().unsaved) {
    const key = await ask({
      title: 'Reset the adapter?',
      message: `The adapter trained here (${get().trainedSteps} steps) is not saved in this browser; resetting starts a fresh one and discards it. Download it first to keep it.`,
      actions: [{ key: 'reset', label: 'Discard and reset', danger: true }],
    });
    if (key !== 'reset') return;
  }
  await startFresh();
}

async function exportFiles(): Promise<Ev<'adapter'> | null> {
  if (!session.connected || get().startedWith === null) return null;
  return session.request<Ev<'adapter'>>({ type: 'adapter-export', which: 'student' });
}

async function persistAdapter(): Promise<void> {
  const model = currentModel();
  const trained = get().trainedSteps;
  if (!model || trained === 0) return;
  try {
    const a = await exportFiles();
    if (!a) return;
    const savedAt = Date.now();
    await saveAdapter({ model, steps: trained, savedAt, files: { ...a.files } });
    set((s) => ({ saved: { model, steps: trained, savedAt }, unsaved: false, histories: { ...s.histories, [model]: s.history.slice(-MAX_KEPT_HISTORY) } }));
  } catch (err) {
    set({ unsaved: true, error: `the adapter was trained but could not be saved for the next visit: ${message(err)}` });
  }
}

/** One click: the PEFT adapter (adapter_config.json + adapter_model.safetensors) as a zip. */
export async function downloadAdapter(): Promise<void> {
  if (busy()) return;
  set({ status: 'exporting', error: null });
  try {
    const a = await exportFiles();
    if (!a) throw new Error('train an adapter first');
    const zip = adapterZip({ ...a.files });
    const s = get();
    downloadBytes(`${slug(currentModel() ?? 'model', 'model')}-lora-r${s.config.lora.rank}-step${s.trainedSteps}.zip`, zip, 'application/zip');
    set({ status: 'idle' });
  } catch (err) {
    set({ status: 'idle', error: message(err) });
  }
}

export async function setUseAdapter(on: boolean): Promise<void> {
  set({ useAdapter: on });
  if (!session.connected) return;
  try {
    // The worker remembers the choice, also for a trainer started later.
    await session.request<Ev<'adapter-used'>>({ type: 'adapter-use', which: on ? 'student' : 'none' });
  } catch (err) {
    set({ error: message(err) });
  }
}

/**
 * Start the worker's trainer from PEFT files, adopting the adapter's own rank, alpha and
 * targets so further training continues it rather than restarting. `steps`: what it was
 * trained for already.
 */
async function continueFrom(files: Record<string, Uint8Array>, steps: number, history: StepPoint[], unsaved: boolean): Promise<void> {
  const c = get().config;
  const info = (await session.request<Ev<'train-ready'>>({ type: 'train-start', config: c, baseModel: null, adapter: files })).info;
  const config = { ...c, lora: { rank: info.rank, alpha: info.alpha, useRslora: info.useRslora, targets: info.targets } };
  set({ config, startedWith: trainKey({ ...get(), config }), trainedSteps: steps, stepOffset: steps, history, status: 'idle', unsaved });
}

/** Continue from the adapter saved in IndexedDB for this model. */
export async function restoreSaved(): Promise<void> {
  const model = currentModel();
  if (!session.connected || !model || busy()) return;
  set({ status: 'starting', error: null });
  try {
    const a = await loadAdapter(model);
    if (!a) throw new Error(`no saved adapter for ${model}`);
    await continueFrom(a.files, a.steps, (get().histories[model] ?? []).filter((p) => p.step <= a.steps), false);
  } catch (err) {
    set({ status: 'idle', error: message(err) });
  }
}

/**
 * Continue from a PEFT adapter picked from disk (adapter_config.json and
 * adapter_model.safetensors, e.g. a folder saved by PEFT or by this app). Bad files are
 * reported and leave the current adapter as it was.
 */
export async function importAdapter(picked: File[]): Promise<void> {
  if (!session.connected || !useLab.getState().model || busy() || picked.length === 0) return;
  set({ status: 'starting', error: null });
  try {
    const files: Record<string, Uint8Array> = {};
    for (const f of picked) {
      if (f.name === 'adapter_config.json' || f.name === 'adapter_model.safetensors') files[f.name] = new Uint8Array(await f.arrayBuffer());
    }
    for (const need of ['adapter_config.json', 'adapter_model.safetensors']) {
      if (!files[need]) throw new Error(`pick both adapter_config.json and adapter_model.safetensors (${need} is missing)`);
    }
    await continueFrom(files, 0, [], true);
  } catch (err) {
    set({ status: 'idle', error: `could not load the adapter: ${message(err)}` });
  }
}

export async function forgetSaved(): Promise<void> {
  const model = currentModel();
  if (!model) return;
  await deleteAdapter(model).catch(() => undefined);
  set((s) => {
    const histories = { ...s.histories };
    delete histories[model];
    return { saved: null, histories };
  });
}
