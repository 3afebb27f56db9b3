// Engine overhead on trivial nodes, per node: validation (`Engine.prepare`: limits, schema, params, links,
// types, service checks), planning (pruning and cache keys) and execution of the planned graph on an empty
// cache, for chains (depth) and fan-outs (width); then a fully cached re-run. The target (issue 16) is
// validate + plan + execute ≤ 10 µs per node at 1,000 and 10,000 nodes, and 10,000 within 1.3× of 1,000.
// Then the per-call cost of a graph for one run: `prepare(workflow, inputs)` against `compile(workflow)`
// once and `graph(inputs)` per call (the trigger server's hot path), on the echo workflow of bench/server.ts
// and a 1,000-node chain, each with a run input that changes one node's params.
// Prints tables, asserts nothing. BENCH_SIZES=1000,10000 picks sizes, BENCH_REPS=n the repetitions per row.
//
// Trustworthy figures on a shared machine: every shape and size is warmed up first (the JIT's work is not
// billed to the first row), each row is the median (and the minimum) of several repetitions, and a full GC
// runs before each row, so one row's garbage is not collected on the next one's time. Within a row nothing is
// collected by hand: the garbage a run leaves is real and is billed to the runs that follow it.
import { loadavg } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Engine } from '../engine';
import { planRun } from '../engine/plan';
import { catalog } from '../nodes';
import { median } from './median';

type Shape = 'chain' | 'fan-out';
const SHAPES: Shape[] = ['chain', 'fan-out'];

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

/** A full collection between rows: `gc` made callable without a command-line flag (works under tsx too). */
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

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
 * The cached re-run repeats the whole run on one engine after a first run filled its cache, and counts the
 * nodes it ran again and those it reported cached (a cache too small for the workflow keeps only part of it).
 */
async function measure(shape: Shape, size: number, reps: number) {
  const wf = workflow(shape, size);
  const nodeCount = Object.keys(wf.nodes).length;
  const validate: number[] = [];
  const plan: number[] = [];
  const run: number[] = [];
  const total: number[] = [];
  collectGarbage();
  for (let i = 0; i < reps; i++) {
    const fresh = engine();
    let graph!: ReturnType<Engine['prepare']>;
    validate.push(await elapsed(() => (graph = fresh.prepare(wf))));
    plan.push(await elapsed(() => planRun(graph, services, fresh.cache)));
    run.push(await elapsed(() => fresh.runGraph(graph)));
    total.push(validate[i] + run[i]);
  }
  collectGarbage();
  const warm = engine();
  await warm.run(wf);
  const cached: number[] = [];
  const seen = { 'node:started': 0, 'node:cached': 0 };
  const count = (event: { type: string }) => void (Object.hasOwn(seen, event.type) && seen[event.type as keyof typeof seen]++);
  for (let i = 0; i < reps; i++) cached.push(await elapsed(() => warm.run(wf, { onEvent: count })));

  const perNode = (ms: number) => +((ms * 1000) / nodeCount).toFixed(2);
  const [v, p, r] = [median(validate), median(plan), median(run)];
  return {
    shape,
    nodes: nodeCount,
    'validate µs/node': perNode(v),
    'plan µs/node': perNode(p),
    'execute µs/node': perNode(Math.max(0, r - p)),
    'total µs/node': perNode(median(total)),
    'min total': perNode(Math.min(...total)),
    'cached re-run µs/node': perNode(median(cached)),
    're-run ran / cached': `${Math.round(seen['node:started'] / reps)} / ${Math.round(seen['node:cached'] / reps)}`,
  };
}

const sizes = (process.env.BENCH_SIZES ?? '100,1000,10000').split(',').map(Number);
const repsFor = (size: number) => Number(process.env.BENCH_REPS) || (size >= 10_000 ? 11 : size >= 1_000 ? 25 : 60);

// Warm-up: every shape at every size, so the JIT has compiled the paths each row takes before it is measured.
// The steps run once per run with a loop over every node are compiled on the fly (on-stack replacement), and
// traces (--trace-opt --trace-deopt) show them settling only after about ten runs of 10,000 nodes.
for (const shape of SHAPES) for (const size of sizes) await measure(shape, size, Math.max(10, Math.ceil(20_000 / size)));

const loadBefore = loadavg()[0];
const rows: Awaited<ReturnType<typeof measure>>[] = [];
for (const shape of SHAPES) {
  for (const size of sizes) rows.push(await measure(shape, size, repsFor(size)));
}
console.log(`load average ${loadBefore.toFixed(1)} → ${loadavg()[0].toFixed(1)} (figures at a load above 3 are noisy)`);
console.table(rows);

// How the per-node cost grows from 1,000 to 10,000 nodes (target: at most 1.3×).
const row = (shape: Shape, nodes: number) => rows.find((r) => r.shape === shape && Math.abs(r.nodes - nodes) <= 1);
const growth = SHAPES.flatMap((shape) => {
  const [small, large] = [row(shape, 1_000), row(shape, 10_000)];
  if (!small || !large) return [];
  const [a, b] = [small['total µs/node'], large['total µs/node']];
  return [{ shape, '1k µs/node': a, '10k µs/node': b, '10k / 1k': +(b / a).toFixed(2), '10k / 1k (min)': +(large['min total'] / small['min total']).toFixed(2) }];
});
if (growth.length > 0) console.table(growth);

/** Per call, µs: `prepare` against `graph` from one compiled workflow, interleaved in rounds so load hits both alike. */
function perCall(name: string, wf: object, inputs: (i: number) => Record<string, unknown>, calls: number) {
  const e = engine();
  const compiled = e.compile(wf);
  const prepare: number[] = [];
  const graph: number[] = [];
  for (let round = 0; round < 15; round++) {
    collectGarbage();
    let start = performance.now();
    for (let i = 0; i < calls; i++) e.prepare(wf, inputs(i));
    prepare.push(((performance.now() - start) * 1000) / calls);
    start = performance.now();
    for (let i = 0; i < calls; i++) compiled.graph(inputs(i));
    graph.push(((performance.now() - start) * 1000) / calls);
  }
  const [p, g] = [median(prepare), median(graph)];
  return { workflow: name, 'prepare µs/call': +p.toFixed(2), 'compiled graph µs/call': +g.toFixed(2), 'prepare / graph': +(p / g).toFixed(1) };
}

const echo = {
  version: 1,
  nodes: {
    subject: { type: 'prompt', params: { name: 'subject', text: 'a red circle' } },
    echo: { type: 'output', params: { name: 'echo' }, inputs: { value: ['subject', 'text'] } },
  },
};
const chain1k = workflow('chain', 1_000);
perCall('echo', echo, (i) => ({ subject: `call ${i}` }), 200); // warm-up
console.table([perCall('echo (2 nodes)', echo, (i) => ({ subject: `call ${i}` }), 2_000), perCall('chain (1,000 nodes)', chain1k, (i) => ({ 't500.separator': `${i % 10}` }), 20)]);
