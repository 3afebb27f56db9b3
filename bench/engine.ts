// Engine overhead on trivial nodes, per node: validation (`Engine.prepare`: limits, schema, params, links,
// types, service checks), planning (pruning and cache keys) and execution of the planned graph on an empty
// cache, for chains (depth) and fan-outs (width), with the part of it spent in garbage collection, the page
// faults per node and the process's kernel time per node (where a 10,000-node run's extra cost per node goes:
// memory V8 maps afresh, which a small VM pays dearly for); then a fully cached re-run. The
// target (issue 16) is validate + plan + execute ≤ 10 µs per node at 1,000 and 10,000 nodes, and 10,000
// within 1.3× of 1,000. The growth table reads the engine's growth beside the machine's floors (see FLOORS):
// on a small VM, merely reading each node of the workflow costs several times more per node at 10,000 nodes.
// Then the per-call cost of a graph for one run: `prepare(workflow, inputs)` against `compile(workflow)`
// once and `graph(inputs)` per call (the trigger server's hot path), on the echo workflow of bench/server.ts (bench/workflows.ts)
// and a 1,000-node chain, each with a run input that changes one node's params.
// Prints tables, asserts nothing. BENCH_SIZES=1000,10000 picks sizes, BENCH_REPS=n the repetitions per row,
// BENCH_ROUNDS=n the rounds they are spread over.
//
// Trustworthy figures on a shared machine: each row is measured in rounds, each turn in a fresh process
// (see `turn`) warmed up first (the JIT's work is not billed to the row), and each row is the median (and the
// minimum) of its repetitions over all rounds. Nothing is collected by hand: the garbage a run leaves is real
// and is billed to the runs that follow it (a forced full GC before the repetitions made their first few slow:
// V8 shrinks the young generation after one, and the runs then paid for many small collections).
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Engine } from '../engine';
import { planRun } from '../engine/plan';
import { catalog } from '../nodes';
import { median } from './median';
import { echoWorkflow } from './workflows';

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

/**
 * The machine's floors: the least any engine does per node. Reading each node of the workflow (its type and
 * links), allocating nothing; then also keeping one small record per node, by id, linked to its source's. Their
 * cost per node at 10,000 nodes over 1,000 is what the memory system alone charges for the larger working set
 * (caches, page faults, the young generation), with nothing of picflow in it: the engine's growth is to be read
 * against theirs.
 */
type FloorTable = Record<string, { type: string; inputs?: Record<string, [string, string]> }>;

interface FloorRecord {
  id: string;
  type: string;
  source: FloorRecord | undefined;
}

const FLOORS = {
  'floor: reading each node': (table: FloorTable): number => {
    const ids = Object.keys(table);
    let read = 0;
    for (let i = 0; i < ids.length; i++) {
      const { type, inputs } = table[ids[i]];
      read += type.length;
      for (const input in inputs) read += inputs[input][0].length;
    }
    return read;
  },
  'floor: + a record by id': (table: FloorTable): number => {
    const ids = Object.keys(table);
    const byId = new Map<string, FloorRecord>();
    const records: FloorRecord[] = [];
    for (let i = 0; i < ids.length; i++) {
      const record: FloorRecord = { id: ids[i], type: table[ids[i]].type, source: undefined };
      byId.set(ids[i], record);
      records.push(record);
    }
    for (let i = 0; i < ids.length; i++) {
      const inputs = table[ids[i]].inputs;
      for (const input in inputs) records[i].source = byId.get(inputs[input][0]);
    }
    return records.length;
  },
};
type Floor = keyof typeof FLOORS;
const isFloor = (row: string): row is Floor => Object.hasOwn(FLOORS, row);

/** A full collection between the per-call rounds below: `gc` made callable without a command-line flag (works under tsx too). */
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
 * One row's repetitions, gathered over its rounds: times in ms, and the events the cached re-runs reported;
 * and over the empty-cache repetitions (`fresh` of them), the garbage collector's pauses and the page faults,
 * which are most of what a 10,000-node run costs more per node than a 1,000-node one.
 */
interface Samples {
  validate: number[];
  plan: number[];
  run: number[];
  total: number[];
  cached: number[];
  started: number;
  reused: number;
  fresh: number;
  gcMs: number;
  faults: number;
  kernelMs: number;
}

const noSamples = (): Samples => ({ validate: [], plan: [], run: [], total: [], cached: [], started: 0, reused: 0, fresh: 0, gcMs: 0, faults: 0, kernelMs: 0 });

