/**
 * Hugging Face layouts through transformers.js on CPU: per call, the median wall time, the time inside
 * session.run and the time outside it — picflow's adapter plus transformers.js' own work (tokenizing,
 * preprocessing, its generation loop and sampler), everything that is not the model's graphs — per call
 * and per token. Two sets of models in the same published layouts:
 * - the committed tiny fixtures (test/fixtures/hf): their graphs cost next to nothing, so the outside
 *   time is what they show, in ms per call and per token;
 * - bench-size fixtures (scripts/make-hf-fixtures.py --size bench, written to bench/.tmp/hf on first
 *   use, never committed): the real exports' vocabularies, codebook, image sizes and token counts with
 *   narrower, shallower transformers, so a step costs about what a small model's step costs on CPU and
 *   "outside %" is a meaningful ratio.
 * Prints tables; asserts nothing. Usage: npx tsx bench/model-hf.ts [--runs 9] [--tiny]; bench/model.ts runs it too.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { decodeImage, resizeImage, type ImageValue } from '../engine/image';
import { ModelRuntime, type CallOptions, type ImageModel } from '../engine/runtime';
import { median } from './median';

const TINY_DIR = fileURLToPath(new URL('../test/fixtures/hf', import.meta.url));
const BENCH_DIR = fileURLToPath(new URL('./.tmp/hf', import.meta.url));
const FIXTURE_SCRIPT = fileURLToPath(new URL('../scripts/make-hf-fixtures.py', import.meta.url));
const prompt = 'a red circle';

interface Row {
  label: string;
  wall: number;
  run: number;
  /** Median over calls of (wall - run): the medians of wall and run come from different calls. */
  outside: number;
  runs: number;
  /** Tokens generated per call (progress steps); 0 for a single forward pass. */
  tokens: number;
}

type Call = (call: CallOptions) => Promise<unknown>;

async function measure(label: string, model: ImageModel, call: Call, n: number): Promise<Row> {
  const walls: number[] = [];
  const inside: number[] = [];
  const outside: number[] = [];
  let tokens = 0;
  for (let i = 0; i < n; i++) {
    tokens = 0;
    const t = performance.now();
    await call({ onProgress: () => tokens++ });
    const wall = performance.now() - t;
    walls.push(wall);
    inside.push(model.lastStats.runMs);
    outside.push(wall - model.lastStats.runMs);
  }
  return { label, wall: median(walls), run: median(inside), outside: median(outside), runs: model.lastStats.runs, tokens };
}

/** The rows of one set of fixtures: the first call (load) once, then each task warmed and measured `n` times. */
async function rows(dir: string, size: 'tiny' | 'bench', image: ImageValue, n: number, batch: number): Promise<Row[]> {
  const runtime = new ModelRuntime({ device: 'cpu', intraOpThreads: Number(process.env.PICFLOW_THREADS ?? 1), modelDirs: [dir] });
  const janus = await runtime.model(`janus-${size}`);
  const out = [await measure('janus generate, first call (load)', janus, (c) => janus.generate(prompt, { seed: 0 }, c), 1)];
  const tasks: [string, ImageModel, Call][] = [
    ['janus generate ×1 (cfg 5, sampled)', janus, (c) => janus.generate(prompt, { seed: 1 }, c)],
    ['janus generate ×1 (greedy, cfg 1)', janus, (c) => janus.generate(prompt, { temperature: 0, cfg: 1 }, c)],
    ['janus caption (greedy, ≤64 tokens)', janus, (c) => janus.caption(image, {}, c)],
    ['janus score', janus, (c) => janus.score(image, prompt, c)],
  ];
  for (const name of ['clip', 'siglip']) {
    const scorer = await runtime.model(`${name}-${size}`);
    tasks.push([`${name} score ×1`, scorer, (c) => scorer.score(image, prompt, c)]);
    tasks.push([`${name} score ×${batch} (one batch)`, scorer, (c) => scorer.scoreBatch(Array(batch).fill(image), prompt, c)]);
  }
  for (const [label, model, call] of tasks) {
    await call({}); // warm this path
    out.push(await measure(label, model, call, n));
  }
  await runtime.close();
  return out;
}

/** The bench-size fixtures, made on first use (a minute or two of python). */
function benchFixtures(): string {
  if (!['janus', 'clip', 'siglip'].every((m) => existsSync(`${BENCH_DIR}/${m}-bench/config.json`))) {
    console.log(`writing bench-size fixtures to ${BENCH_DIR} …`);
    const made = spawnSync('/usr/bin/python3', [FIXTURE_SCRIPT, '--size', 'bench', '--out', BENCH_DIR], { stdio: 'inherit' });
    if (made.status !== 0) throw new Error(`${FIXTURE_SCRIPT} --size bench failed (exit ${made.status})`);
  }
  return BENCH_DIR;
}

function print(title: string, table: Row[]): void {
  const num = (v: number, w: number, digits = 1) => v.toFixed(digits).padStart(w);
  console.log(`${title}\n`);
  console.log(
    `${'call'.padEnd(38)}${'wall ms'.padStart(9)}${'run ms'.padStart(9)}${'out ms'.padStart(9)}${'out %'.padStart(7)}` +
      `${'runs'.padStart(6)}${'tokens'.padStart(7)}${'out ms/token'.padStart(13)}`,
  );
  for (const r of table) {
    const perToken = r.tokens > 0 ? num(r.outside / r.tokens, 13, 2) : '–'.padStart(13);
    console.log(
      `${r.label.padEnd(38)}${num(r.wall, 9)}${num(r.run, 9)}${num(r.outside, 9)}${num((100 * r.outside) / r.wall, 7)}` +
        `${String(r.runs).padStart(6)}${String(r.tokens).padStart(7)}${perToken}`,
    );
  }
  console.log();
}

/** Prints both tables (the bench-size one unless `tinyOnly`). */
export async function benchHf(options: { runs?: number; tinyOnly?: boolean } = {}): Promise<void> {
  const runs = options.runs ?? 9;
  const benchRuns = Math.max(3, Math.ceil(runs / 3));
  const threads = Number(process.env.PICFLOW_THREADS ?? 1);
  const photo = await decodeImage(readFileSync(new URL('../workflows/assets/red-circle.png', import.meta.url)));
  const settings = `CPU, ${threads} intra-op thread(s), median of ${runs} calls on the tiny fixtures, ${benchRuns} on the bench-size ones (first call: 1)`;
  print(`Hugging Face layouts, tiny fixtures (test/fixtures/hf) through transformers.js, ${settings}; load average ${loadavg()[0].toFixed(1)}`, await rows(TINY_DIR, 'tiny', photo, runs, 8));
  if (options.tinyOnly) return;
  const dir = benchFixtures();
  print(`Hugging Face layouts, bench-size fixtures (${dir}), ${settings}; load average ${loadavg()[0].toFixed(1)}`, await rows(dir, 'bench', await resizeImage(photo, 384, 384), benchRuns, 4));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const arg = process.argv.indexOf('--runs');
  benchHf({ runs: arg > 0 ? Number(process.argv[arg + 1]) : undefined, tinyOnly: process.argv.includes('--tiny') }).catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
