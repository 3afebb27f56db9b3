// Engine overhead on trivial nodes, per node: validation (`Engine.prepare`: limits, schema, params, links,
// types, service checks), planning (pruning and cache keys) and execution of the planned graph on an empty
// cache, for chains (depth) and fan-outs (width); then a fully cached re-run. The target (issue 16) is
// validate + plan + execute ≤ 10 µs per node at 1,000 and 10,000 nodes, and 10,000 within 1.3× of 1,000.
// Medians of several repetitions, wall time; prints tables, asserts nothing. BENCH_SIZES=1000,10000 picks sizes.
import { loadavg } from 'node:os';
import { Engine } from '../engine';
import { planRun } from '../engine/plan';
import { catalog } from '../nodes';

type Shape = 'chain' | 'fan-out';

function workflow(shape: Shape, size: number) {
  const nodes: Record<string, unknown> = { src: { type: 'prompt', params: { text: 'x' } } };
  if (shape === 'chain') {
    for (let i = 0; i < size - 2; i++) nodes[`t${i}`] = { type: 'text', inputs: { a: [i === 0 ? 'src' : `t${i - 1}`, 'text'] } };
    nodes.out = { type: 'output', inputs: { value: [`t${size - 3}`, 'text'] } };
  } else {
    const width = Math.floor((size - 1) / 2);
    for (let i = 0; i < width; i++) {
      nodes[`t${i}`] = { type: 'text', inputs: { a: ['src', 'text'] } };
      nodes[`o${i}`] = { type: 'output', inputs: { value: [`t${i}`, 'text'] } };
    }
  }
  return { version: 1, nodes };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function elapsed(fn: () => unknown): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

const services = { allowFilePaths: false };
const engine = () => new Engine({ catalog, services });

/**
 * Each repetition validates the workflow, plans the graph, then runs it (planning again: `runGraph` plans
 * and executes) on an engine with an empty cache; execution is that run less the planning measured alone.
 */
async function measure(shape: Shape, size: number, reps: number) {
  const wf = workflow(shape, size);
  const count = Object.keys(wf.nodes).length;
  const validate: number[] = [];
  const plan: number[] = [];
  const run: number[] = [];
  for (let i = 0; i < reps; i++) {
    const fresh = engine();
    let graph!: ReturnType<Engine['prepare']>;
    validate.push(await elapsed(() => (graph = fresh.prepare(wf))));
    plan.push(await elapsed(() => planRun(graph, services)));
    run.push(await elapsed(() => fresh.runGraph(graph)));
  }
  const warm = engine();
  await warm.run(wf);
  const cached: number[] = [];
  for (let i = 0; i < reps; i++) cached.push(await elapsed(() => warm.run(wf)));

  const perNode = (ms: number) => +((ms * 1000) / count).toFixed(2);
  const [v, p, r] = [median(validate), median(plan), median(run)];
  return {
    shape,
    nodes: count,
    'validate µs/node': perNode(v),
    'plan µs/node': perNode(p),
    'execute µs/node': perNode(Math.max(0, r - p)),
    'total µs/node': perNode(v + r),
    'cached re-run ms': +median(cached).toFixed(2),
  };
}

const sizes = (process.env.BENCH_SIZES ?? '100,1000,10000').split(',').map(Number);
const repsFor = (size: number) => (size >= 10_000 ? 7 : size >= 1_000 ? 15 : 40);

// Warm-up: let the JIT compile the engine's paths before the first row is measured.
for (const shape of ['chain', 'fan-out'] as Shape[]) await measure(shape, 1_000, 5);

const loadBefore = loadavg()[0];
const rows: Awaited<ReturnType<typeof measure>>[] = [];
for (const shape of ['chain', 'fan-out'] as Shape[]) {
  for (const size of sizes) rows.push(await measure(shape, size, repsFor(size)));
}
console.log(`load average ${loadBefore.toFixed(1)} → ${loadavg()[0].toFixed(1)}`);
console.table(rows);

// How the per-node cost grows from 1,000 to 10,000 nodes (target: at most 1.3×).
const total = (shape: Shape, nodes: number) => rows.find((r) => r.shape === shape && Math.abs(r.nodes - nodes) <= 1)?.['total µs/node'];
const growth = (['chain', 'fan-out'] as Shape[]).flatMap((shape) => {
  const [small, large] = [total(shape, 1_000), total(shape, 10_000)];
  return small && large ? [{ shape, '1k µs/node': small, '10k µs/node': large, '10k / 1k': +(large / small).toFixed(2) }] : [];
});
if (growth.length > 0) console.table(growth);
