import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sqlite3 from 'sqlite3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Database } from '../server/db';
import { databasePath } from '../server/start';
import { connect, killServers, openGate, png, spawnServer, startTestServer, upload, workflows, type ServerProcess } from './server-harness';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'picflow-durable-'));
});
afterAll(async () => {
  killServers();
  await rm(dir, { recursive: true, force: true });
});

/**
 * Numbers `first` (= n) → `second` (+1) → `gate` (waits for the file `gateFile`) → output `value`
 * (= n + 1); beside them an uploaded image is resized (`small`) and saved (`image`), so an
 * interrupted run has finished nodes with an artifact among their outputs.
 */
function gated(n: number, gateFile: string, artifact: string) {
  return {
    version: 1,
    nodes: {
      first: { type: 'checkpoint', params: { value: n } },
      second: { type: 'checkpoint', params: { value: 1 }, inputs: { a: ['first', 'value'] } },
      gate: { type: 'checkpoint', params: { waitFor: gateFile }, inputs: { a: ['second', 'value'] } },
      value: { type: 'output', params: { name: 'value' }, inputs: { value: ['gate', 'value'] } },
      load: { type: 'load-image', params: { artifact } },
      small: { type: 'resize', params: { width: 5, height: 4 }, inputs: { image: ['load', 'image'] } },
      image: { type: 'save-image', params: { name: 'image' }, inputs: { image: ['small', 'image'] } },
    },
  };
}

/** `checkpoint` calls per run and node, from the calls file every server process appends to. */
async function calls(file: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const text = existsSync(file) ? await readFile(file, 'utf8') : '';
  for (const line of text.split('\n').filter(Boolean)) counts.set(line, (counts.get(line) ?? 0) + 1);
  return counts;
}

