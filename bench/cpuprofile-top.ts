// Reads a `node --cpu-prof` profile and prints where the time went: the top functions by self time and the
// top files (packages folded into one row each), then the top functions with the time of their callees. Usage: npx tsx bench/cpuprofile-top.ts <file.cpuprofile> [rows] [seconds to skip]
// Idle time is left out of the shares (a profile of a waiting thread, such as tsx's loader, is all idle).
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, rowsArg, skipArg] = process.argv.slice(2);
if (!file) throw new Error('usage: cpuprofile-top <file.cpuprofile> [rows] [seconds to skip: start-up]');
const skipUs = Number(skipArg ?? 0) * 1e6;
const limit = Number(rowsArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));

const selfUs = new Map<number, number>();
const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
let elapsedUs = 0;
profile.samples.forEach((id, i) => {
  elapsedUs += profile.timeDeltas[i] ?? 0;
  if (elapsedUs >= skipUs && !idle.has(id)) selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

/** A package's files count as the package; the project's files keep their path. */
function place(url: string): string {
  const pkg = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (pkg) return pkg[1];
  return url.replace(/^file:\/\/.*?\/(dist|engine|nodes|server|cli|bench)\//, '$1/') || '(node/native)';
}

const parentOf = new Map<number, number>();
for (const n of profile.nodes) for (const child of n.children ?? []) parentOf.set(child, n.id);

/** Where a function starts; tsx compiles each module to one line, where only the column tells functions apart. */
function position({ lineNumber, columnNumber }: ProfileNode['callFrame']): string {
  return lineNumber > 0 || columnNumber <= 0 ? `:${lineNumber + 1}` : `@${columnNumber + 1}`;
}

const frameName = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'} ${place(n.callFrame.url)}${position(n.callFrame)}`;

/** Time by `key`: self time of the samples' own frames, or with `inclusive`, of every frame on their stacks (each key once a stack). */
function top(key: (n: ProfileNode) => string, inclusive = false) {
  const sums = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const keys = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = inclusive ? parentOf.get(at) : undefined) keys.add(key(byId.get(at)!));
    for (const k of keys) sums.set(k, (sums.get(k) ?? 0) + us);
  }
  return [...sums]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, us]) => ({ name, [inclusive ? 'total ms' : 'self ms']: +(us / 1000).toFixed(1), '%': +((100 * us) / total).toFixed(1) }));
}

console.log(`${file}: ${(total / 1000).toFixed(0)} ms sampled, idle left out`);
console.table(top(frameName));
console.table(top((n) => place(n.callFrame.url)));
console.log('with their callees (each function once a sample):');
console.table(top(frameName, true));
