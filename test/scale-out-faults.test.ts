import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { WebSocket } from 'ws';
import { startRedis, type RedisServer } from './redis-server';
import { startTestServer, workflows, type Client, type TestServer } from './server-harness';
import { spawnWorker, type WorkerProcess } from './worker-process';

let redis: RedisServer;
let t: TestServer;
let events: Client;
let worker: WorkerProcess;

beforeAll(async () => {
  redis = await startRedis();
  t = await startTestServer({ redisUrl: redis.url, maxQueue: 4, shutdownTimeoutMs: 500 });
  events = await t.client();
  worker = await spawnWorker(redis.url);
});

afterAll(async () => {
  if (worker?.process.exitCode === null) worker.process.kill('SIGKILL');
  await t?.close();
  await redis?.stop();
});

/** Fails unless `promise` settles within `ms` (the bound for noticing a lost Redis). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

describe('scale-out: Redis faults', () => {
  test('Redis killed and started again empty: every run under way ends interrupted with the reason, and the cluster serves again', async () => {
    // The worker takes one run at a time: one runs (held), the other waits in Redis.
    const running = (await t.api('POST', '/api/runs', { workflow: workflows.held('redis-lost') })).body.runId;
    await events.next('node:started', (d) => d.runId === running && d.nodeId === 'wait');
    const waiting = (await t.api('POST', '/api/runs', { workflow: workflows.caption('waiting') })).body.runId;
    // A ComfyUI client's prompt waits too: when it is lost its client must still hear it end.
    const comfy = new WebSocket(`${t.url.replace('http', 'ws')}/ws?clientId=lost`);
    const heard: { type: string; data: Record<string, unknown> }[] = [];
    comfy.on('message', (data, binary) => void (!binary && heard.push(JSON.parse(data.toString()))));
    await new Promise((resolve) => comfy.once('open', resolve));
    const apiPrompt = { s: { class_type: 'prompt', inputs: { text: 'lost' } }, o: { class_type: 'output', inputs: { value: ['s', 0] } } };
    const { prompt_id } = (await t.api('POST', '/prompt', { prompt: apiPrompt, client_id: 'lost' })).body;
    const before = (await t.api('GET', '/api/runs?limit=200')).body.runs.length;

    await redis.stop('SIGKILL');
    const health = (await t.api('GET', '/api/health')).body;
    expect(health).toMatchObject({ redis: 'down', queue: { mode: 'bullmq', workers: null } });
    // Refused before any work, saying what is wrong in words of picflow, not of its Redis client.
    const refused = await t.api('POST', '/api/runs', { workflow: workflows.caption('during the outage') });
    expect(refused.status).toBe(503);
    expect(refused.body.error).toMatch(/queue is unavailable/);
    expect(JSON.stringify(refused.body)).not.toMatch(/ECONNREFUSED|Connection is closed|Stream|ioredis|127\.0\.0\.1/);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);

    redis = await startRedis(redis.port);
    const ended = await within(
      Promise.all([running, waiting, prompt_id].map((runId) => events.next('run:finished', (d) => d.runId === runId))),
      10_000,
      'noticing the lost runs',
    );
    await within(
      (async () => {
        while (!heard.some((m) => m.type === 'executing' && m.data.node === null && m.data.prompt_id === prompt_id)) await new Promise((resolve) => setTimeout(resolve, 50));
      })(),
      5_000,
      'telling the ComfyUI client its prompt ended',
    );
    expect(heard.filter((m) => m.data.prompt_id === prompt_id).map((m) => m.type)).toEqual(['execution_start', 'execution_interrupted', 'executing']);
    comfy.close();
    for (const { data } of ended) {
      expect(data).toMatchObject({ status: 'interrupted', error: { message: expect.stringMatching(/lost from the queue \(Redis restarted empty/) } });
    }
    expect((await t.api('GET', `/api/runs/${running}`)).body.status).toBe('interrupted');
    expect((await t.api('GET', '/api/runs?limit=200')).body.runs.length).toBe(before);

    // Redis is back: health says so, and a new run goes through the same worker.
    await within(
      (async () => {
        while ((await t.api('GET', '/api/health')).body.redis !== 'up') await new Promise((resolve) => setTimeout(resolve, 100));
      })(),
      10_000,
      'seeing Redis up again',
    );
    const after = (await t.api('POST', '/api/runs', { workflow: workflows.caption('after'), wait: true })).body;
    expect(after).toMatchObject({ status: 'succeeded', outputs: { caption: { value: 'after in the center' } } });
    // The lost runs can be resumed once Redis is back.
    expect((await t.api('POST', `/api/runs/${waiting}/resume`)).status).toBe(202);
    expect((await events.next('run:finished', (d) => d.runId === waiting && d.status === 'succeeded')).data.outputs.caption.value).toBe('waiting in the center');
  });
});

describe('scale-out: the only worker dies', () => {
  test('killed mid-run with no other worker to notice: the server ends the run interrupted once its lock lapses, and a new worker serves', async () => {
    const { runId } = (await t.api('POST', '/api/runs', { workflow: workflows.held('alone') })).body;
    await events.next('node:started', (d) => d.runId === runId && d.nodeId === 'wait');
    worker.process.kill('SIGKILL');
    await worker.exited;

    // BullMQ's own stalled check runs in workers, and none is left: the server itself sees the lock lapse (2 s here).
    const end = await within(events.next('run:finished', (d) => d.runId === runId), 10_000, 'ending the lone worker\'s run');
    expect(end.data).toMatchObject({ status: 'interrupted', error: { message: expect.stringMatching(/worker running it stopped/) } });
    expect((await t.api('GET', `/api/runs/${runId}`)).body).toMatchObject({ status: 'interrupted', nodes: { wait: { status: 'cancelled' } } });

    worker = await spawnWorker(redis.url);
    const next = (await t.api('POST', '/api/runs', { workflow: workflows.caption('next'), wait: true })).body;
    expect(next).toMatchObject({ status: 'succeeded', outputs: { caption: { value: 'next in the center' } } });
    expect(worker.took.has(runId)).toBe(false);
  });
});
