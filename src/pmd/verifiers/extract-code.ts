/**
 * The program in a code response: the last fenced block in the task's language (```python,
 * ```py, ```js, ```javascript, ...) or, failing that, the last untagged fenced block; a block
 * left open at the end (a response cut off by the token limit) counts. A response with no fence
 * at all is taken whole, as code. Reasoning in <think> blocks is ignored.
 */
import type { CodeLanguage } from '../tasks/types';
import { finalText } from './extract';

const TAGS: Record<CodeLanguage, readonly string[]> = {
  python: ['python', 'py', 'python3', 'py3'],
  javascript: ['javascript', 'js', 'node', 'nodejs', 'mjs', 'cjs'],
};

export function extractCode(response: string, language: CodeLanguage): string | null {
  const text = finalText(response);
  const blocks: { tag: string; body: string }[] = [];
  const fence = /```[ \t]*([\w+#.-]*)[^\n]*\n([\s\S]*?)(?:```|$)/g;
  for (const m of text.matchAll(fence)) blocks.push({ tag: m[1].toLowerCase(), body: m[2] });
  const pick = blocks.filter((b) => TAGS[language].includes(b.tag)).at(-1) ?? blocks.filter((b) => b.tag === '').at(-1);
  const code = (pick ? pick.body : blocks.length ? '' : text).replace(/\s+$/, '');
  return code.trim() === '' ? null : `${code}\n`;
}
