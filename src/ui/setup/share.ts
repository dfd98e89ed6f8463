/**
 * The whole setup as a link: `?setup=` carries the variant, the changed fields and the suite
 * (base64url JSON), `?backend=` the backend choice. Opening such a link applies it to the form
 * (and keeps it, like any edit), then removes the parameters from the address bar so a reload
 * does not apply them again over later edits. An imported suite is not in the link (it can be
 * large); the link says which one it was.
 */
import { VARIANTS, type Variant } from '../../worker/protocol';
import { isRecord } from '../../util/records';
import { backendFromUrl, type BackendPref } from '../device/probe';
import { useLab } from '../store';
import { sanitizeOverrides, useSetup, type SetupSettings } from './store';
import { isValidChoice, type SuiteChoice } from './suites';

interface Shared {
  v: Variant;
  o: Record<string, unknown>;
  s: SuiteChoice;
  n?: string;
}

function toBase64Url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(text: string): string {
  const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}

export function encodeSetup(s: Pick<SetupSettings, 'variant' | 'overrides' | 'suite' | 'custom'>): string {
  const shared: Shared = { v: s.variant, o: s.overrides, s: s.suite };
  if (s.suite.kind === 'custom' && s.custom) shared.n = s.custom.name;
  return toBase64Url(JSON.stringify(shared));
}

export function decodeSetup(text: string): { variant: Variant; overrides: Record<string, unknown>; suite: SuiteChoice | null; customName: string | null } | null {
  try {
    const v: unknown = JSON.parse(fromBase64Url(text));
    if (!isRecord(v) || !(VARIANTS as readonly unknown[]).includes(v.v)) return null;
    const suite = isValidChoice(v.s) ? v.s : null;
    return { variant: v.v as Variant, overrides: sanitizeOverrides(v.o), suite, customName: typeof v.n === 'string' ? v.n : null };
  } catch {
    return null;
  }
}

/** A link that opens this app with the current setup and backend choice. */
export function shareLink(backend: BackendPref): string {
  const url = new URL(window.location.href);
  url.search = '';
  url.hash = '';
  url.searchParams.set('setup', encodeSetup(useSetup.getState()));
  if (backend !== 'auto') url.searchParams.set('backend', backend);
  return url.href;
}

/** Apply ?setup= and ?backend= from the address bar (once, at start); returns what to tell the user. */
export function applyUrlSettings(): string | null {
  const url = new URL(window.location.href);
  const backend = backendFromUrl(url.search);
  if (backend) useLab.getState().setBackend(backend);
  const raw = url.searchParams.get('setup');
  let note: string | null = null;
  if (raw !== null) {
    const d = decodeSetup(raw);
    if (!d) note = 'The link’s run setup could not be read; the form keeps your own settings.';
    else {
      const st = useSetup.getState();
      st.setVariant(d.variant);
      st.setOverrides(d.overrides);
      if (d.suite && (d.suite.kind !== 'custom' || st.custom)) st.setSuite(d.suite);
      note = d.suite?.kind === 'custom' || (!d.suite && d.customName) ? `The link’s setup was applied. It used an imported task suite (${d.customName ?? 'unnamed'}), which links do not carry: import it again.` : 'The run setup from the link was applied.';
    }
  }
  if (backend || raw !== null) {
    url.searchParams.delete('setup');
    url.searchParams.delete('backend');
    window.history.replaceState(null, '', url.href);
  }
  return note;
}
