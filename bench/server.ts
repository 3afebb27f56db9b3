// Throughput of HTTP triggers: `POST /hooks/:slug` (sync) on a utility-only workflow, against the real
// server in its own process. "cached": every request sends the same inputs, so the outputs come from
// the engine's cache; "uncached": each request sets a new prompt, so its nodes run. Every request is
// still a full run (queued, recorded in sqlite, answered). Prints a table; nothing is asserted.
// BENCH_SECONDS sets the duration of each measurement (default 5).
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const root = join(import.meta.dirname, '..');
const dataDir = await mkdtemp(join(tmpdir(), 'picflow-bench-'));

const server = spawn(process.execPath, ['--import', 'tsx', join(root, 'cli', 'picflow.ts'), 'serve', '--port', '0', '--data', dataDir], {
  env: { ...process.env, PICFLOW_LOG_LEVEL: 'warn' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const url = await new Promise<string>((resolve, reject) => {
  createInterface({ input: server.stdout }).on('line', (line) => {
    const match = line.match(/^picflow serving on (\S+)/);
    if (match) resolve(match[1]);
  });
  server.once('exit', (code) => reject(new Error(`the server exited (${code}) before it listened`)));
});

async function api(method: string, path: string, body: unknown): Promise<any> {
  const response = await fetch(url + path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

const workflow = {
  version: 1,
  name: 'bench: utility only',
  nodes: {
    subject: { type: 'prompt', params: { name: 'subject', text: 'a red circle' } },
    place: { type: 'prompt', params: { text: 'in the center' } },
    joined: { type: 'text', inputs: { a: ['subject', 'text'], b: ['place', 'text'] } },
    size: { type: 'number', params: { value: 3 } },
    big: { type: 'compare', params: { op: '>=', value: 2 }, inputs: { a: ['size', 'number'] } },
    caption: { type: 'output', params: { name: 'caption' }, inputs: { value: ['joined', 'text'] } },
    ok: { type: 'output', params: { name: 'ok' }, inputs: { value: ['big', 'result'] } },
  },
};
const { id } = await api('POST', '/api/workflows', workflow);
await api('PUT', `/api/workflows/${id}/trigger`, { slug: 'bench', mode: 'sync' });

let counter = 0;
function options(mode: 'cached' | 'uncached', connections: number, duration: number) {
  const headers = { 'content-type': 'application/json' };
  const cached = JSON.stringify({ subject: 'a blue square' });
  return {
    url: `${url}/hooks/bench`,
    connections,
    duration,
    requests: [
      {
        method: 'POST',
        headers,
        body: cached,
        ...(mode === 'uncached' && { setupRequest: (request: object) => ({ ...request, body: JSON.stringify({ subject: `shape ${counter++}` }) }) }),
      },
    ],
  };
}

// Warm-up, so the first row does not pay for JIT compilation and cold sqlite pages: 2 s per mode
// was too short (whichever mode was measured first came out 2-3x slower), 5 s is stable.
for (const mode of ['cached', 'uncached'] as const) await autocannon(options(mode, 16, 5));
const rows = [];
for (const mode of ['cached', 'uncached'] as const) {
  for (const connections of [1, 16, 64]) {
    const result = await autocannon(options(mode, connections, seconds));
    rows.push({
      mode,
      connections,
      'req/s': Math.round(result.requests.average),
      'p50 ms': result.latency.p50,
      'p99 ms': result.latency.p99,
      requests: result.requests.total,
      'non-2xx': result.non2xx,
      errors: result.errors + result.timeouts,
    });
  }
}
console.table(rows);

server.kill('SIGTERM');
await new Promise((resolve) => server.once('exit', resolve));
await rm(dataDir, { recursive: true, force: true });
