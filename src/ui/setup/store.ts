/**
 * The run setup the user is editing: variant, changed fields, unfinished text, task suite and
 * run name (kept in localStorage, checked on the way back in), and what the worker said about
 * the chosen suite.
 */
import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';
import { VARIANTS, VARIANT_PRESETS, type Variant } from '../../worker/protocol';
import { isRecord } from '../../util/records';
import { WORLD_RUN_CONFIG } from '../embedded';
import { applyField, applyVariant, FIELD_BY_PATH, presetPaths, type ConfigDraft } from './config-draft';
import { DEFAULT_SUITE, isValidChoice, type CustomSuite, type SuiteChoice } from './suites';

export interface SetupSettings extends ConfigDraft {
  suite: SuiteChoice;
  custom: CustomSuite | null;
  runName: string;
}

export interface SuiteInfo {
  /** Which suite the counts are for (its name). */
  name: string;
  tasks: number;
  train: number;
  test: number;
  problems: string[];
  skipped: string;
}

interface SetupRuntime {
  suiteInfo: SuiteInfo | null;
  suiteError: string | null;
  importing: boolean;
}

interface SetupActions {
  setField(path: string, value: unknown, text?: string): void;
  resetField(path: string): void;
  setVariant(v: Variant): void;
  /** Replace the changed fields (a shared link, a preset of small settings). */
  setOverrides(overrides: Record<string, unknown>): void;
  setSuite(s: SuiteChoice): void;
  setCustom(c: CustomSuite | null): void;
  setRunName(name: string): void;
  setRuntime(patch: Partial<SetupRuntime>): void;
}

export const DEFAULT_SETUP: SetupSettings = { variant: 'pmd', overrides: {}, drafts: {}, suite: DEFAULT_SUITE, custom: null, runName: '' };

/** Settings under the user's: the embedded world's run.json when its suite is chosen. */
export function baseFor(s: Pick<SetupSettings, 'suite'>): Record<string, unknown> {
  return s.suite.kind === 'world' ? WORLD_RUN_CONFIG : {};
}

/** An imported suite larger than this is used but not kept across reloads (localStorage is small). */
const MAX_KEPT_SUITE = 1_500_000;

export const useSetup = create<SetupSettings & SetupRuntime & SetupActions>()(
  persist(
    (set) => ({
      ...DEFAULT_SETUP,
      suiteInfo: null,
      suiteError: null,
      importing: false,
      setField: (path, value, text) => set((s) => applyField(s, baseFor(s), path, value, text)),
      resetField: (path) =>
        set((s) => {
          const overrides = { ...s.overrides };
          const drafts = { ...s.drafts };
          delete overrides[path];
          delete drafts[path];
          return { overrides, drafts };
        }),
      setVariant: (variant) => set((s) => applyVariant(s, variant, presetPaths(VARIANT_PRESETS[variant]))),
      setOverrides: (overrides) => set({ overrides, drafts: {} }),
      setSuite: (suite) => set({ suite, suiteInfo: null, suiteError: null }),
      setCustom: (custom) => set({ custom }),
      setRunName: (runName) => set({ runName }),
      setRuntime: (patch) => set(patch),
    }),
    {
      name: 'pmd-lab.setup',
      version: 1,
      storage: createJSONStorage(() => localStorage),
      partialize: (s): SetupSettings => ({
        variant: s.variant,
        overrides: s.overrides,
        drafts: s.drafts,
        suite: s.suite,
        custom: s.custom && s.custom.text.length <= MAX_KEPT_SUITE ? s.custom : null,
        runName: s.runName,
      }),
      merge: (p, current) => ({ ...current, ...sanitizeSetup(p) }),
    },
  ),
);

/** Fields of a stored or shared setup that the form knows; anything else is dropped. */
export function sanitizeOverrides(v: unknown): Record<string, unknown> {
  if (!isRecord(v)) return {};
  return Object.fromEntries(Object.entries(v).filter(([k]) => FIELD_BY_PATH.has(k) && k !== 'variant'));
}

export function sanitizeSetup(v: unknown): SetupSettings {
  const d = DEFAULT_SETUP;
  if (!isRecord(v)) return d;
  const drafts = isRecord(v.drafts) ? Object.fromEntries(Object.entries(v.drafts).filter(([k, t]) => FIELD_BY_PATH.has(k) && typeof t === 'string')) : {};
  const custom = isRecord(v.custom) && typeof v.custom.name === 'string' && typeof v.custom.text === 'string' ? { name: v.custom.name, text: v.custom.text, origin: typeof v.custom.origin === 'string' ? v.custom.origin : '' } : null;
  let suite = isValidChoice(v.suite) ? v.suite : d.suite;
  if (suite.kind === 'custom' && !custom) suite = d.suite;
  return {
    variant: (VARIANTS as readonly unknown[]).includes(v.variant) ? (v.variant as Variant) : d.variant,
    overrides: sanitizeOverrides(v.overrides),
    drafts: drafts as Record<string, string>,
    suite,
    custom,
    runName: typeof v.runName === 'string' ? v.runName : '',
  };
}
