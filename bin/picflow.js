#!/usr/bin/env node
// Runs the compiled CLI (dist/cli, built by `npm run build:cli`, which `npm install` and `npm test` run).
import { existsSync } from 'node:fs';

const entry = new URL('../dist/cli/picflow.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('picflow: the CLI is not built; run `npm run build:cli` in the picflow folder');
  process.exit(1);
}
await import(entry.href);
