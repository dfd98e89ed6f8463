/**
 * How the user arranged the page (tab, folded sections, chart smoothing, runs overlaid, memory
 * filters, what is selected), kept in localStorage so a reload shows the same page.
 */
import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';
import { isRecord } from '../util/records';

export const TABS = ['run', 'chat', 'finetune'] as const;
export type Tab = (typeof TABS)[number];

export const MEMORY_TABS = ['experience', 'insights', 'behaviors', 'changes'] as const;
export type MemoryTab = (typeof MEMORY_TABS)[number];

export interface Layout {
  tab: Tab;
  /** The model and device column is shown. */
  side: boolean;
  /** Folded (false) or unfolded sections, by name. */
  open: Record<string, boolean>;
  /** Exponential smoothing of the curves, 0 (none) to 0.95. */
  smoothing: number;
  /** Other runs drawn over the open one's curves. */
  overlay: string[];
  memoryTab: MemoryTab;
  memoryQuery: string;
  /** Only the selected problem's items. */
  memoryOnlySelected: boolean;
  /** The step the rollouts panel shows (null: the latest with rollouts). */
  rolloutStep: number | null;
}

export const DEFAULT_LAYOUT: Layout = {
  tab: 'run',
  side: true,
  open: {},
  smoothing: 0,
  overlay: [],
  memoryTab: 'experience',
  memoryQuery: '',
  memoryOnlySelected: false,
  rolloutStep: null,
};

interface LayoutActions {
  setLayout(patch: Partial<Layout>): void;
  setOpen(name: string, open: boolean): void;
}

export const useLayout = create<Layout & LayoutActions>()(
  persist(
    (set) => ({
      ...DEFAULT_LAYOUT,
      setLayout: (patch) => set(patch),
      setOpen: (name, open) => set((s) => ({ open: { ...s.open, [name]: open } })),
    }),
    {
      name: 'pmd-lab.layout',
      version: 1,
      storage: createJSONStorage(() => localStorage),
      partialize: (s): Layout => ({
        tab: s.tab,
        side: s.side,
        open: s.open,
        smoothing: s.smoothing,
        overlay: s.overlay,
        memoryTab: s.memoryTab,
        memoryQuery: s.memoryQuery,
        memoryOnlySelected: s.memoryOnlySelected,
        rolloutStep: s.rolloutStep,
      }),
      merge: (persisted, current) => ({ ...current, ...sanitizeLayout(persisted) }),
    },
  ),
);

export function sanitizeLayout(v: unknown): Layout {
  const d = DEFAULT_LAYOUT;
  if (!isRecord(v)) return d;
  const open: Record<string, boolean> = {};
  if (isRecord(v.open)) for (const [k, b] of Object.entries(v.open)) if (typeof b === 'boolean') open[k] = b;
  return {
    tab: (TABS as readonly unknown[]).includes(v.tab) ? (v.tab as Tab) : d.tab,
    side: typeof v.side === 'boolean' ? v.side : d.side,
    open,
    smoothing: typeof v.smoothing === 'number' && v.smoothing >= 0 && v.smoothing <= 0.95 ? v.smoothing : d.smoothing,
    overlay: Array.isArray(v.overlay) ? v.overlay.filter((x): x is string => typeof x === 'string') : d.overlay,
    memoryTab: (MEMORY_TABS as readonly unknown[]).includes(v.memoryTab) ? (v.memoryTab as MemoryTab) : d.memoryTab,
    memoryQuery: typeof v.memoryQuery === 'string' ? v.memoryQuery : d.memoryQuery,
    memoryOnlySelected: typeof v.memoryOnlySelected === 'boolean' ? v.memoryOnlySelected : d.memoryOnlySelected,
    rolloutStep: typeof v.rolloutStep === 'number' && Number.isInteger(v.rolloutStep) ? v.rolloutStep : null,
  };
}

/** A section's folded state with its default. */
export function useOpen(name: string, fallback: boolean): [boolean, (open: boolean) => void] {
  const open = useLayout((s) => s.open[name]);
  const setOpen = useLayout((s) => s.setOpen);
  return [open ?? fallback, (o) => setOpen(name, o)];
}
