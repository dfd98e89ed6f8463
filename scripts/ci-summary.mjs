// Reads the log of `npm test` and prints one closing line, "tests: N passed, N failed", adding
// up Vitest's and Playwright's own summaries (so CI can count tests from any runner).
import { readFileSync } from 'node:fs';

const log = readFileSync(process.argv[2], 'utf8').replace(/\u001b\[[0-9;]*m/g, '');
let passed = 0;
let failed = 0;
let skipped = 0;
for (const line of log.split('\n')) {
  const vitest = /^\s*Tests\s+(.*)\(\d+\)\s*$/.exec(line);
  if (vitest) {
    for (const [, n, what] of vitest[1].matchAll(/(\d+) (passed|failed|skipped)/g)) {
      if (what === 'passed') passed += Number(n);
      else if (what === 'failed') failed += Number(n);
      else skipped += Number(n);
    }
    continue;
  }
  const pw = /^\s+(\d+) (passed|failed|skipped|flaky)(?: \([^)]*\))?\s*$/.exec(line);
  if (pw) {
    if (pw[2] === 'passed') passed += Number(pw[1]);
    else if (pw[2] === 'skipped') skipped += Number(pw[1]);
    else failed += Number(pw[1]);
  }
}
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
