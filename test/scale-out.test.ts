import { once } from 'node:events';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startRedis, type RedisServer } from './redis-server';
import { countedTrace, png, startTestServer, upload, workflows, type Client, type TestServer } from './server-harness';
import { spawnWorker, taken, type WorkerProcess } from './worker-process';

/** The worker that took `runId`, once its log says so (the log and the run's events travel apart). */
async function holder(runId: string): Promise<WorkerProcess> {
  while (!workers.some((w) => w.took.has(runId))) await once(taken, 'took');
  const found = workers.filter((w) => w.took.has(runId));
  expect(found).toHaveLength(1);
  return found[0];
}

let redis: RedisServer;
let t: TestServer;
let events: Client;
let workers: WorkerProcess[];

beforeAll(async () => {
  redis = await startRedis();
  t = await startTestServer({ redisUrl: redis.url, maxQueue: 2, shutdownTimeoutMs: 1_000 });
  events = await t.client();
  workers = await Promise.all([spawnWorker(redis.url), spawnWorker(redis.url)]);
});

afterAll(async () => {
  for (const { process: child } of workers ?? []) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await t?.close();
  await redis?.stop();
});

const finished = (runId: string) => events.next('run:finished', (d) => d.runId === runId);

describe('scale-out: runs execute on workers', () => {
  test('a run submitted over HTTP runs on a worker; its events arrive over socket.io in order', async () => {
    const { runId } = (await t.api('POST', '/api/runs', { workflow: workflows.counted(3) })).body;
    expect((await finished(runId)).data).toMatchObject({ status: 'succeeded', outputs: { count: { value: 3 } } });
    await holder(runId);

    expect(events.trace(runId)).toEqual(countedTrace(3));
    const progress = events.of(runId).filter((e) => e.name === 'node:progress');
    expect(progress.map((e) => e.data.step)).toEqual([1, 2, 3]);
    expect((await t.api('GET', `/api/runs/${runId}`)).body).toMatchObject({ status: 'succeeded', nodes: { count: { status: 'succeeded', outputs: { value: 3 } } } });
  });

  test('an uploaded image reaches the worker, and the image it makes becomes an artifact recorded in sqlite', async () => {
    const uploaded = (await upload(t.url, await png(8, 8))).body;
    const { runId } = (await t.api('POST', '/api/runs', { workflow: workflows.resized(uploaded.artifact, 16, 12) })).body;
    const small = await events.next('node:finished', (d) => d.runId === runId && d.nodeId === 'small');
    expect(small.data.outputs.image).toMatchObject({ artifact: expect.stringMatching(/^[0-9a-f]{64}$/), width: 16, height: 12 });
    expect((await finished(runId)).data.status).toBe('succeeded');

    // Read back after the run left the live state: this is the sqlite record.
    const run = (await t.api('GET', `/api/runs/${runId}`)).body;
    expect(run.outputs.small).toMatchObject({ kind: 'save', type: 'image', value: small.data.outputs.image });
    const response = await fetch(t.url + run.outputs.small.value.url);
    expect(response.headers.get('content-type')).toBe('image/png');
    const meta = await sharp(Buffer.from(await response.arrayBuffer())).metadata();
    expect([meta.width, meta.height]).toEqual([16, 12]);

    const missing = (await t.api('POST', '/api/runs', { workflow: workflows.resized('0'.repeat(64)), wait: true })).body;
    expect(missing).toMatchObject({ status: 'failed', nodes: { load: { status: 'failed', error: expect.stringMatching(/unknown artifact/) } } });
  });

  test('a model node runs on a worker with the shared model runtime, reporting its sampling steps', async () => {
    const workflow = workflows.generated(5);
    const run = (await t.api('POST', '/api/runs', { workflow, wait: true })).body;
    expect(run).toMatchObject({ status: 'succeeded', outputs: { out: { type: 'image', value: { width: expect.any(Number) } } } });
    expect((await fetch(t.url + run.outputs.out.value.url)).status).toBe(200);
    const steps = events.of(run.id).filter((e) => e.name === 'node:progress' && e.data.nodeId === 'g');
    expect(steps.length).toBeGreaterThan(0);
    expect(steps.at(-1)!.data.step).toBe(steps.at(-1)!.data.total);
  });
});

