/** Sampling settings sent with every generate/chat request (persisted across reloads). */
import { useLab } from '../store';
import { NumberField } from '../components/NumberField';

export function SamplingControls() {
  const s = useLab((st) => st.sampling);
  const setSampling = useLab((st) => st.setSampling);
  const reset = useLab((st) => st.resetSampling);
  return (
    <fieldset className="sampling">
      <legend>Sampling</legend>
      <NumberField group="sampling" label="Max new tokens" integer min={1} max={8192} value={s.maxNewTokens} onChange={(maxNewTokens) => setSampling({ maxNewTokens })} testId="max-new-tokens" />
      <NumberField group="sampling" label="Temperature" min={0} value={s.temperature} onChange={(temperature) => setSampling({ temperature })} title="0 = greedy (argmax)" testId="temperature" />
      <NumberField group="sampling" label="Top-p" min={0} minExclusive max={1} value={s.topP} onChange={(topP) => setSampling({ topP })} title="1 = off" testId="top-p" />
      <NumberField group="sampling" label="Top-k" integer min={0} value={s.topK} onChange={(topK) => setSampling({ topK })} title="0 = off" testId="top-k" />
      <NumberField group="sampling" label="Seed" integer value={s.seed} onChange={(seed) => setSampling({ seed })} testId="seed" />
      <label className="check">
        <input type="checkbox" checked={s.stopAtEos} onChange={(e) => setSampling({ stopAtEos: e.target.checked })} data-testid="stop-at-eos" />
        Stop at EOS
      </label>
      <button type="button" className="link reset" onClick={reset}>
        Reset
      </button>
    </fieldset>
  );
}
