/**
 * Model runtime benchmark (CPU): per task, the median wall time of a call, the time inside
 * session.run and the overhead outside it (ours, the median of each call's wall minus its run time);
 * KV cache on vs off; first call (load) vs warm. Then the same for the tiny Hugging Face layouts
 * (test/fixtures/hf) run through transformers.js: there "ours" includes transformers.js' own work
 * (tokenizing, preprocessing, its generation loop), everything outside onnxruntime.
 * Then throughput under concurrency: prompt → generate → save-image workflows through the engine, a new seed
 * per run (nothing cached), with 1, 4 and 16 runs in flight: runs/s and p50/p99 of a run's wall time, with
 * calls of different runs batched (the default) and not (batchRows 1: one call at a time), the two measured
 * in turn at each concurrency so that the machine's load weighs on both alike.
 * Prints tables; asserts nothing.  Usage: npm run bench:model [-- --runs 15] [-- --throughput] (that table
 * only); BENCH_MODEL_SECONDS (default 8) sets how long each concurrency is measured.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Engine } from '../engine/engine';
import { decodeImage, type ImageValue } from '../engine/image';
import { fileURLToPath } from 'node:url';
import { ModelRuntime, type ImageModel } from '../engine/runtime';
import { createServices } from '../engine/services';
import { catalog } from '../nodes';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 15;
const threads = Number(process.env.PICFLOW_THREADS ?? 1);
const prompt = 'a large red circle in the center on a blue background';

interface Row {
  label: string;
  wall: number;
  run: number;
  /** Median over calls of (wall - run): the medians of wall and run come from different calls. */
  ours: number;
  calls: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function measure(label: string, model: ImageModel, call: () => Promise<unknown>, n = runs): Promise<Row> {
  const walls: number[] = [];
  const inside: number[] = [];
  const ours: number[] = [];
  let calls = 0;
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await call();
    const wall = performance.now() - t;
    walls.push(wall);
    inside.push(model.lastStats.runMs);
    ours.push(wall - model.lastStats.runMs);
    calls = model.lastStats.runs;
  }
  return { label, wall: median(walls), run: median(inside), ours: median(ours), calls };
}

async function main() {
  if (process.argv.includes('--throughput')) return printThroughput(await throughput());
  const image: ImageValue = await decodeImage(readFileSync(new URL('../workflows/assets/red-circle.png', import.meta.url)));
  const runtime = new ModelRuntime({ device: 'cpu', intraOpThreads: threads });
  const model = await runtime.model('tiny-shapes');

  const rows: Row[] = [];
  // first call: sessions are created inside it
  rows.push(await measure('generate ×1, first call (load)', model, () => model.generate(prompt, { seed: 0 }), 1));
  const tasks: [string, () => Promise<unknown>][] = [
    ['generate ×1 (default cfg)', () => model.generate(prompt, { seed: 1 })],
    ['generate ×1, cfg 1 (no guidance)', () => model.generate(prompt, { seed: 1, cfg: 1 })],
    ['generate ×4 (default cfg)', () => model.generate(prompt, { seed: 1, count: 4 })],
    ['edit ×1', () => model.edit(image, 'make the background yellow', { seed: 1 })],
    ['caption (greedy)', () => model.caption(image)],
    ['score', () => model.score(image, prompt)],
    ['generate ×1, KV cache off', () => model.generate(prompt, { seed: 1 }, { kvCache: false })],
  ];
  for (const [label, call] of tasks) {
    await call(); // warm this path
    rows.push(await measure(label, model, call));
  }
  await runtime.close();
  const concurrency = await throughput();
  print(`tiny-shapes on CPU, onnxruntime-node, ${threads} intra-op thread(s), median of ${runs} runs (first call: 1)`, rows);
  print(`Hugging Face layouts (tiny random fixtures) through transformers.js, same settings`, await hfRows(image));
  printThroughput(concurrency);
}

