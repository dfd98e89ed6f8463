/**
 * Every run setting, generated from the config object's field table (PMD_FIELDS): the field's
 * path as it appears in config.json, an input for its kind, its default and valid range, its
 * one-line explanation, and its problem (from validatePmdConfig, checked as you type) until it
 * is fixed. Changed fields are marked and can be put back to their default.
 */
import { memo, useMemo } from 'react';
import { PMD_FIELDS, type PmdConfig } from '../../worker/protocol';
import { describeDefault, getPath, type ConfigField, type ConfigProblem } from '../../util/config-fields';
import { useOpen } from '../layout';
import { baseConfig, describeRange, parseNumberText } from './config-draft';
import { baseFor, useSetup } from './store';

const GROUPS: { key: string; title: string; open: boolean }[] = [
  { key: '', title: 'Run', open: true },
  { key: 'rollout', title: 'Rollouts (sampling)', open: true },
  { key: 'experience', title: 'Experience memory (level 0)', open: false },
  { key: 'insight', title: 'Insight memory (level 1)', open: false },
  { key: 'behavior', title: 'Behavior memory (level 2)', open: false },
  { key: 'teacher', title: 'Teacher context', open: false },
  { key: 'loss', title: 'Loss', open: false },
  { key: 'train', title: 'LoRA and optimizer', open: false },
  { key: 'reflector', title: 'Reflector', open: false },
  { key: 'embedder', title: 'Embedder', open: false },
  { key: 'retrieval', title: 'Retrieval', open: false },
  { key: 'eval', title: 'Evaluation', open: false },
  { key: 'freeze', title: 'Freeze switches (also live in Ablations)', open: false },
];

function groupOf(f: ConfigField): string {
  return f.path.includes('.') ? f.path.split('.')[0] : '';
}

export function ConfigForm({ config, problems }: { config: PmdConfig; problems: ConfigProblem[] }) {
  const variant = useSetup((s) => s.variant);
  const suite = useSetup((s) => s.suite);
  const defaults = useMemo(() => baseConfig(variant, baseFor({ suite })), [variant, suite]);
  const byPath = useMemo(() => {
    const m = new Map<string, string>();
    for (const p of problems) if (!m.has(p.path)) m.set(p.path, p.message);
    return m;
  }, [problems]);
  return (
    <div className="config-form">
      {GROUPS.map((g) => {
        const fields = PMD_FIELDS.filter((f) => groupOf(f) === g.key && f.path !== 'variant');
        const bad = fields.filter((f) => byPath.has(f.path)).length;
        return <FieldGroup key={g.key || 'run'} name={g.key || 'run'} title={g.title} openByDefault={g.open || bad > 0} fields={fields} config={config} defaults={defaults} problems={byPath} bad={bad} />;
      })}
    </div>
  );
}

function FieldGroup(props: { name: string; title: string; openByDefault: boolean; fields: ConfigField[]; config: PmdConfig; defaults: PmdConfig; problems: Map<string, string>; bad: number }) {
  const [open, setOpen] = useOpen(`cfg-${props.name}`, props.openByDefault);
  const changed = props.fields.filter((f) => JSON.stringify(getPath(props.config, f.path)) !== JSON.stringify(getPath(props.defaults, f.path))).length;
  return (
    <details className="cfg-group" open={open || props.bad > 0} onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
      <summary>
        {props.title}
        {changed > 0 && <span className="pill">{changed} changed</span>}
        {props.bad > 0 && <span className="pill bad-pill">{props.bad} to fix</span>}
      </summary>
      <div className="cfg-fields">
        {props.fields.map((f) => (
          <FieldRow key={f.path} field={f} value={getPath(props.config, f.path)} def={getPath(props.defaults, f.path)} defText={describeDefault(f, props.defaults)} problem={props.problems.get(f.path) ?? null} />
        ))}
      </div>
    </details>
  );
}

const FieldRow = memo(function FieldRow({ field: f, value, def, defText, problem }: { field: ConfigField; value: unknown; def: unknown; defText: string; problem: string | null }) {
  const draft = useSetup((s) => s.drafts[f.path]);
  const setField = useSetup((s) => s.setField);
  const resetField = useSetup((s) => s.resetField);
  const changed = draft !== undefined || JSON.stringify(value) !== JSON.stringify(def);
  const id = `cfg-${f.path.replace(/\./g, '-')}`;
  const helpId = `${id}-help`;
  const errId = `${id}-err`;
  const describedBy = problem ? `${helpId} ${errId}` : helpId;
  return (
    <div className={`cfg-field${problem ? ' has-error' : ''}${changed ? ' changed' : ''}`}>
      <label htmlFor={id} className="cfg-label">
        <code>{f.path}</code>
      </label>
      <div className="cfg-input">
        <FieldInput field={f} id={id} value={value} draft={draft} describedBy={describedBy} invalid={problem !== null} onValue={(v, text) => setField(f.path, v, text)} />
      </div>
      <div className="cfg-meta">
        <span>default {defText === '' ? '(empty)' : defText}</span>
        <span>{describeRange(f)}</span>
        {changed && (
          <button type="button" className="link" onClick={() => resetField(f.path)} aria-label={`Reset ${f.path} to its default`}>
            reset
          </button>
        )}
      </div>
      <p className="cfg-help" id={helpId}>
        {f.help}
      </p>
      {problem && (
        <p className="field-error" id={errId} role="alert">
          {f.path}: {problem}
        </p>
      )}
    </div>
  );
});

function FieldInput({ field: f, id, value, draft, describedBy, invalid, onValue }: { field: ConfigField; id: string; value: unknown; draft: string | undefined; describedBy: string; invalid: boolean; onValue(v: unknown, text?: string): void }) {
  const s = f.spec;
  const common = { id, 'aria-describedby': describedBy, 'aria-invalid': invalid, 'data-testid': `cfg-${f.path}` };
  switch (s.kind) {
    case 'number':
      return (
        <input
          {...common}
          type="text"
          inputMode={s.integer ? 'numeric' : 'decimal'}
          className={invalid ? 'invalid' : undefined}
          value={draft ?? (value === null ? '' : String(value))}
          placeholder={s.nullable ? (f.nullMeans ?? 'default') : undefined}
          spellCheck={false}
          autoComplete="off"
          onChange={(e) => {
            const v = parseNumberText(f, e.target.value);
            onValue(v, e.target.value);
          }}
        />
      );
    case 'enum':
      return (
        <select {...common} value={String(value)} onChange={(e) => onValue(e.target.value)}>
          {s.values.map((v) => (
            <option key={v} value={v}>
              {v}
            </option>
          ))}
        </select>
      );
    case 'boolean':
      return <input {...common} type="checkbox" checked={value === true} onChange={(e) => onValue(e.target.checked)} />;
    case 'set': {
      const list = Array.isArray(value) ? (value as string[]) : [];
      return (
        <div className="cfg-set" role="group" aria-label={f.path} aria-describedby={describedBy} id={id} data-testid={`cfg-${f.path}`}>
          {s.values.map((v) => (
            <label key={v} className="check">
              <input type="checkbox" checked={list.includes(v)} onChange={(e) => onValue(e.target.checked ? s.values.filter((x) => x === v || list.includes(x)) : list.filter((x) => x !== v))} />
              {v}
            </label>
          ))}
        </div>
      );
    }
    case 'string':
      return <input {...common} type="text" value={typeof value === 'string' ? value : ''} spellCheck={false} autoComplete="off" onChange={(e) => onValue(s.nullable && e.target.value === '' ? null : e.target.value)} />;
  }
}
