/**
 * Model runtime benchmark (CPU): per task, the median wall time of a call, the time inside
 * session.run and the overhead outside it (ours, the median of each call's wall minus its run time);
 * KV cache on vs off; first call (load) vs warm. Then the Hugging Face layouts through transformers.js
 * (bench/model-hf.ts).
 * Then throughput under concurrency: prompt → generate → save-image workflows through the engine, a new seed
 * per run (nothing cached), with 1, 4 and 16 runs in flight: runs/s and p50/p99 of a run's wall time, on the
 * main thread alone with calls of different runs batched and not (batchRows 1: one call at a time), and with the
 * default lanes (a worker thread per further core, each batching its calls). Every concurrency and
 * mode is measured once per round (BENCH_MODEL_ROUNDS, default 3), the order reversed every other round; a row
 * gives the medians, and '× 1 client' the median of each round's ratio to one client of the same mode and
 * round: a slow or fast spell of a shared machine falls on both sides of a ratio.
 * Prints tables; asserts nothing.  Usage: npm run bench:model [-- --runs 15] [-- --throughput] (that table
 * only); BENCH_MODEL_SECONDS (default 5) sets how long each measurement lasts.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Engine } from '../engine/engine';
import { decodeImage, type ImageValue } from '../engine/image';
import { ModelRuntime, type ImageModel } from '../engine/runtime';
import { createServices } from '../engine/services';
import { catalog } from '../nodes';
import { benchHf } from './model-hf';
import { median } from './median';
import { inTurn } from './rounds';

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
  await benchHf();
  printThroughput(concurrency);
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

const seconds = Number(process.env.BENCH_MODEL_SECONDS ?? 5);
const rounds = Number(process.env.BENCH_MODEL_ROUNDS ?? 3);
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
  mode: string;
  runs: number;
  'runs/s': number;
  'p50 ms': number;
  'p99 ms': number;
  '× 1 client': number;
  'runs/s per round': string;
}

/** One measurement: `clients` runs in flight for `seconds`. */
interface Sample {
  clients: number;
  mode: string;
  round: number;
  runs: number;
  perSecond: number;
  p50: number;
  p99: number;
}

/** Runs/s and run wall times with `clients` runs in flight at once, for each of 1, 4 and 16 clients and each mode, in rounds. */
async function throughput(): Promise<ThroughputRow[]> {
  const defaults = new ModelRuntime({ device: 'cpu', intraOpThreads: threads });
  const modes = [
    { mode: '1 lane, unbatched', runtime: new ModelRuntime({ device: 'cpu', intraOpThreads: threads, lanes: 1, batchRows: 1 }) },
    { mode: '1 lane, batched', runtime: new ModelRuntime({ device: 'cpu', intraOpThreads: threads, lanes: 1 }) },
    { mode: `${defaults.maxLanes} lanes, batched (default)`, runtime: defaults },
  ];
  let seed = 1_000;
  const runners = await Promise.all(
    modes.map(async ({ mode, runtime }) => {
      const engine = new Engine({ catalog, services: createServices({ allowFilePaths: false, models: runtime }) });
      const runOnce = async () => {
        const result = await engine.run(generateWorkflow, { inputs: { 'g.seed': seed++ } });
        if (result.status !== 'succeeded') throw new Error(`run ${result.status}: ${result.error?.message}`);
      };
      // warm: the graphs on every lane (a burst starts the worker lanes, which load their own copies)
      await runOnce();
      await Promise.all(Array.from({ length: 2 * runtime.maxLanes }, runOnce));
      return { mode, runOnce };
    }),
  );
  const counts = [1, 4, 16];
  const samples: Sample[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const clients of inTurn(counts, round)) {
      for (const { mode, runOnce } of inTurn(runners, round)) {
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
        samples.push({
          clients,
          mode,
          round,
          runs: walls.length,
          perSecond: walls.length / elapsed,
          p50: median(walls),
          p99: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))],
        });
      }
    }
  }
  const rows: ThroughputRow[] = [];
  for (const clients of counts) {
    for (const { mode } of runners) {
      const mine = samples.filter((s) => s.clients === clients && s.mode === mode);
      const ratios = mine.map((s) => s.perSecond / samples.find((o) => o.clients === 1 && o.mode === mode && o.round === s.round)!.perSecond);
      rows.push({
        clients,
        mode,
        runs: mine.reduce((sum, s) => sum + s.runs, 0),
        'runs/s': +median(mine.map((s) => s.perSecond)).toFixed(1),
        'p50 ms': Math.round(median(mine.map((s) => s.p50))),
        'p99 ms': Math.round(median(mine.map((s) => s.p99))),
        '× 1 client': +median(ratios).toFixed(2),
        'runs/s per round': mine.map((s) => s.perSecond.toFixed(1)).join(' '),
      });
    }
  }
  await Promise.all(modes.map((m) => m.runtime.close()));
  return rows;
}

function printThroughput(rows: ThroughputRow[]): void {
  console.log(`\nprompt → generate → save-image, a seed per run, ${rounds} rounds × ${seconds} s per row; load average ${loadavg()[0].toFixed(1)} (1 min)`);
  console.table(rows);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