/** Sums the durations of the garbage collections from now until `stop`. */
function watchGc(): { stop(): Promise<number> } {
  let ms = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) ms += entry.duration;
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    async stop() {
      await new Promise((resolve) => setTimeout(resolve, 20)); // entries are delivered after a delay
      observer.disconnect();
      return ms;
    },
  };
}

/**
 * Each repetition does what a run does, on an engine with an empty cache: it validates the workflow, then runs
 * the graph (`runGraph` plans and executes); the garbage collector's pauses, page faults and kernel time are
 * those of these repetitions. Planning is then measured alone on fresh engines, after them, and execution is
 * the run less that: planning alone inside each repetition left its garbage and its cache entries to the run
 * that followed (a run planned on a cache already holding its keys, and a heap fuller than a run's own).
 * The cached re-run repeats the whole run on one engine after a first run filled its cache, and counts the
 * nodes it ran again and those it reported cached (a cache too small for the workflow keeps only part of it).
 */
async function measure(wf: ReturnType<typeof workflow>, reps: number): Promise<Samples> {
  const samples = noSamples();
  const gc = watchGc();
  const faultsBefore = process.resourceUsage().minorPageFault;
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < reps; i++) {
    const fresh = engine();
    let graph!: ReturnType<Engine['prepare']>;
    const validate = await elapsed(() => (graph = fresh.prepare(wf)));
    const run = await elapsed(() => fresh.runGraph(graph));
    samples.validate.push(validate);
    samples.run.push(run);
    samples.total.push(validate + run);
  }
  samples.faults = process.resourceUsage().minorPageFault - faultsBefore;
  samples.kernelMs = process.cpuUsage(cpuBefore).system / 1000;
  samples.gcMs = await gc.stop();
  samples.fresh = reps;
  for (let i = 0; i < reps; i++) {
    const fresh = engine();
    const graph = fresh.prepare(wf);
    samples.plan.push(await elapsed(() => planRun(graph, services, fresh.cache)));
  }
  const warm = engine();
  await warm.run(wf);
  const count = ({ type }: { type: string }) => void (type === 'node:started' ? samples.started++ : type === 'node:cached' && samples.reused++);
  for (let i = 0; i < reps; i++) samples.cached.push(await elapsed(() => warm.run(wf, { onEvent: count })));
  return samples;
}

/** A row's ms as µs per node (three decimals: the floors' rows are a few hundredths). */
const perNode = (ms: number, nodes: number) => +((ms * 1000) / nodes).toFixed(3);

function summary(shape: Shape, nodes: number, { validate, plan, run, total, cached, started, reused, fresh, gcMs, faults, kernelMs }: Samples) {
  const [v, p, r] = [median(validate), median(plan), median(run)];
  return {
    shape,
    nodes,
    'validate µs/node': perNode(v, nodes),
    'plan µs/node': perNode(p, nodes),
    'execute µs/node': perNode(Math.max(0, r - p), nodes),
    'total µs/node': perNode(median(total), nodes),
    'min total': perNode(Math.min(...total), nodes),
    'of it GC µs/node': perNode(gcMs / fresh, nodes),
    'page faults/node': +(faults / (fresh * nodes)).toFixed(3),
    'kernel µs/node': perNode(kernelMs / fresh, nodes),
    'cached re-run µs/node': perNode(median(cached), nodes),
    're-run ran / cached': `${Math.round(started / cached.length)} / ${Math.round(reused / cached.length)}`,
  };
}

const sizes = (process.env.BENCH_SIZES ?? '100,1000,10000').split(',').map(Number);
// Repetitions per row over all rounds: a 1,000-node repetition takes ~2 ms and one process's repetitions spread
// 1.4–2.9 ms on a small VM, so the small rows take many (24 left the 1k medians, and so the 10k / 1k ratio,
// moving by a third from one bench run to the next).
const repsFor = (size: number) => Number(process.env.BENCH_REPS) || (size >= 10_000 ? 24 : size >= 1_000 ? 120 : 300);
const rounds = Number(process.env.BENCH_ROUNDS) || 3;

/**
 * A row's turn, in a process of its own: warmed up, then measured, its samples printed as JSON. A process per
 * turn, because in one process each row ran on the heap and compiled code the rows before it left (V8 moves
 * allocation sites whose objects survived the large runs to the old generation, and keeps them there for the
 * small ones), and rows taken in rounds weigh a noisy minute on every row alike.
 */
