// HTTP triggers against Node-RED, side by side in one run on one machine: the echo workflow (a named prompt
// into an output) behind picflow's sync trigger `POST /hooks/echo`, and Node-RED 4's http in → function →
// http response, which records nothing. Every picflow request is a full run (queued, executed, recorded in
// sqlite, answered) with its own input, so nothing comes from the cache; after the load the bench counts the
// succeeded runs in the database; 'server CPU ms/req' is the server process's CPU time per request (steadier than
// req/s on a shared machine), 'main thread ms/req' its main thread's share (where JavaScript runs: the bound on
// req/s of a single-threaded server), 'client CPU ms/req' the load generator's (autocannon, in this process: on
// two cores, what it takes is not the server's). Node-RED is installed into bench/.tmp/node-red when missing (never a project
// dependency). Prints a table; nothing is asserted.
//   BENCH_SECONDS: duration of each measurement (default 5). BENCH_CONNECTIONS: the counts to measure (default 1,16,64).
//   BENCH_ROUNDS: measurements per server and count (default 3), in rounds that alternate the servers' order; a row
//   gives the medians, and '× node-red' the median of each round's ratio (a round's servers run back to back, so a
//   slower or faster spell of a shared machine falls on both sides of a ratio). BENCH_PROFILE=<dir>: the picflow server writes a
//   --cpu-prof profile there (read it with bench/cpuprofile-top.ts). BENCH_ONLY=picflow skips Node-RED.
//   BENCH_PICFLOW_ARGS: more `picflow serve` options (e.g. '--concurrency 16'). BENCH_PICFLOW_ROOT: see below.
//   BENCH_BASELINE=<checkout>: also measures that checkout's picflow (built: `npm run build:cli` there) in the
//   same run, as 'baseline' rows beside this one's (before/after on one machine at one time).
//   BENCH_WORKFLOW=generate: picflow alone, on prompt → generate → save-image behind `POST /hooks/generate` (the
//   seed exposed as `seed`, a new one per request, so nothing is cached): model runs under load through the
//   server, '× 1 connection' giving each round's runs/s against one connection's (issue 16's model target,
//   which bench/model.ts measures through the engine).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, openSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import sqlite3 from 'sqlite3';
import { freePort } from '../test/redis-server';
import { cpuMs, cpuPerRequest } from './process-cpu';
import { median } from './median';
import { inTurn } from './rounds';
import { echoWorkflow, generateWorkflow } from './workflows';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const root = join(import.meta.dirname, '..');
// BENCH_PICFLOW_ROOT: another checkout's picflow to measure (an earlier commit, for a before/after table).
const picflowRoot = process.env.BENCH_PICFLOW_ROOT ?? root;
const baselineRoot = process.env.BENCH_BASELINE;
const scratch = join(root, 'bench', '.tmp');
const nodeRedDir = join(scratch, 'node-red');
const nodeRedMain = join(nodeRedDir, 'node_modules', 'node-red', 'red.js');
const work = await mkdtemp(join(tmpdir(), 'picflow-bench-server-'));

