// vitest global setup: tests that run `bin/picflow.js` run the CLI compiled from the sources under test.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export async function setup(): Promise<void> {
  // `npm test` builds it before starting vitest (package.json); vitest started alone builds it here.
  if (process.env.npm_lifecycle_event === 'test') return;
  await promisify(execFile)(process.execPath, ['cli/build.mjs']);
}
