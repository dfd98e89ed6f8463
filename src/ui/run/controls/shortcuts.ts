/**
 * Keyboard shortcuts of the run controls, listed in the UI. They act only when focus is not in
 * a text field, a select or a dialog, and without Ctrl, Alt or Meta (browser shortcuts stay
 * theirs).
 */
import { useEffect } from 'react';

export interface Shortcut {
  key: string;
  /** As shown to the user and in aria-keyshortcuts. */
  label: string;
  action: string;
  shift?: boolean;
}

export const SHORTCUTS: Shortcut[] = [
  { key: 'p', label: 'P', action: 'Phase' },
  { key: 's', label: 'S', action: 'Step' },
  { key: 'r', label: 'R', action: 'Run' },
  { key: 'Escape', label: 'Escape', action: 'Pause' },
  { key: 'R', label: 'Shift+R', action: 'Reset', shift: true },
];

export function keysFor(action: string): string {
  return SHORTCUTS.filter((s) => s.action === action)
    .map((s) => s.label)
    .join(' ');
}

function typing(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el || !el.tagName) return false;
  if (el.isContentEditable || el.closest('dialog[open]')) return true;
  const tag = el.tagName;
  if (tag === 'TEXTAREA' || tag === 'SELECT') return true;
  if (tag !== 'INPUT') return false;
  const type = (el as HTMLInputElement).type;
  return !['checkbox', 'radio', 'button', 'submit', 'range', 'file'].includes(type);
}

/** Listen for the shortcuts while mounted; `run(action)` does the work. */
export function useShortcuts(run: (action: string) => void, enabled: boolean): void {
  useEffect(() => {
    if (!enabled) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.altKey || e.metaKey || e.repeat || typing(e.target)) return;
      const s = SHORTCUTS.find((x) => x.key === e.key && Boolean(x.shift) === e.shiftKey);
      if (!s) return;
      e.preventDefault();
      run(s.action);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [run, enabled]);
}
