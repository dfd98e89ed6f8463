/**
 * Text typed into a number field that is not a valid value yet, by field id
 * ("<group>:<name>"), kept across reloads like every other input. While a group has a draft, its
 * action (Generate, Train) is held back and the field says what is wrong.
 */
import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';
import { isRecord } from '../../util/records';

interface DraftState {
  drafts: Record<string, string>;
  setDraft(id: string, text: string | null): void;
}

export const useFieldDrafts = create<DraftState>()(
  persist(
    (set) => ({
      drafts: {},
      setDraft: (id, text) =>
        set((s) => {
          const drafts = { ...s.drafts };
          if (text === null) delete drafts[id];
          else drafts[id] = text;
          return { drafts };
        }),
    }),
    {
      name: 'pmd-lab.field-drafts',
      version: 1,
      storage: createJSONStorage(() => localStorage),
      partialize: (s) => ({ drafts: s.drafts }),
      merge: (p, current) => ({
        ...current,
        drafts: isRecord(p) && isRecord(p.drafts) ? (Object.fromEntries(Object.entries(p.drafts).filter(([, v]) => typeof v === 'string')) as Record<string, string>) : {},
      }),
    },
  ),
);

/** Whether any field of `group` holds text that is not a valid value. */
export function useGroupInvalid(group: string): boolean {
  return useFieldDrafts((s) => Object.keys(s.drafts).some((k) => k.startsWith(`${group}:`)));
}
