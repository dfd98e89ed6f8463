/** The public-format fixture files (rows written for these tests, laid out as the datasets publish them). */
import { readFileSync } from 'node:fs';

export function fixture(name: string): string {
  return readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
}
