/** Where the next model comes from: the embedded default, a Hub repo, or a local folder. */
import { useId, type ChangeEvent } from 'react';
import { EMBEDDED_LABEL, useLab, type SourceKind } from '../store';
import { loadEmbedded, loadFiles, loadHub } from './controller';
import { EMBEDDED } from '../embedded';

const KINDS: { kind: SourceKind; label: string }[] = [
  { kind: 'embedded', label: 'Embedded' },
  { kind: 'hub', label: 'Hugging Face Hub' },
  { kind: 'files', label: 'Local folder' },
];

// React has no typed prop for these; they make the file input pick a whole folder.
const DIRECTORY_PROPS = { webkitdirectory: '', directory: '' } as Record<string, string>;

export function SourcePicker() {
  const kind = useLab((s) => s.sourceKind);
  const setKind = useLab((s) => s.setSourceKind);
  const busy = useLab((s) => s.engine.state !== 'ready' || s.load?.status === 'loading');
  const name = useId();
  return (
    <section className="panel" aria-labelledby="source-title">
      <h2 id="source-title">Model source</h2>
      <div className="segmented" role="radiogroup" aria-label="Model source">
        {KINDS.map((k) => (
          <label key={k.kind} className={kind === k.kind ? 'active' : undefined}>
            <input type="radio" name={name} value={k.kind} checked={kind === k.kind} onChange={() => setKind(k.kind)} />
            {k.label}
          </label>
        ))}
      </div>
      {kind === 'embedded' && <EmbeddedForm busy={busy} />}
      {kind === 'hub' && <HubForm busy={busy} />}
      {kind === 'files' && <FolderForm busy={busy} />}
    </section>
  );
}

function EmbeddedForm({ busy }: { busy: boolean }) {
  return (
    <div className="source-body">
      <p className="muted">
        {EMBEDDED_LABEL}: {EMBEDDED.about}, served by this app from <code>{EMBEDDED.folder}</code>. Works offline.
      </p>
      <button type="button" onClick={() => void loadEmbedded()} disabled={busy} data-testid="load-embedded">
        Load embedded model
      </button>
    </div>
  );
}

function HubForm({ busy }: { busy: boolean }) {
  const hub = useLab((s) => s.hub);
  const setHub = useLab((s) => s.setHub);
  const token = useLab((s) => s.hubToken);
  const setToken = useLab((s) => s.setHubToken);
  const canLoad = !busy && hub.repo.trim() !== '';
  return (
    <form
      className="source-body form"
      onSubmit={(e) => {
        e.preventDefault();
        if (canLoad) void loadHub();
      }}
    >
      <label>
        Repo id
        <input
          type="text"
          value={hub.repo}
          placeholder="Qwen/Qwen3-0.6B"
          spellCheck={false}
          autoComplete="off"
          onChange={(e) => setHub({ repo: e.target.value })}
          data-testid="hub-repo"
        />
      </label>
      <label>
        Revision
        <input
          type="text"
          value={hub.revision}
          placeholder="main"
          spellCheck={false}
          autoComplete="off"
          onChange={(e) => setHub({ revision: e.target.value })}
          data-testid="hub-revision"
        />
      </label>
      <label>
        Endpoint
        <input
          type="url"
          value={hub.endpoint}
          spellCheck={false}
          autoComplete="off"
          onChange={(e) => setHub({ endpoint: e.target.value })}
          data-testid="hub-endpoint"
        />
      </label>
      <label>
        Token <span className="muted">(optional, kept in memory only)</span>
        <input
          type="password"
          value={token}
          placeholder="hf_…"
          autoComplete="off"
          onChange={(e) => setToken(e.target.value)}
          data-testid="hub-token"
        />
      </label>
      <p className="hint">Files are cached in the browser; pin a commit sha as the revision for reproducible runs.</p>
      <button type="submit" disabled={!canLoad} data-testid="load-hub">
        Load from Hub
      </button>
    </form>
  );
}

function FolderForm({ busy }: { busy: boolean }) {
  const onChange = (e: ChangeEvent<HTMLInputElement>) => {
    const files = Array.from(e.target.files ?? []);
    // Clear the input so choosing the same folder again still fires a change.
    e.target.value = '';
    void loadFiles(files);
  };
  return (
    <div className="source-body">
      <p className="muted">
        A Hugging Face model folder (<code>config.json</code>, <code>model.safetensors</code> or a sharded index, optional{' '}
        <code>tokenizer.json</code>) or an onnx-community export. Nothing is uploaded.
      </p>
      <label className="file-pick">
        Choose folder…
        <input type="file" multiple {...DIRECTORY_PROPS} onChange={onChange} disabled={busy} data-testid="folder-input" />
      </label>
    </div>
  );
}
