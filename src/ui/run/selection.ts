/**
 * What the researcher is looking at, shared by every run panel: a problem, one of its rollouts,
 * a memory item (experience or insight id) or a behavior. Selecting something in one panel
 * highlights it in the others. Kept across reloads with the layout.
 */
import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';
import { isRecord } from '../../util/records';

export interface Selection {
  problem: string | null;
  rollout: string | null;
  /** Experience or insight item id. */
  item: string | null;
  behavior: string | null;
  /** A reflection record id (opened from an insight or behavior). */
  reflection: string | null;
}

const NONE: Selection = { problem: null, rollout: null, item: null, behavior: null, reflection: null };

interface SelectionActions {
  selectProblem(problem: string | null): void;
  selectRollout(rollout: string, problem: string): void;
  selectItem(item: string, problem: string | null): void;
  selectBehavior(name: string | null): void;
  selectReflection(id: string | null): void;
  clear(): void;
}

export const useSelection = create<Selection & SelectionActions>()(
  persist(
    (set) => ({
      ...NONE,
      selectProblem: (problem) => set((s) => ({ problem, rollout: s.rollout && problem && s.rollout.includes(`-${problem}-`) ? s.rollout : null })),
      selectRollout: (rollout, problem) => set({ rollout, problem }),
      selectItem: (item, problem) => set((s) => ({ item, problem: problem ?? s.problem })),
      selectBehavior: (behavior) => set({ behavior }),
      selectReflection: (reflection) => set({ reflection }),
      clear: () => set(NONE),
    }),
    {
      name: 'pmd-lab.selection',
      version: 1,
      storage: createJSONStorage(() => localStorage),
      partialize: (s): Selection => ({ problem: s.problem, rollout: s.rollout, item: s.item, behavior: s.behavior, reflection: s.reflection }),
      merge: (p, current) => {
        const str = (v: unknown) => (typeof v === 'string' ? v : null);
        return isRecord(p) ? { ...current, problem: str(p.problem), rollout: str(p.rollout), item: str(p.item), behavior: str(p.behavior), reflection: str(p.reflection) } : current;
      },
    },
  ),
);
