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

const rows = [];
for (const shape of ['chain', 'fan-out'] as Shape[]) {
  for (const size of [10, 100, 1_000, 10_000]) {
    const wf = workflow(shape, size);
    const count = Object.keys(wf.nodes).length;
    const reps = size >= 10_000 ? 3 : size >= 1_000 ? 5 : 20;
    const validateMs = await time(() => buildGraph(wf, catalog), reps);
    const firstMs = await time(() => new Engine({ catalog, services: { allowFilePaths: false } }).run(wf), reps);
    const warm = new Engine({ catalog, services: { allowFilePaths: false } });
    await warm.run(wf);
    const cachedMs = await time(() => warm.run(wf), reps);
    rows.push({
      shape,
      nodes: count,
      'validate µs/node': +((validateMs * 1000) / count).toFixed(2),
      'run (validate+execute) µs/node': +((firstMs * 1000) / count).toFixed(2),
      'execute only µs/node': +(((firstMs - validateMs) * 1000) / count).toFixed(2),
      'cached re-run ms': +cachedMs.toFixed(3),
    });
  }
}
console.table(rows);
