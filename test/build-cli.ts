// vitest global setup: tests that run `bin/picflow.js` run the CLI compiled from the sources under test.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

export async function setup(): Promise<void> {
  await promisify(execFile)(process.execPath, ['cli/build.mjs']);
}
