/**
 * A numeric input that keeps what the user typed while it is incomplete ("0.", "-") and only
 * passes valid numbers on; an invalid entry is marked and leaves the stored value unchanged.
 */
import { useEffect, useState } from 'react';

export interface NumberFieldProps {
  label: string;
  value: number;
  onChange(value: number): void;
  integer?: boolean;
  min?: number;
  max?: number;
  /** Lower bound excluded (e.g. top-p > 0). */
  minExclusive?: boolean;
  step?: number;
  title?: string;
  testId?: string;
}

export function NumberField({ label, value, onChange, integer, min, max, minExclusive, step, title, testId }: NumberFieldProps) {
  const [draft, setDraft] = useState(String(value));
  // Follow outside changes (reset, reload) unless the draft already means that value.
  useEffect(() => {
    setDraft((d) => (d.trim() !== '' && Number(d) === value ? d : String(value)));
  }, [value]);
  const valid = (n: number) =>
    Number.isFinite(n) &&
    (!integer || Number.isInteger(n)) &&
    (min === undefined || (minExclusive ? n > min : n >= min)) &&
    (max === undefined || n <= max);
  const parsed = draft.trim() === '' ? NaN : Number(draft);
  const ok = valid(parsed);
  return (
    <label className="field" title={title}>
      <span>{label}</span>
      <input
        type="number"
        inputMode={integer ? 'numeric' : 'decimal'}
        value={draft}
        min={min}
        max={max}
        step={step ?? (integer ? 1 : 'any')}
        aria-invalid={!ok}
        className={ok ? undefined : 'invalid'}
        onChange={(e) => {
          setDraft(e.target.value);
          const n = e.target.value.trim() === '' ? NaN : Number(e.target.value);
          if (valid(n)) onChange(n);
        }}
        onBlur={() => {
          if (!ok) setDraft(String(value));
        }}
        data-testid={testId}
      />
    </label>
  );
}