describe('scale-out: queue, cancel, lost workers', () => {
  test('runs spread over both workers; the queue refuses past its length; waiting and running runs are cancelled', async () => {
    // Each worker takes one run at a time: two held runs occupy both.
    const held = [];
    for (const gate of ['spread-a', 'spread-b']) held.push((await t.api('POST', '/api/runs', { workflow: workflows.held(gate) })).body.runId);
    await Promise.all(held.map((runId) => events.next('node:started', (d) => d.runId === runId && d.nodeId === 'wait')));
    const holders = await Promise.all(held.map(holder));
    expect(holders.map((w) => workers.indexOf(w)).sort()).toEqual([0, 1]);

    const waiting = [];
    for (const text of ['first', 'second']) waiting.push((await t.api('POST', '/api/runs', { workflow: workflows.caption(text) })).body.runId);
    const refused = await t.api('POST', '/api/runs', { workflow: workflows.caption() });
    expect(refused.status).toBe(503);
    expect(refused.body.error).toMatch(/queue is full/);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((await t.api('GET', '/api/health')).body.queue).toEqual({ mode: 'bullmq', waiting: 2, running: 2, maxLength: 2, workers: 2 });

    expect((await t.api('POST', `/api/runs/${waiting[0]}/cancel`)).body).toEqual({ runId: waiting[0], status: 'cancelled' });
    expect(events.of(waiting[0]).map((e) => e.name)).toEqual(['run:queued', 'run:finished']);

    const cancel = await t.api('POST', `/api/runs/${held[0]}/cancel`);
    expect(cancel).toMatchObject({ status: 202, body: { status: 'cancelling' } });
    expect((await finished(held[0])).data.status).toBe('cancelled');
    expect((await t.api('GET', `/api/runs/${held[0]}`)).body).toMatchObject({ status: 'cancelled', nodes: { wait: { status: 'cancelled' } } });

    // The freed worker takes the run that waited.
    expect((await finished(waiting[1])).data).toMatchObject({ status: 'succeeded', outputs: { caption: { value: 'second in the center' } } });
    await t.api('POST', `/api/runs/${held[1]}/cancel`);
    expect((await finished(held[1])).data.status).toBe('cancelled');
  });

  test('a worker killed with SIGKILL mid-run: the run ends interrupted, and the other worker keeps serving', async () => {
    const { runId } = (await t.api('POST', '/api/runs', { workflow: workflows.held('killed') })).body;
    await events.next('node:started', (d) => d.runId === runId && d.nodeId === 'wait');
    const victim = await holder(runId);
    victim.process.kill('SIGKILL');
    expect((await victim.exited).signal).toBe('SIGKILL');

    expect((await finished(runId)).data).toMatchObject({ status: 'interrupted', error: { message: expect.stringMatching(/worker running it stopped/) } });
    expect((await t.api('GET', `/api/runs/${runId}`)).body.status).toBe('interrupted');
    const next = (await t.api('POST', '/api/runs', { workflow: workflows.caption('after'), wait: true })).body;
    expect(next).toMatchObject({ status: 'succeeded', outputs: { caption: { value: 'after in the center' } } });
    expect(workers.find((w) => w !== victim)!.took.has(next.id)).toBe(true);
  });

  test('SIGTERM: a worker stops a run that outlasts its shutdown timeout (the run ends interrupted) and exits cleanly', async () => {
    const { runId } = (await t.api('POST', '/api/runs', { workflow: workflows.held('terminated') })).body;
    await events.next('node:started', (d) => d.runId === runId && d.nodeId === 'wait');
    const worker = await holder(runId);
    worker.process.kill('SIGTERM');
    expect((await finished(runId)).data).toMatchObject({ status: 'interrupted', error: { message: expect.stringMatching(/worker shut down/) } });
    expect(await worker.exited).toEqual({ code: 0, signal: null });
  });
});
