/**
 * A numeric input that keeps exactly what the user typed. A value that parses and lies in range
 * is passed on; anything else stays in the field, marked, with the valid range and what is wrong
 * until it is fixed (and is kept across reloads as a draft). The stored value is never changed
 * behind the user's back.
 */
import { useEffect, useId, useState } from 'react';
import { useFieldDrafts } from './field-drafts';

export interface NumberFieldProps {
  label: string;
  value: number;
  onChange(value: number): void;
  /** Field id group, e.g. "sampling": the group's action waits while any of its fields is invalid. */
  group: string;
  integer?: boolean;
  min?: number;
  max?: number;
  /** Lower bound excluded (e.g. top-p > 0). */
  minExclusive?: boolean;
  title?: string;
  testId?: string;
}

export function rangeText(p: Pick<NumberFieldProps, 'integer' | 'min' | 'max' | 'minExclusive'>): string {
  const what = p.integer ? 'a whole number' : 'a number';
  if (p.min !== undefined && p.max !== undefined) return `${what} ${p.minExclusive ? 'above' : 'from'} ${p.min} to ${p.max}`;
  if (p.min !== undefined) return `${what} ${p.minExclusive ? '>' : '≥'} ${p.min}`;
  if (p.max !== undefined) return `${what} ≤ ${p.max}`;
  return what;
}

export function numberProblem(text: string, p: Pick<NumberFieldProps, 'integer' | 'min' | 'max' | 'minExclusive'>): string | null {
  const t = text.trim();
  if (t === '') return `enter ${rangeText(p)}`;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return `"${text}" is not a number; enter ${rangeText(p)}`;
  const n = Number(t);
  const ok =
    Number.isFinite(n) &&
    (!p.integer || Number.isInteger(n)) &&
    (p.min === undefined || (p.minExclusive ? n > p.min : n >= p.min)) &&
    (p.max === undefined || n <= p.max);
  return ok ? null : `${t} is out of range: enter ${rangeText(p)}`;
}

export function NumberField({ label, value, onChange, group, integer, min, max, minExclusive, title, testId }: NumberFieldProps) {
  const id = `${group}:${label}`;
  const stored = useFieldDrafts((s) => s.drafts[id]);
  const setDraftStore = useFieldDrafts((s) => s.setDraft);
  const [draft, setDraft] = useState(stored ?? String(value));
  const errId = useId();
  // Follow outside changes (reset, reload) unless the draft already means that value or is being fixed.
  useEffect(() => {
    setDraft((d) => (stored !== undefined ? d : d.trim() !== '' && Number(d) === value ? d : String(value)));
  }, [value, stored]);
  const spec = { integer, min, max, minExclusive };
  const problem = numberProblem(draft, spec);
  return (
    <label className="field" title={title}>
      <span>{label}</span>
      <input
        type="text"
        inputMode={integer ? 'numeric' : 'decimal'}
        value={draft}
        aria-invalid={problem !== null}
        aria-describedby={problem ? errId : undefined}
        className={problem ? 'invalid' : undefined}
        spellCheck={false}
        autoComplete="off"
        onChange={(e) => {
          const text = e.target.value;
          setDraft(text);
          const bad = numberProblem(text, spec);
          setDraftStore(id, bad ? text : null);
          if (!bad) onChange(Number(text.trim()));
        }}
        data-testid={testId}
      />
      {problem && (
        <span className="field-error" id={errId} role="alert">
          {problem}
        </span>
      )}
    </label>
  );
}