async function hfRows(image: ImageValue): Promise<Row[]> {
  const runtime = new ModelRuntime({ device: 'cpu', intraOpThreads: threads, modelDirs: [fileURLToPath(new URL('../test/fixtures/hf', import.meta.url))] });
  const janus = await runtime.model('janus-tiny');
  const rows: Row[] = [await measure('janus generate, first call (load)', janus, () => janus.generate(prompt, { seed: 0 }), 1)];
  const tasks: [string, ImageModel, () => Promise<unknown>][] = [
    ['janus generate ×1 (cfg 5, sampled)', janus, () => janus.generate(prompt, { seed: 1 })],
    ['janus generate ×1 (greedy, cfg 1)', janus, () => janus.generate(prompt, { temperature: 0, cfg: 1 })],
    ['janus caption (greedy, 64 tokens)', janus, () => janus.caption(image)],
    ['janus score', janus, () => janus.score(image, prompt)],
  ];
  for (const name of ['clip-tiny', 'siglip-tiny']) {
    const scorer = await runtime.model(name);
    tasks.push([`${name} score ×1`, scorer, () => scorer.score(image, prompt)]);
    tasks.push([`${name} score ×8 (one batch)`, scorer, () => scorer.scoreBatch(Array(8).fill(image), prompt)]);
  }
  for (const [label, model, call] of tasks) {
    await call(); // warm this path
    rows.push(await measure(label, model, call));
  }
  await runtime.close();
  return rows;
}

function print(title: string, rows: Row[]): void {
  const fmt = (v: number, w = 9) => v.toFixed(1).padStart(w);
  console.log(`${title}\n`);
  console.log(`${'call'.padEnd(36)}${'wall ms'.padStart(9)}${'run ms'.padStart(9)}${'ours ms'.padStart(9)}${'ours %'.padStart(8)}${'runs'.padStart(6)}`);
  for (const r of rows) {
    console.log(`${r.label.padEnd(36)}${fmt(r.wall)}${fmt(r.run)}${fmt(r.ours)}${fmt((100 * r.ours) / r.wall, 8)}${String(r.calls).padStart(6)}`);
  }
  console.log();
}

const seconds = Number(process.env.BENCH_MODEL_SECONDS ?? 8);
const generateWorkflow = {
  version: 1,
  nodes: {
    p: { type: 'prompt', params: { name: 'subject', text: prompt } },
    g: { type: 'generate', params: { seed: 0, count: 1 }, inputs: { prompt: ['p', 'text'] } },
    image: { type: 'save-image', params: { name: 'image' }, inputs: { image: ['g', 'image'] } },
  },
};

interface ThroughputRow {
  clients: number;
  batched: string;
  runs: number;
  'runs/s': number;
  'p50 ms': number;
  'p99 ms': number;
}

/** Runs/s and run wall times with `clients` runs in flight at once, for each of 1, 4 and 16 clients, batched and not. */
async function throughput(): Promise<ThroughputRow[]> {
  const modes = [
    { batched: 'no', runtime: new ModelRuntime({ device: 'cpu', intraOpThreads: threads, batchRows: 1 }) },
    { batched: 'yes', runtime: new ModelRuntime({ device: 'cpu', intraOpThreads: threads }) },
  ];
  let seed = 1_000;
  const runners = await Promise.all(
    modes.map(async ({ batched, runtime }) => {
      const engine = new Engine({ catalog, services: createServices({ allowFilePaths: false, models: runtime }) });
      const runOnce = async () => {
        const result = await engine.run(generateWorkflow, { inputs: { 'g.seed': seed++ } });
        if (result.status !== 'succeeded') throw new Error(`run ${result.status}: ${result.error?.message}`);
      };
      await runOnce(); // warm
      return { batched, runOnce };
    }),
  );
  const rows: ThroughputRow[] = [];
  for (const clients of [1, 4, 16]) {
    for (const { batched, runOnce } of runners) {
      const walls: number[] = [];
      const start = performance.now();
      const lane = async () => {
        while (performance.now() - start < seconds * 1000) {
          const t = performance.now();
          await runOnce();
          walls.push(performance.now() - t);
        }
      };
      await Promise.all(Array.from({ length: clients }, lane));
      const elapsed = (performance.now() - start) / 1000;
      const sorted = [...walls].sort((a, b) => a - b);
      rows.push({
        clients,
        batched,
        runs: walls.length,
        'runs/s': +(walls.length / elapsed).toFixed(1),
        'p50 ms': Math.round(sorted[Math.floor(sorted.length / 2)]),
        'p99 ms': Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]),
      });
    }
  }
  await Promise.all(modes.map((m) => m.runtime.close()));
  return rows;
}

function printThroughput(rows: ThroughputRow[]): void {
  console.log(`\nprompt → generate → save-image, a seed per run, ${seconds} s per row; load average ${loadavg()[0].toFixed(1)} (1 min)`);
  const single = (batched: string) => rows.find((r) => r.clients === 1 && r.batched === batched)!['runs/s'];
  console.table(rows.map((row) => ({ ...row, '× 1 client': +(row['runs/s'] / single(row.batched)).toFixed(2) })));
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
