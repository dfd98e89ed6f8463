/** The task suite of the next run: shipped, the embedded world's, or a file imported through the worker's converters. */
import { useState } from 'react';
import { HAS_WORLD } from '../embedded';
import { useLab } from '../store';
import { importSuite } from './controller';
import { useSetup } from './store';
import { IMPORT_FORMATS, SHIPPED_SUITES, suiteName, type ImportFormat } from './suites';

export function SuitePicker() {
  const suite = useSetup((s) => s.suite);
  const custom = useSetup((s) => s.custom);
  const info = useSetup((s) => s.suiteInfo);
  const error = useSetup((s) => s.suiteError);
  const importing = useSetup((s) => s.importing);
  const setSuite = useSetup((s) => s.setSuite);
  const engineReady = useLab((l) => l.engine.state === 'ready');
  const [format, setFormat] = useState<ImportFormat>('project');
  const name = suiteName(suite, custom);
  return (
    <fieldset className="suites">
      <legend>Task suite</legend>
      {HAS_WORLD && (
        <label className="check">
          <input type="radio" name="suite" checked={suite.kind === 'world'} onChange={() => setSuite({ kind: 'world' })} />
          world <span className="hint">the embedded world’s tasks (its run settings are the defaults)</span>
        </label>
      )}
      {SHIPPED_SUITES.map((x) => (
        <label key={x.name} className="check">
          <input type="radio" name="suite" checked={suite.kind === 'shipped' && suite.name === x.name} onChange={() => setSuite({ kind: 'shipped', name: x.name })} data-testid={`suite-${x.name}`} />
          {x.name} <span className="hint">{x.about}</span>
        </label>
      ))}
      {custom && (
        <label className="check">
          <input type="radio" name="suite" checked={suite.kind === 'custom'} onChange={() => setSuite({ kind: 'custom' })} />
          {custom.name} <span className="hint">imported: {custom.origin}</span>
        </label>
      )}
      <div className="row import">
        <label className="field">
          <span>Import a file as</span>
          <select value={format} onChange={(e) => setFormat(e.target.value as ImportFormat)} data-testid="import-format">
            {IMPORT_FORMATS.map((f) => (
              <option key={f.format} value={f.format}>
                {f.label}
              </option>
            ))}
          </select>
        </label>
        <label className="file-pick secondary-pick">
          {importing ? 'Importing…' : 'Choose file…'}
          <input
            type="file"
            accept=".jsonl,.json"
            disabled={importing || !engineReady}
            onChange={(e) => {
              const f = e.target.files?.[0];
              e.target.value = '';
              if (f) void importSuite(f, format);
            }}
            data-testid="import-suite"
          />
        </label>
      </div>
      <p className="hint" data-testid="suite-info">
        {info && info.name === name
          ? `${name}: ${info.tasks} tasks (${info.train} train, ${info.test} test)${info.skipped ? `; skipped ${info.skipped}` : ''}${info.problems.length ? `; ${info.problems.length} problems, first: ${info.problems[0]}` : ''}`
          : error
            ? ''
            : `${name}: checking…`}
      </p>
      {error && <p className="field-error">{error}</p>}
    </fieldset>
  );
}