/** A run's row as sqlite holds it now, read beside the live server (WAL lets a reader in); undefined before it exists. */
async function storedRun(dataDir: string, runId: string): Promise<{ status: string; nodes: Record<string, any> | null } | undefined> {
  const db = await new Promise<sqlite3.Database | undefined>((resolve) => {
    const handle = new sqlite3.Database(join(dataDir, 'picflow.db'), sqlite3.OPEN_READONLY, (err) => resolve(err ? undefined : handle));
  });
  if (!db) return undefined;
  try {
    const row = await new Promise<{ status: string; nodes: string | null } | undefined>((resolve, reject) =>
      db.get('SELECT status, nodes FROM runs WHERE id = ?', [runId], (err, r) => (err ? reject(err) : resolve(r as any))),
    );
    return row && { status: row.status, nodes: row.nodes ? JSON.parse(row.nodes) : null };
  } finally {
    await new Promise((resolve) => db.close(resolve));
  }
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A node that finished: computed, or taken from the cache (runs share their image branch). */
const DONE = /^(succeeded|cached)$/;
const FINISHED = new Set(['succeeded', 'failed', 'cancelled', 'interrupted']);
const finished = (server: ServerProcess, runId: string) =>
  until(
    async () => (await server.api('GET', `/api/runs/${runId}`)).body,
    (run) => FINISHED.has(run.status),
  );

describe('durable queue', () => {
  test('SIGKILL with 4 running and 10 queued: the queued run in their order, the interrupted resume without running finished nodes again', async () => {
    const dataDir = join(dir, 'kill');
    const gateFile = join(dir, 'kill-gate');
    const callsFile = join(dir, 'kill-calls');
    const env = { PICFLOW_CALLS_FILE: callsFile, PICFLOW_CONCURRENCY: '4' };
    const first = await spawnServer(dataDir, env);
    const { artifact } = (await upload(first.url, await png(8, 8))).body;
    const ids: string[] = [];
    for (let n = 0; n < 14; n++) {
      const reply = await first.api('POST', '/api/runs', { workflow: gated(n * 10, gateFile, artifact) });
      expect(reply.status).toBe(202);
      ids.push(reply.body.runId);
    }
    const running = ids.slice(0, 4);
    const queued = ids.slice(4);
    // The four running runs wait at their gate, with what came before it saved in sqlite.
    for (const runId of running) {
      await until(
        () => storedRun(dataDir, runId),
        (row) => row?.nodes?.second?.status === 'succeeded' && DONE.test(row?.nodes?.image?.status) && row?.nodes?.gate?.status === 'running',
      );
    }
    expect((await first.api('GET', '/api/health')).body.queue).toMatchObject({ running: 4, waiting: 10 });
    first.process.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');

    await writeFile(gateFile, 'open');
    const second = await spawnServer(dataDir, env);
    const interrupted = await Promise.all(running.map(async (runId) => (await second.api('GET', `/api/runs/${runId}`)).body));
    for (const run of interrupted) {
      expect(run).toMatchObject({
        status: 'interrupted',
        error: { message: expect.stringMatching(/stopped before the run finished/) },
        nodes: {
          first: { status: 'succeeded', outputs: { value: expect.any(Number) } },
          second: { status: 'succeeded' },
          gate: { status: 'cancelled' },
          small: { status: expect.stringMatching(DONE), outputs: { image: { artifact: expect.stringMatching(/^[0-9a-f]{64}$/), width: 5, height: 4 } } },
        },
      });
      // The artifacts its finished nodes made are kept and served.
      expect((await fetch(second.url + run.nodes.small.outputs.image.url)).status).toBe(200);
    }

    // The ten that only waited run now, in the order they were queued.
    const done = [];
    for (const runId of queued) done.push(await finished(second, runId));
    expect(done.map((run) => run.status)).toEqual(Array(10).fill('succeeded'));
    expect(done.map((run) => run.outputs.value.value)).toEqual(queued.map((_, i) => (i + 4) * 10 + 1));
    const starts = done.map((run) => run.startedAt);
    expect(starts).toEqual([...starts].sort((a, b) => a - b));

    // Resumed, the four finish without running again the nodes that had finished.
    const client = connect(second.url);
    await client.connected;
    for (const runId of running) expect((await second.api('POST', `/api/runs/${runId}/resume`)).status).toBe(202);
    for (const [i, runId] of running.entries()) {
      const run = await finished(second, runId);
      expect(run).toMatchObject({
        status: 'succeeded',
        error: null,
        outputs: { value: { value: i * 10 + 1 }, image: { value: { width: 5, height: 4 } } },
        nodes: { first: { status: 'cached' }, second: { status: 'cached' }, small: { status: 'cached' }, gate: { status: 'succeeded' } },
      });
      const started = client.of(runId).filter((e) => e.name === 'node:started').map((e) => e.data.nodeId);
      // (The output `image` may come from the cache: the queued runs made the same image meanwhile.)
      expect(started).toContain('gate');
      expect(started.filter((id) => ['first', 'second', 'load', 'small'].includes(id))).toEqual([]);
    }
    const counted = await calls(callsFile);
    for (const runId of ids) {
      expect([counted.get(`${runId} first`), counted.get(`${runId} second`)]).toEqual([1, 1]);
      // The gate ran once in the killed server for the four that were running, and once more when they resumed.
      expect(counted.get(`${runId} gate`)).toBe(running.includes(runId) ? 2 : 1);
    }

    expect((await second.api('POST', `/api/runs/${running[0]}/resume`)).status).toBe(409);
    expect((await second.api('POST', '/api/runs/no-such-run/resume')).status).toBe(404);
    client.socket.close();
    second.process.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
  }, 180_000);

  test('serve --resume resumes the runs a crash interrupted by itself', async () => {
    const dataDir = join(dir, 'resume');
    const gateFile = join(dir, 'resume-gate');
    const callsFile = join(dir, 'resume-calls');
    const env = { PICFLOW_CALLS_FILE: callsFile };
    const first = await spawnServer(dataDir, env);
    const { artifact } = (await upload(first.url, await png(6, 6))).body;
    const { runId } = (await first.api('POST', '/api/runs', { workflow: gated(7, gateFile, artifact) })).body;
    await until(
      () => storedRun(dataDir, runId),
      (row) => row?.nodes?.second?.status === 'succeeded' && row?.nodes?.gate?.status === 'running',
    );
    first.process.kill('SIGKILL');
    await first.exited;

    await writeFile(gateFile, 'open');
    const second = await spawnServer(dataDir, { ...env, PICFLOW_RESUME: '1' });
    expect(await finished(second, runId)).toMatchObject({ status: 'succeeded', outputs: { value: { value: 8 } }, nodes: { first: { status: 'cached' } } });
    const counted = await calls(callsFile);
    expect([counted.get(`${runId} first`), counted.get(`${runId} second`), counted.get(`${runId} gate`)]).toEqual([1, 1, 2]);
    second.process.kill('SIGTERM');
    await second.exited;
  }, 60_000);

  test('a second server on a data dir in use refuses before it touches the database', async () => {
    const dataDir = join(dir, 'locked');
    const live = await spawnServer(dataDir);
    const { runId } = (await live.api('POST', '/api/runs', { workflow: workflows.held('never') })).body;
    await until(
      () => storedRun(dataDir, runId),
      (row) => row?.status === 'running',
    );

    await expect(startTestServer({ dataDir })).rejects.toThrow(/in use by another picflow server \(process \d+/);
    // The live server's run is untouched in sqlite, and the live server goes on serving.
    expect((await storedRun(dataDir, runId))?.status).toBe('running');
    expect((await live.api('POST', '/api/runs', { workflow: workflows.caption('still here'), wait: true })).body.status).toBe('succeeded');
    live.process.kill('SIGTERM');
    await live.exited;
    // Once it has stopped, the data dir is free again.
    const next = await startTestServer({ dataDir });
    expect((await next.api('GET', `/api/runs/${runId}`)).body.status).toBe('interrupted');
    await next.close();
  });
});

describe('admission before work', () => {
  test('a run in the queue takes one place while its record is being written, not two', async () => {
    const t = await startTestServer({ concurrency: 1, maxQueue: 2 });
    // A second connection holds sqlite's write lock: the server's writes wait for it (its busy timeout is 5 s).
    const db = await Database.open(databasePath(t.dataDir));
    try {
      const events = await t.client();
      const held = (await t.api('POST', '/api/runs', { workflow: workflows.held('double-count') })).body.runId;
      await events.next('node:started', (d) => d.runId === held);
      await db.exec('BEGIN IMMEDIATE');
      const first = t.api('POST', '/api/runs', { workflow: workflows.caption('first') });
      // In the queue at once, its record not yet written.
      while ((await t.api('GET', '/api/health')).body.queue.waiting < 1) await new Promise((resolve) => setTimeout(resolve, 10));
      const second = t.api('POST', '/api/runs', { workflow: workflows.caption('second') });
      await new Promise((resolve) => setTimeout(resolve, 200));
      await db.exec('COMMIT');
      expect([(await first).status, (await second).status]).toEqual([202, 202]);
      openGate('double-count');
    } finally {
      await db.exec('ROLLBACK').catch(() => undefined);
      await db.close();
      await t.close();
    }
  });

  test('a full queue answers 503 before validating or writing anything; refused requests leave no run', async () => {
    const t = await startTestServer({ concurrency: 1, maxQueue: 2 });
    try {
      const events = await t.client();
      const held = (await t.api('POST', '/api/runs', { workflow: workflows.held('admission') })).body.runId;
      await events.next('node:started', (d) => d.runId === held);
      const { id } = (await t.api('POST', '/api/workflows', workflows.caption())).body;
      await t.api('PUT', `/api/workflows/${id}/trigger`, { slug: 'admitted', mode: 'async' });

      // A burst bigger than the queue: exactly its two places are taken, everything else is refused.
      const burst = await Promise.all(Array.from({ length: 12 }, (_, i) => t.api('POST', '/api/runs', { workflow: workflows.caption(`burst ${i}`) })));
      expect(burst.filter((r) => r.status === 202)).toHaveLength(2);
      const refused = burst.filter((r) => r.status !== 202);
      expect(refused.every((r) => r.status === 503 && Number(r.headers.get('retry-after')) >= 1)).toBe(true);

      // Refused before validation (an invalid workflow gets 503, not 400) and before the hook is looked up.
      const invalid = await t.api('POST', '/api/runs', { workflow: { version: 1, nodes: { x: { type: 'mystery' } } } });
      expect(invalid.status).toBe(503);
      expect(invalid.body.error).toMatch(/queue is full/);
      expect((await t.api('POST', '/hooks/admitted', { subject: 'x' })).status).toBe(503);

      const history = (await t.api('GET', '/api/runs?limit=200')).body.runs;
      expect(history.map((r: { id: string }) => r.id).sort()).toEqual([held, ...burst.filter((r) => r.status === 202).map((r) => r.body.runId)].sort());
      openGate('admission');
      expect((await events.next('run:finished', (d) => d.runId === held)).data.status).toBe('succeeded');
    } finally {
      await t.close();
    }
  });
});
