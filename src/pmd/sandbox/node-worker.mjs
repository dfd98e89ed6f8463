// Entry of the Node sandbox worker (worker_threads). Registers tsx, as bin/pmd-lab.mjs does, so
// the worker runs the same TypeScript sources as the CLI and the tests.
import { register } from 'tsx/esm/api';

register();
await import('./node-worker-main.ts');
