/** What is loaded now: architecture facts read from the checkpoint. */
import { useLab } from '../store';
import { formatCount, formatMs } from '../format';

const SOURCE_NAMES = { embedded: 'embedded', hub: 'Hugging Face Hub', files: 'local folder' } as const;

export function ModelSummaryCard() {
  const model = useLab((s) => s.model);
  return (
    <section className="panel" aria-labelledby="model-title" data-testid="model-summary">
      <h2 id="model-title">Model</h2>
      {!model ? (
        <p className="muted">No model loaded.</p>
      ) : (
        <>
          <p className="model-label" title={model.label}>
            {model.label}
          </p>
          <dl className="facts">
            <dt>Family</dt>
            <dd data-testid="model-family">{model.family}</dd>
            <dt>Layers</dt>
            <dd>{model.layers}</dd>
            <dt>Hidden size</dt>
            <dd>{model.hiddenSize}</dd>
            <dt>Vocab</dt>
            <dd>{model.vocabSize.toLocaleString('en-US')}</dd>
            <dt>Parameters</dt>
            <dd title={`${model.params.toLocaleString('en-US')} parameters`}>{formatCount(model.params)}</dd>
            <dt>Tied embeddings</dt>
            <dd>{model.tied ? 'yes' : 'no'}</dd>
            <dt>Tokenizer</dt>
            <dd>{model.hasTokenizer ? 'yes' : 'no'}</dd>
            <dt>Chat template</dt>
            <dd>{model.hasChatTemplate ? 'yes' : 'no'}</dd>
            <dt>Source</dt>
            <dd>{SOURCE_NAMES[model.source.kind]}</dd>
            <dt>Load time</dt>
            <dd>{formatMs(model.loadMs)}</dd>
          </dl>
        </>
      )}
    </section>
  );
}
