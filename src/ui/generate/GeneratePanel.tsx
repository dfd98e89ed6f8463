/**
 * Prompt, sampling and the streamed reply. Model output is shown as plain text only (React text
 * nodes), whatever it contains.
 */
import { useId } from 'react';
import { useLab, type PromptMode } from '../store';
import { formatMs, formatRate } from '../format';
import { generate, stop } from '../model/controller';
import { SamplingControls } from './SamplingControls';
import { useGroupInvalid } from '../components/field-drafts';
import { useSession } from '../session';

const MODES: { mode: PromptMode; label: string; title: string }[] = [
  { mode: 'chat', label: 'Chat', title: "Text through the model's chat template (plain text when it has none)" },
  { mode: 'ids', label: 'Token ids', title: 'Raw token ids, no tokenizer needed' },
];

export function GeneratePanel() {
  const mode = useLab((s) => s.mode);
  const setMode = useLab((s) => s.setMode);
  const prompt = useLab((s) => s.prompt);
  const setPrompt = useLab((s) => s.setPrompt);
  const idsPrompt = useLab((s) => s.idsPrompt);
  const setIdsPrompt = useLab((s) => s.setIdsPrompt);
  const model = useLab((s) => s.model);
  const loading = useLab((s) => s.load?.status === 'loading');
  const running = useLab((s) => s.generation.running);
  const name = useId();
  const promptId = useId();
  const invalid = useGroupInvalid('sampling');
  const activity = useSession((s) => s.activity);
  const otherWork = activity !== null && activity !== 'generating';
  const canGenerate = model !== null && !running && !loading && !invalid && !otherWork;
  const noTokenizer = model !== null && !model.hasTokenizer && mode === 'chat';

  return (
    <section className="panel generate" aria-labelledby="generate-title">
      <div className="panel-head">
        <h2 id="generate-title">Generate</h2>
        <div className="segmented small" role="radiogroup" aria-label="Prompt mode">
          {MODES.map((m) => (
            <label key={m.mode} className={mode === m.mode ? 'active' : undefined} title={m.title}>
              <input type="radio" name={name} checked={mode === m.mode} onChange={() => setMode(m.mode)} />
              {m.label}
            </label>
          ))}
        </div>
      </div>
      <label htmlFor={promptId} className="sr-only">
        {mode === 'chat' ? 'Prompt' : 'Prompt token ids'}
      </label>
      <textarea
        id={promptId}
        data-testid="prompt"
        rows={4}
        value={mode === 'chat' ? prompt : idsPrompt}
        placeholder={mode === 'chat' ? 'Ask the model something…' : 'Token ids, e.g. 1, 2, 3'}
        spellCheck={mode === 'chat'}
        onChange={(e) => (mode === 'chat' ? setPrompt(e.target.value) : setIdsPrompt(e.target.value))}
        onKeyDown={(e) => {
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey) && canGenerate) {
            e.preventDefault();
            void generate();
          }
        }}
      />
      {noTokenizer && <p className="hint warn">This model has no tokenizer.json: switch to token ids.</p>}
      <SamplingControls />
      <div className="row actions">
        <button type="button" onClick={() => void generate()} disabled={!canGenerate} data-testid="generate">
          Generate
        </button>
        <button type="button" className="secondary" onClick={() => void stop()} disabled={!running} data-testid="stop">
          Stop
        </button>
        <span className="hint">
          {running
            ? 'Generating…'
            : !model
              ? loading
                ? 'Waiting for the model…'
                : 'Load a model first.'
              : invalid
                ? 'Fix the sampling settings marked in red first.'
                : otherWork
                  ? `The engine is busy (${activity}); generation waits until it is done.`
                  : 'Ctrl+Enter to generate'}
        </span>
      </div>
      <Output />
    </section>
  );
}

function Output() {
  const g = useLab((s) => s.generation);
  const showIds = g.mode === 'ids';
  const body = showIds ? g.tokenIds.join(' ') : g.text;
  return (
    <div className="output-wrap">
      <pre className={`output${g.running ? ' running' : ''}`} data-testid="output" aria-live="polite" aria-busy={g.running}>
        {body}
      </pre>
      {g.stats && (
        <p className="stats" data-testid="stats">
          <span>
            {g.stats.tokens} token{g.stats.tokens === 1 ? '' : 's'}
          </span>
          <span>{formatMs(g.stats.ms)}</span>
          <span>{formatRate(g.stats.tokensPerSecond)} tok/s</span>
          {g.stats.decodeTokensPerSecond !== null && <span>decode {formatRate(g.stats.decodeTokensPerSecond)} tok/s</span>}
          {g.stats.firstTokenMs !== null && <span>first token {formatMs(g.stats.firstTokenMs)}</span>}
          <span>
            finish: <strong data-testid="finish">{g.stats.finish}</strong>
          </span>
        </p>
      )}
      {!showIds && g.tokenIds.length > 0 && (
        <details className="ids">
          <summary>Token ids ({g.tokenIds.length})</summary>
          <code>{g.tokenIds.join(' ')}</code>
        </details>
      )}
    </div>
  );
}
