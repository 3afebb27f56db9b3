// Starts a worker lane from the TypeScript sources (tests, benchmarks, `tsx`): the thread registers tsx, then
// loads lane-worker.ts. The compiled CLI starts dist/cli/lane-worker.js instead and needs no compiler.
import { register } from 'tsx/esm/api';

register();
await import('./lane-worker.ts');