/** Starts a server process (its output into a log file) and waits until `ready` answers 200. */
async function start(args: string[], ready: string, log: string, cwd = root): Promise<ChildProcess> {
  const out = openSync(log, 'w');
  const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', out, out] });
  let exited = false;
  child.once('exit', () => (exited = true));
  for (let i = 0; i < 600; i++) {
    if (exited) throw new Error(`${args.join(' ')} exited before it answered; see ${log}:\n${await readFile(log, 'utf8')}`);
    try {
      if ((await fetch(ready)).ok) return child;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${ready} did not answer within a minute`);
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

async function json(method: string, url: string, body: unknown): Promise<any> {
  const response = await fetch(url, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`${method} ${url}: ${response.status} ${await response.text()}`);
  return response.json();
}

/** What the load runs: the echo workflow (and Node-RED's echo flow beside it), or a model workflow. */
const workflowKind = process.env.BENCH_WORKFLOW ?? 'echo';
if (workflowKind !== 'echo' && workflowKind !== 'generate') throw new Error(`BENCH_WORKFLOW must be echo or generate, not '${workflowKind}'`);
const generating = workflowKind === 'generate';

async function startPicflow(checkout: string, name: string): Promise<{ child: ChildProcess; hook: string; dataDir: string }> {
  const port = await freePort();
  const dataDir = join(work, `${name}-data`);
  const profile = process.env.BENCH_PROFILE;
  const flags = profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : [];
  const extra = (process.env.BENCH_PICFLOW_ARGS ?? '').split(' ').filter(Boolean);
  const args = [...flags, 'bin/picflow.js', 'serve', '--port', String(port), '--data', dataDir, ...extra];
  const child = await start(args, `http://127.0.0.1:${port}/api/health`, join(work, `${name}.log`), checkout);
  const base = `http://127.0.0.1:${port}`;
  const { id } = await json('POST', `${base}/api/workflows`, generating ? generateWorkflow : echoWorkflow);
  const inputs = generating ? [{ param: 'g.seed', name: 'seed' }] : [];
  await json('PUT', `${base}/api/workflows/${id}/trigger`, { slug: workflowKind, mode: 'sync', inputs });
  return { child, hook: `${base}/hooks/${workflowKind}`, dataDir };
}

function installNodeRed(): void {
  if (existsSync(nodeRedMain)) return;
  console.error('installing Node-RED 4 into bench/.tmp/node-red (once) ...');
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--omit=dev', '--prefix', nodeRedDir, 'node-red@4'], { stdio: 'inherit' });
}

async function startNodeRed(): Promise<{ child: ChildProcess; hook: string }> {
  installNodeRed();
  const port = await freePort();
  const userDir = join(work, 'node-red-user');
  await mkdir(userDir, { recursive: true });
  const flows = [
    { id: 'tab', type: 'tab', label: 'bench' },
    { id: 'in', z: 'tab', type: 'http in', url: '/hooks/echo', method: 'post', wires: [['fn']] },
    { id: 'fn', z: 'tab', type: 'function', func: 'msg.payload = { outputs: { echo: msg.payload.subject } };\nreturn msg;', outputs: 1, wires: [['out']] },
    { id: 'out', z: 'tab', type: 'http response', statusCode: '', headers: {}, wires: [] },
  ];
  await writeFile(join(userDir, 'flows.json'), JSON.stringify(flows));
  const child = await start([nodeRedMain, '--port', String(port), '--userDir', userDir, 'flows.json'], `http://127.0.0.1:${port}/flows`, join(work, 'node-red.log'));
  // /flows answers before the flow is wired: wait for the hook itself.
  for (let i = 0; i < 100; i++) {
    const response = await fetch(`http://127.0.0.1:${port}/hooks/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"subject":"x"}' });
    if (response.ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, hook: `http://127.0.0.1:${port}/hooks/echo` };
}

let counter = 0;
async function load(url: string, connections: number, duration: number) {
  return autocannon({
    url,
    connections,
    duration,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request: object) => ({ ...request, body: JSON.stringify(generating ? { seed: counter++ } : { subject: `shape ${counter++}` }) }),
      },
    ],
  });
}

async function succeededRuns(dataDir: string): Promise<number> {
  const db = new sqlite3.Database(join(dataDir, 'picflow.db'), sqlite3.OPEN_READONLY);
  const row = await new Promise<{ n: number }>((resolve, reject) =>
    db.get(`SELECT count(*) AS n FROM runs WHERE status = 'succeeded' AND outputs LIKE '%"${generating ? 'image' : 'echo'}"%' AND nodes LIKE '%"ms"%'`, (err, r: { n: number }) =>
      err ? reject(err) : resolve(r),
    ),
  );
  await new Promise((resolve) => db.close(resolve));
  return row.n;
}

const loadBefore = loadavg()[0];
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
/** A measurement's figures ('' where the CPU time could not be read). */
type Sample = Record<string, number | ''>;
const samples: { server: string; connections: number; round: number; sample: Sample }[] = [];
const servers: [string, () => Promise<{ child: ChildProcess; hook: string; dataDir?: string }>][] = [['picflow', () => startPicflow(picflowRoot, 'picflow')]];
if (baselineRoot) servers.unshift(['baseline', () => startPicflow(baselineRoot, 'baseline')]);
if (process.env.BENCH_ONLY !== 'picflow' && !generating) servers.push(['node-red', startNodeRed]);
// All servers up at once and measured in turn at each connection count: a shift in the machine's other load
// falls on every server's row alike, not on one server's rows only.
const started: { name: string; child: ChildProcess; hook: string; dataDir?: string; answered: number }[] = [];
for (const [name, begin] of servers) started.push({ name, ...(await begin()), answered: 0 });
for (const server of started) server.answered += (await load(server.hook, 16, 5))['2xx']; // warm-up: JIT, sqlite pages
const counts = (process.env.BENCH_CONNECTIONS ?? '1,16,64').split(',').map(Number);
for (const connections of counts) {
  for (let round = 0; round < rounds; round++) {
    for (const server of inTurn(started, round)) {
      const cpuBefore = cpuMs(server.child.pid);
      const mainBefore = cpuMs(server.child.pid, true);
      const clientBefore = process.cpuUsage();
      const result = await load(server.hook, connections, seconds);
      const client = process.cpuUsage(clientBefore);
      server.answered += result['2xx'];
      const sample: Sample = {
        'req/s': Math.round(result.requests.average),
        'server CPU ms/req': cpuPerRequest(cpuBefore, cpuMs(server.child.pid), result.requests.total),
        'main thread ms/req': cpuPerRequest(mainBefore, cpuMs(server.child.pid, true), result.requests.total),
        'client CPU ms/req': cpuPerRequest(0, (client.user + client.system) / 1000, result.requests.total),
        'p50 ms': result.latency.p50,
        'p99 ms': result.latency.p99,
        '2xx': result['2xx'],
        'non-2xx': result.non2xx,
        errors: result.errors + result.timeouts,
      };
      samples.push({ server: server.name, connections, round, sample });
    }
  }
}
for (const server of started) {
  await stop(server.child);
  if (server.dataDir) console.log(`${server.name} answered ${server.answered} requests with 2xx and recorded ${await succeededRuns(server.dataDir)} succeeded runs with outputs and node timings`);
}
const TOTALS = new Set(['2xx', 'non-2xx', 'errors']);
const rows: Record<string, string | number>[] = [];
for (const server of started) {
  for (const connections of counts) {
    const mine = samples.filter((s) => s.server === server.name && s.connections === connections);
    const row: Record<string, string | number> = { server: server.name, connections };
    for (const key of Object.keys(mine[0].sample)) {
      const values = mine.map((s) => s.sample[key]).filter((value): value is number => value !== '');
      row[key] = values.length === 0 ? '' : TOTALS.has(key) ? values.reduce((a, b) => a + b, 0) : median(values);
    }
    if (rounds > 1) row['req/s per round'] = mine.map((s) => s.sample['req/s']).join(' ');
    // Each round's ratio to Node-RED's figure of the same round.
    const ratios = mine.flatMap(({ round, sample }) => {
      const other = samples.find((s) => s.server === 'node-red' && s.connections === connections && s.round === round);
      return server.name !== 'node-red' && other ? [(sample['req/s'] as number) / (other.sample['req/s'] as number)] : [];
    });
    if (ratios.length > 0) row['× node-red'] = +median(ratios).toFixed(2);
    // A model workflow: each round's ratio to the same server's one-connection figure of the same round.
    const scaling = !generating
      ? []
      : mine.flatMap(({ round, sample }) => {
          const one = samples.find((s) => s.server === server.name && s.connections === 1 && s.round === round);
          return one ? [(sample['req/s'] as number) / (one.sample['req/s'] as number)] : [];
        });
    if (scaling.length > 0) row['× 1 connection'] = +median(scaling).toFixed(2);
    rows.push(row);
  }
}
console.log(`${workflowKind} workflow, sync trigger, ${rounds} × ${seconds} s per row; load average ${loadBefore.toFixed(1)} → ${loadavg()[0].toFixed(1)} on ${availableParallelism()} cores`);
console.table(rows);
await rm(work, { recursive: true, force: true });
