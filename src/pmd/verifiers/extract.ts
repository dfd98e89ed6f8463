/**
 * Finding the final answer in a model's response. Real outputs state it in many ways; the rules
 * below cover the common ones, and each rule takes the LAST place it matches (models restate and
 * correct themselves). A `<think>…</think>` block is never read.
 *
 * Numbers, first rule that matches wins:
 *   1. `#### 18`
 *   2. `\boxed{18}` (also `\boxed{\$70{,}000}`, `\boxed{\frac{3}{4}}`)
 *   3. an answer statement: `The answer is 18.`, `Answer: $70,000`, `final answer: 64.00`
 *   4. the last number anywhere in the text
 * Numbers may carry a sign, `$`, thousands commas and decimals; `64.00` is 64.
 *
 * Choices (labels from the task: letters or words such as Yes/No):
 *   1. `<answer>B</answer>`   2. `\boxed{B}`   3. `Answer: B`, `The answer is (D)`,
 *   `**Answer:** B`, `the correct option is B) ...`   4. a line that is only the choice: `B`,
 *   `(B)`, `**B**`, `B.`, `B) text` (lines listing several options are ignored)   5. a bold
 *   choice anywhere (`**B**`)   6. for word
 *   labels, the first word of the response ("Yes, because ...") in any case, and true/false for
 *   yes/no. An answer statement that repeats an option's text picks that option.
 */
import type { ChoiceOption } from '../tasks/types';

/** The response without its reasoning: closed think blocks removed, text after a dangling </think>. */
export function finalText(response: string): string {
  let t = response.replace(/<think>[\s\S]*?<\/think>/gi, ' ');
  const close = t.toLowerCase().lastIndexOf('</think>');
  if (close >= 0) t = t.slice(close + '</think>'.length);
  const open = t.toLowerCase().indexOf('<think>');
  if (open >= 0) t = t.slice(0, open); // never closed: the model was still thinking
  return t;
}

function lastMatch(re: RegExp, text: string): RegExpExecArray | null {
  let last: RegExpExecArray | null = null;
  for (const m of text.matchAll(re)) last = m as RegExpExecArray;
  return last;
}

/** Contents of every \boxed{...} (balanced braces), in order. */
export function boxedContents(text: string): string[] {
  const out: string[] = [];
  const re = /\\(?:boxed|fbox)\s*\{/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    let depth = 1;
    let i = m.index + m[0].length;
    const start = i;
    for (; i < text.length && depth > 0; i++) {
      if (text[i] === '{') depth++;
      else if (text[i] === '}') depth--;
    }
    if (depth === 0) out.push(text.slice(start, i - 1));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Numbers

const NUMBER = /[-−]?\s?\$?\s?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?!\d)|[-−]?\$?\.\d+/g;

function parseNumber(raw: string): number | null {
  const v = Number(raw.replace(/[\s$,]/g, '').replace('−', '-'));
  return Number.isFinite(v) ? v : null;
}

/** The number a short answer text states: "$70,000", "\frac{3}{4}", "-2.50 dollars". */
function numberIn(text: string): number | null {
  const t = text.replace(/\\text\{([^}]*)\}/g, '$1').replace(/\\[$%,!;: ]|\{,\}/g, (s) => (s === '\\$' ? '$' : '')).replace(/\\left|\\right/g, '');
  const frac = /(-?)\\d?frac\s*\{\s*(-?\d+(?:\.\d+)?)\s*\}\s*\{\s*(-?\d+(?:\.\d+)?)\s*\}/.exec(t);
  if (frac) {
    const v = Number(frac[2]) / Number(frac[3]);
    return Number.isFinite(v) ? (frac[1] ? -v : v) : null;
  }
  const slash = /^\s*\$?\s*(-?\d+)\s*\/\s*(\d+)\s*\$?\s*$/.exec(t);
  if (slash && Number(slash[2]) !== 0) return Number(slash[1]) / Number(slash[2]);
  const m = t.match(NUMBER);
  return m ? parseNumber(m[0]) : null;
}

const ANSWER_STATEMENT = /(?:final\s+answer|the\s+answer|answer)\s*(?:is|:|=)\s*[:*\s]*(.{0,80})/gi;

export interface ExtractedNumber {
  value: number;
  /** Which rule found it: 'hashes', 'boxed', 'statement' or 'last-number'. */
  rule: 'hashes' | 'boxed' | 'statement' | 'last-number';
}