const turn = process.env.BENCH_TURN;
if (turn) {
  const at = turn.lastIndexOf(':'); // a floor's name holds a colon of its own
  const [shape, size] = [turn.slice(0, at), turn.slice(at + 1)] as [Shape | Floor, string];
  if (isFloor(shape)) {
    const table = workflow('chain', Number(size)).nodes as FloorTable;
    const pass = () => FLOORS[shape](table);
    for (let i = 0; i < Math.ceil(2_000_000 / Number(size)); i++) pass();
    // A floor's pass takes a twentieth of a run or less: twenty times the repetitions, for as steady a median.
    const total: number[] = [];
    for (let i = 0; i < Math.ceil((20 * repsFor(Number(size))) / rounds); i++) total.push(await elapsed(pass));
    process.stdout.write(JSON.stringify({ ...noSamples(), total }));
    process.exit(0);
  }
  const wf = workflow(shape, Number(size));
  // Warm-up: 200,000 nodes' worth of runs, and at least ten. The steps run once per run with a loop over every
  // node are compiled on the fly (on-stack replacement), and traces (--trace-opt --trace-deopt) show them
  // settling after about ten runs of 10,000 nodes; the small sizes need as many nodes run to settle.
  await measure(wf, Math.max(10, Math.ceil(200_000 / Number(size))));
  process.stdout.write(JSON.stringify(await measure(wf, Math.ceil(repsFor(Number(size)) / rounds))));
  process.exit(0);
}

const loadBefore = loadavg()[0];
type Row = Shape | Floor;
const FLOOR_ROWS = Object.keys(FLOORS) as Floor[];
const turns = (shape: Row) => sizes.map((size) => ({ shape, size, nodes: Object.keys(workflow(isFloor(shape) ? 'chain' : shape, size).nodes).length }));
const floorTurns = FLOOR_ROWS.flatMap(turns).filter(({ size }) => size === 1_000 || size === 10_000);
const rowsToMeasure = [...SHAPES.flatMap(turns), ...floorTurns];
const gathered = rowsToMeasure.map(noSamples);
for (let round = 0; round < rounds; round++) {
  for (const [i, { shape, size }] of rowsToMeasure.entries()) {
    const output = execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], { env: { ...process.env, BENCH_TURN: `${shape}:${size}` }, encoding: 'utf8', maxBuffer: 1 << 24 });
    const samples = JSON.parse(output) as Samples;
    const into = gathered[i];
    for (const key of ['validate', 'plan', 'run', 'total', 'cached'] as const) into[key].push(...samples[key]);
    for (const key of ['started', 'reused', 'fresh', 'gcMs', 'faults', 'kernelMs'] as const) into[key] += samples[key];
  }
}
const rows = rowsToMeasure.flatMap(({ shape, nodes }, i) => (isFloor(shape) ? [] : [summary(shape, nodes, gathered[i])]));
console.log(`load average ${loadBefore.toFixed(1)} → ${loadavg()[0].toFixed(1)} (figures at a load above 3 are noisy)`);
console.table(rows);

// How the per-node cost grows from 1,000 to 10,000 nodes (target: at most 1.3×), beside the machine's floors.
const growthOf = (shape: Row) => {
  const [small, large] = [1_000, 10_000].map((size) => rowsToMeasure.findIndex((row) => row.shape === shape && row.size === size));
  if (small < 0 || large < 0) return [];
  const [a, b] = [small, large].map((i) => perNode(median(gathered[i].total), rowsToMeasure[i].nodes));
  const [minA, minB] = [small, large].map((i) => perNode(Math.min(...gathered[i].total), rowsToMeasure[i].nodes));
  return [{ row: shape, '1k µs/node': a, '10k µs/node': b, '10k / 1k': +(b / a).toFixed(2), '10k / 1k (min)': +(minB / minA).toFixed(2) }];
};
const growth = [...SHAPES, ...FLOOR_ROWS].flatMap(growthOf);
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

const chain1k = workflow('chain', 1_000);
perCall('echo', echoWorkflow, (i) => ({ subject: `call ${i}` }), 200); // warm-up
console.table([perCall('echo (2 nodes)', echoWorkflow, (i) => ({ subject: `call ${i}` }), 2_000), perCall('chain (1,000 nodes)', chain1k, (i) => ({ 't500.separator': `${i % 10}` }), 20)]);
