// Engine overhead on trivial nodes: validation, first execution and a fully cached re-run,
// for chains (depth) and fan-outs (width). Prints a table; nothing here is asserted.
import { buildGraph, Engine } from '../engine';
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

async function time(fn: () => unknown | Promise<unknown>, reps: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < reps; i++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  return median(samples);
}

/** Median time of `run` alone, each repetition on a fresh `prepare()` that is not timed. */
async function timeAfter<T>(prepare: () => T, run: (prepared: T) => Promise<unknown>, reps: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < reps; i++) {
    const prepared = prepare();
    const start = performance.now();
    await run(prepared);
    samples.push(performance.now() - start);
  }
  return median(samples);
}

const engine = () => new Engine({ catalog, services: { allowFilePaths: false } });
const graphOf = (wf: unknown) => {
  const built = buildGraph(wf, catalog);
  if (!built.ok) throw new Error(`bench workflow is invalid: ${JSON.stringify(built.issues[0])}`);
  return built.graph;
};

async function measure(shape: Shape, size: number, reps: number) {
  const wf = workflow(shape, size);
  const count = Object.keys(wf.nodes).length;
  const validateMs = await time(() => graphOf(wf), reps);
  // planning (cache keys) and execution of a validated graph, on an engine with an empty cache
  const executeMs = await timeAfter(() => graphOf(wf), (graph) => engine().runGraph(graph), reps);
  const warm = engine();
  await warm.run(wf);
  const cachedMs = await time(() => warm.run(wf), reps);
  return {
    shape,
    nodes: count,
    'validate µs/node': +((validateMs * 1000) / count).toFixed(2),
    'plan+execute µs/node': +((executeMs * 1000) / count).toFixed(2),
    'total µs/node': +(((validateMs + executeMs) * 1000) / count).toFixed(2),
    'cached re-run ms (validate included)': +cachedMs.toFixed(3),
  };
}

// Warm-up: let the JIT compile the engine's paths before the first row is measured.
for (const shape of ['chain', 'fan-out'] as Shape[]) await measure(shape, 1_000, 5);

const rows = [];
for (const shape of ['chain', 'fan-out'] as Shape[]) {
  for (const size of [10, 100, 1_000, 10_000]) {
    rows.push(await measure(shape, size, size >= 10_000 ? 5 : size >= 1_000 ? 10 : 30));
  }
}
console.table(rows);
