// CLI start-up: wall time of `picflow --help`, `validate` and `run` of a utility workflow, through the compiled
// bin (what users run) and, for comparison, straight from the TypeScript sources through tsx (what the bin did
// before it was compiled). Node's own start-up (`node -e 0`) is the floor under the current load.
// Median of BENCH_RUNS (default 7) runs each. Prints a table; nothing is asserted. Build first: npm run build:cli.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { median } from './median';

const runs = Number(process.env.BENCH_RUNS ?? 7);
const root = join(import.meta.dirname, '..');
const out = mkdtempSync(join(tmpdir(), 'picflow-bench-cli-'));

const commands: [string, string[]][] = [
  ['--help', ['--help']],
  ['validate', ['validate', 'workflows/named-prompts.json']],
  ['run (utility)', ['run', 'workflows/named-prompts.json', '--out', out]],
  ['run (images: sharp)', ['run', 'workflows/upscale-image.json', '--out', out]],
];
const ways: [string, string[]][] = [
  ['compiled (bin/picflow.js)', ['bin/picflow.js']],
  ['source through tsx', ['--import', 'tsx', 'cli/picflow.ts']],
];

function wallMs(args: string[]): number {
  const start = performance.now();
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - start;
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  return ms;
}

const sample = (args: string[]) => median(Array.from({ length: runs }, () => wallMs(args)));

const load = loadavg()[0];
const rows: Record<string, string | number>[] = [{ command: 'node -e 0 (floor)', 'compiled ms': Math.round(sample(['-e', '0'])) }];
for (const [label, args] of commands) {
  const row: Record<string, string | number> = { command: label };
  for (const [way, prefix] of ways) row[way.startsWith('compiled') ? 'compiled ms' : 'tsx ms'] = Math.round(sample([...prefix, ...args]));
  rows.push(row);
}
console.log(`median wall of ${runs} runs; load average ${load.toFixed(1)} → ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores`);
console.table(rows);
rmSync(out, { recursive: true, force: true });