export function extractNumber(response: string): ExtractedNumber | null {
  const text = finalText(response);
  const hashes = lastMatch(/####\s*([^\n]+)/g, text);
  if (hashes) {
    const v = numberIn(hashes[1]);
    if (v !== null) return { value: v, rule: 'hashes' };
  }
  const boxed = boxedContents(text);
  for (let i = boxed.length - 1; i >= 0; i--) {
    const v = numberIn(boxed[i]);
    if (v !== null) return { value: v, rule: 'boxed' };
  }
  const statements = [...text.matchAll(ANSWER_STATEMENT)];
  for (let i = statements.length - 1; i >= 0; i--) {
    const v = numberIn(statements[i][1].split('\n')[0]);
    if (v !== null) return { value: v, rule: 'statement' };
  }
  const all = text.match(NUMBER);
  if (all) {
    const v = parseNumber(all[all.length - 1]);
    if (v !== null) return { value: v, rule: 'last-number' };
  }
  return null;
}

/** A number as the normalised answer string used for voting: "64", "0.5", "-3". */
export function normalizeNumber(v: number): string {
  if (Object.is(v, -0)) return '0';
  return String(Number.isInteger(v) ? v : Number(v.toPrecision(12)));
}

// ---------------------------------------------------------------------------------------------
// Choices

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const YES_NO_SYNONYMS: Record<string, string> = { true: 'yes', false: 'no' };

/** A regex source matching `s` in any case, for regexes that must stay case-sensitive elsewhere. */
function anyCase(s: string): string {
  return s.replace(/[a-z]/gi, (c) => `[${c.toLowerCase()}${c.toUpperCase()}]`);
}

const ANSWER_WORDS = `(?:${anyCase('final')}\\s+${anyCase('answer')}|${anyCase('correct')}\\s+(?:${anyCase('answer')}|${anyCase('option')}|${anyCase('choice')})|${anyCase('the')}\\s+${anyCase('answer')}|${anyCase('answer')})`;
const OPTION_WORD = `(?:${anyCase('option')}|${anyCase('choice')})`;

export function extractChoice(response: string, options: readonly ChoiceOption[]): string | null {
  const text = finalText(response);
  const labels = options.map((o) => o.label);
  const byKey = new Map(labels.map((l) => [l.toLowerCase(), l]));
  const words = labels.every((l) => l.length > 1);
  const yesNo = byKey.has('yes') && byKey.has('no') && !byKey.has('true') && !byKey.has('false');
  const resolve = (s: string | undefined): string | null => {
    if (!s) return null;
    const key = s.toLowerCase();
    return byKey.get(key) ?? (yesNo && YES_NO_SYNONYMS[key] ? byKey.get(YES_NO_SYNONYMS[key])! : null);
  };
  const names = [...labels, ...(yesNo ? ['true', 'false'] : [])].map(escapeRe);
  // Word labels match in any case. A single letter matches in lower case only where it cannot be
  // a word: wrapped ("(b)", "**b**") or alone before the end of the line or a stop.
  const loose = names.map(anyCase).join('|');
  const strict = words ? loose : names.join('|');
  const token = `(?:\\(\\s*(${loose})\\s*\\)|\\[\\s*(${loose})\\s*\\]|\\*\\*\\s*(${loose})\\s*\\*\\*|(${strict})|(${loose})(?=\\s*(?:$|[.)\\]:,;])))(?![A-Za-z0-9])`;
  const picked = (m: RegExpExecArray | null, from = 1) => (m ? resolve(m.slice(from, from + 5).find((g) => g !== undefined)) : null);
  /** A short text that is just a choice, in any case: "b", "(B)", "**B**", "B) text", "\text{B}". */
  const bare = (s: string) => picked(new RegExp(`^[*_\\s]*[([]?\\s*(${loose})\\s*[)\\]]?[*_]*(?![A-Za-z0-9])`).exec(s.replace(/\\text\{([^}]*)\}/g, '$1').trim()));

  const tag = lastMatch(/<answer>([\s\S]*?)<\/answer>/gi, text);
  if (tag) {
    const hit = bare(tag[1]) ?? optionByText(tag[1], options);
    if (hit) return hit;
  }
  const boxed = boxedContents(text);
  for (let i = boxed.length - 1; i >= 0; i--) {
    const hit = bare(boxed[i]);
    if (hit) return hit;
  }
  const statement = new RegExp(`${ANSWER_WORDS}\\s*(?:[iI][sS]|:|=)?\\s*[:\\-–]?[*_\\s]*(?:${OPTION_WORD}\\s+)?${token}`, 'gm');
  const st = picked(lastMatch(statement, text));
  if (st) return st;
  const loosely = lastMatch(new RegExp(`${ANSWER_WORDS}\\s*(?:[iI][sS]|:)\\s*[*_\\s]*([^\\n]{1,160})`, 'g'), text);
  const byText = loosely ? optionByText(loosely[1], options) : null;
  if (byText) return byText;
  // Lines that are only a choice ("B", "(B)", "**B**") or a choice with its text ("B) text",
  // "(B) text"); a run of option-listing lines ("A) ...", "B) ...") is ignored.
  const lineRe = new RegExp(`^[>#*_\\s]*${token}([).:])?(?:\\s+(.*))?$`);
  const candidates: { label: string; listing: boolean }[] = [];
  for (const line of text.split('\n')) {
    const m = lineRe.exec(line.trim());
    const label = picked(m);
    if (!m || !label) continue;
    const rest = (m[7] ?? '').trim();
    const wrappedLabel = m[1] !== undefined || m[2] !== undefined || m[3] !== undefined;
    if (rest && m[6] === undefined && !wrappedLabel) continue; // "A cell needs energy"
    candidates.push({ label, listing: rest !== '' });
  }
  const listed = new Set(candidates.filter((c) => c.listing).map((c) => c.label));
  const usable = candidates.filter((c) => !c.listing || listed.size < 2);
  if (usable.length) return usable[usable.length - 1].label;
  const bold = picked(lastMatch(new RegExp(`\\*\\*\\s*\\(?(${loose})\\)?[).:]?\\s*\\*\\*`, 'g'), text));
  if (bold) return bold;
  if (words) {
    const first = /^[\s*_"']*([A-Za-z]+)/.exec(text);
    const hit = resolve(first?.[1]);
    if (hit) return hit;
  }
  return null;
}

/** The option whose text the statement repeats ("The answer is Collagen exposure."). */
function optionByText(statement: string, options: readonly ChoiceOption[]): string | null {
  const norm = (s: string) => s.toLowerCase().replace(/[*_`"'.,;:!?()[\]]/g, ' ').replace(/\s+/g, ' ').trim();
  const said = norm(statement);
  if (!said) return null;
  const hits = options.filter((o) => o.text.trim() && norm(o.text) === said);
  return hits.length === 1 ? hits[0].label : null;
}
