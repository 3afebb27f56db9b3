import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Database } from '../server/db';
import { databasePath } from '../server/start';
import { countedTrace, openGate, png, startTestServer, upload, workflows, type TestServer } from './server-harness';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

describe('runs', () => {
  test('a run with wait answers the finished run: per-node records and outputs', async () => {
    const reply = await t.api('POST', '/api/runs', { workflow: workflows.caption(), inputs: { subject: 'a cat' }, wait: true });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({
      status: 'succeeded',
      source: 'api',
      inputs: { subject: 'a cat' },
      workflow: workflows.caption(),
      outputs: { caption: { node: 'caption', kind: 'value', type: 'text', value: 'a cat in the center' } },
      nodes: { joined: { status: 'succeeded', cached: false, outputs: { text: 'a cat in the center' } } },
    });
    expect(reply.body.nodes.joined.ms).toBeGreaterThanOrEqual(0);
    expect((await t.api('GET', `/api/runs/${reply.body.id}`)).body).toEqual(reply.body);
  });

  test('a run whose record cannot be written is refused: the caller gets the error, nobody hears of it, nothing is left', async () => {
    // The database refuses new runs (a full disk would), from a second connection, while the server runs.
    const db = await Database.open(databasePath(t.dataDir));
    const events = await t.client();
    try {
      await db.exec("CREATE TRIGGER no_new_runs BEFORE INSERT ON runs BEGIN SELECT RAISE(ABORT, 'the disk is full'); END");
      const before = (await t.api('GET', '/api/runs')).body.runs.length;
      for (const wait of [true, false]) {
        const reply = await t.api('POST', '/api/runs', { workflow: workflows.caption(`refused ${wait}`), wait });
        expect(reply.status).toBe(500);
        expect(reply.body.error).toBe('internal server error'); // the cause is in the server log, not the answer
      }
      await db.exec('DROP TRIGGER no_new_runs');
      // The server goes on: the next run is recorded and heard of, and the refused ones left no trace.
      const next = await t.api('POST', '/api/runs', { workflow: workflows.caption('after'), wait: true });
      expect(next.status).toBe(200);
      await events.next('run:finished', (d) => d.runId === next.body.id);
      expect((await t.api('GET', '/api/runs')).body.runs.length).toBe(before + 1);
      const heard = new Set(events.events.map((e) => e.data?.runId).filter(Boolean));
      expect([...heard]).toEqual([next.body.id]);
    } finally {
      await db.exec('DROP TRIGGER IF EXISTS no_new_runs');
      await db.close();
    }
  });

  test('without wait the answer is 202 with the run id, and the run can be read when done', async () => {
    const events = await t.client();
    const reply = await t.api('POST', '/api/runs', { workflow: workflows.caption('queued') });
    expect(reply.status).toBe(202);
    expect(reply.body.statusUrl).toBe(`/api/runs/${reply.body.runId}`);
    await events.next('run:finished', (d) => d.runId === reply.body.runId);
    const run = await t.api('GET', reply.body.statusUrl);
    expect(run.body).toMatchObject({ status: 'succeeded', outputs: { caption: { value: 'queued in the center' } } });
  });

  test('output images become artifacts: PNG, immutable, at their url', async () => {
    const uploaded = await upload(t.url, await png(8, 8));
    expect(uploaded.status).toBe(201);
    const run = await t.api('POST', '/api/runs', { workflow: workflows.resized(uploaded.body.artifact, 16, 12), wait: true });
    expect(run.body.status).toBe('succeeded');
    const image = run.body.outputs.small;
    expect(image).toMatchObject({ kind: 'save', type: 'image', value: { width: 16, height: 12 } });
    expect(image.value.url).toBe(`/api/artifacts/${image.value.artifact}`);
    expect(run.body.nodes.small.outputs.image).toEqual(image.value);

    const response = await fetch(t.url + image.value.url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(response.headers.get('cache-control')).toContain('immutable');
    const meta = await sharp(Buffer.from(await response.arrayBuffer())).metadata();
    expect([meta.width, meta.height]).toEqual([16, 12]);

    const again = await fetch(t.url + image.value.url, { headers: { 'if-none-match': response.headers.get('etag')! } });
    expect(again.status).toBe(304);
  });

  test('an invalid run is refused with its problems; nothing is queued', async () => {
    const unknown = await t.api('POST', '/api/runs', {
      workflow: { version: 1, nodes: { x: { type: 'mystery' }, out: { type: 'output', inputs: { value: ['x', 'y'] } } } },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors).toContainEqual({ node: 'x', field: 'type', message: "unknown node type 'mystery'" });

    const both = await t.api('POST', '/api/runs', { workflow: workflows.caption(), workflowId: 'x' });
    expect(both.status).toBe(400);
    expect(both.body.errors[0].message).toMatch(/exactly one of/);
    expect((await t.api('POST', '/api/runs', { workflowId: 'no-such-workflow' })).status).toBe(404);
    expect((await t.api('GET', '/api/runs/no-such-run')).status).toBe(404);
  });

  test('load-image on the server takes artifact ids, never file paths', async () => {
    const byPath = {
      version: 1,
      nodes: { load: { type: 'load-image', params: { path: '/etc/passwd' } }, out: { type: 'preview', inputs: { image: ['load', 'image'] } } },
    };
    const run = await t.api('POST', '/api/runs', { workflow: byPath, wait: true });
    expect(run.body).toMatchObject({ status: 'failed', error: { message: expect.stringMatching(/file paths are not allowed/) } });

    const unknown = await t.api('POST', '/api/runs', { workflow: workflows.resized('0'.repeat(64)), wait: true });
    expect(unknown.body).toMatchObject({ status: 'failed', nodes: { load: { status: 'failed', error: expect.stringMatching(/unknown artifact/) } } });
  });
});

describe('events over socket.io', () => {
  test('an async run is followed in order: queued, started, node events with progress, finished', async () => {
    const events = await t.client();
    const { runId } = (await t.api('POST', '/api/runs', { workflow: workflows.counted(4) })).body;
    const finished = await events.next('run:finished', (d) => d.runId === runId);
    expect(finished.data).toMatchObject({ status: 'succeeded', outputs: { count: { value: 4 } } });

    expect(events.trace(runId)).toEqual(countedTrace(4));
    const progress = events.of(runId).filter((e) => e.name === 'node:progress');
    expect(progress.map((e) => [e.data.step, e.data.total])).toEqual([
      [1, 4],
      [2, 4],
      [3, 4],
      [4, 4],
    ]);
    expect(events.of(runId).find((e) => e.name === 'node:finished')!.data.outputs).toEqual({ value: 4 });
  });

  test('progress events arrive for a model node, between its start and its finish', async () => {
    const events = await t.client();
    const workflow = workflows.generated(3);
    const { runId } = (await t.api('POST', '/api/runs', { workflow })).body;
    const finished = await events.next('run:finished', (d) => d.runId === runId);
    expect(finished.data).toMatchObject({ status: 'succeeded', outputs: { out: { type: 'image', value: { url: expect.any(String) } } } });

    const ofModel = events.of(runId).filter((e) => e.data.nodeId === 'g');
    expect(ofModel[0].name).toBe('node:started');
    expect(ofModel.at(-1)!.name).toBe('node:finished');
    const progress = ofModel.slice(1, -1);
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.every((e) => e.name === 'node:progress')).toBe(true);
    // (The first call may report loading the model's graphs before its sampling steps.)
    expect(progress.every((e) => e.data.step >= 1 && e.data.step <= e.data.total)).toBe(true);
    expect(progress.at(-1)!.data.step).toBe(progress.at(-1)!.data.total);
    const names = events.of(runId).map((e) => e.name);
    expect([names[0], names[1], names.at(-1)]).toEqual(['run:queued', 'run:started', 'run:finished']);
  });

  test('node events carry outputs: images as { artifact, url }', async () => {
    const events = await t.client();
    const uploaded = await upload(t.url, await png(4, 4, { r: 0, g: 0, b: 255 }));
    const { runId } = (await t.api('POST', '/api/runs', { workflow: workflows.resized(uploaded.body.artifact, 6, 6) })).body;
    const small = await events.next('node:finished', (d) => d.runId === runId && d.nodeId === 'small');
    expect(small.data.outputs.image).toMatchObject({ artifact: expect.stringMatching(/^[0-9a-f]{64}$/), url: expect.any(String), width: 6 });
  });

  test('a re-run is served from the cache and says so', async () => {
    const events = await t.client();
    const workflow = workflows.caption('cache me');
    await t.api('POST', '/api/runs', { workflow, wait: true });
    const again = await t.api('POST', '/api/runs', { workflow, wait: true });
    // The output node is cached, so nothing upstream of it runs; its sources still in the cache say so.
    expect(again.body.nodes).toMatchObject({
      caption: { status: 'cached', cached: true, outputs: { value: 'cache me in the center' } },
      joined: { status: 'cached', cached: true },
    });
    const cached = await events.next('node:cached', (d) => d.runId === again.body.id);
    expect(cached.data).toMatchObject({ nodeId: 'caption', outputs: { value: 'cache me in the center' } });
  });

  test('a client that connects mid-run gets the run as it is now, then its events', async () => {
    const feed = await t.client();
    const { runId } = (await t.api('POST', '/api/runs', { workflow: workflows.held('mid-run') })).body;
    await feed.next('node:started', (d) => d.runId === runId && d.nodeId === 'wait');

    const late = await t.client({ runId });
    const state = await late.next('run:state');
    expect(state.data).toMatchObject({ id: runId, status: 'running', nodes: { wait: { status: 'running' }, out: { status: 'pending' } } });

    openGate('mid-run');
    const finished = await late.next('run:finished');
    expect(finished.data).toMatchObject({ runId, status: 'succeeded' });
    expect(late.events.map((e) => e.name)).toEqual(['run:state', 'node:finished', 'node:started', 'node:finished', 'run:finished']);
  });

  test('subscribe to a finished run answers its stored state', async () => {
    const run = await t.api('POST', '/api/runs', { workflow: workflows.caption('stored'), wait: true });
    const { socket } = await t.client();
    const answer = await socket.emitWithAck('subscribe', { runId: run.body.id });
    expect(answer).toMatchObject({ ok: true, run: { id: run.body.id, status: 'succeeded' } });
    expect(await socket.emitWithAck('subscribe', { runId: 'nope' })).toMatchObject({ ok: false });
  });
});

describe('cancel', () => {
  test('a running run is cancelled: run:finished says cancelled, the record too', async () => {
    const events = await t.client();
    const { runId } = (await t.api('POST', '/api/runs', { workflow: workflows.held('never-1') })).body;
    await events.next('node:started', (d) => d.runId === runId && d.nodeId === 'wait');
    const cancel = await t.api('POST', `/api/runs/${runId}/cancel`);
    expect(cancel).toMatchObject({ status: 202, body: { runId, status: 'cancelling' } });
    expect((await events.next('run:finished', (d) => d.runId === runId)).data.status).toBe('cancelled');
    const run = (await t.api('GET', `/api/runs/${runId}`)).body;
    expect(run).toMatchObject({ status: 'cancelled', nodes: { wait: { status: 'cancelled' }, out: { status: 'cancelled' } } });
    expect((await t.api('POST', `/api/runs/${runId}/cancel`)).status).toBe(409);
    expect((await t.api('POST', '/api/runs/nope/cancel')).status).toBe(404);
  });

  test('the queue has a maximum length (503 with Retry-After); a waiting run is cancelled at once', async () => {
    const small = await startTestServer({ concurrency: 1, maxQueue: 1 });
    try {
      const events = await small.client();
      const first = (await small.api('POST', '/api/runs', { workflow: workflows.held('queue-first') })).body.runId;
      await events.next('node:started', (d) => d.runId === first);
      const second = (await small.api('POST', '/api/runs', { workflow: workflows.caption() })).body.runId;

      const refused = await small.api('POST', '/api/runs', { workflow: workflows.caption() });
      expect(refused.status).toBe(503);
      expect(refused.body.error).toMatch(/queue is full/);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect((await small.api('GET', '/api/health')).body.queue).toMatchObject({ waiting: 1, running: 1 });

      expect((await small.api('POST', `/api/runs/${second}/cancel`)).body).toEqual({ runId: second, status: 'cancelled' });
      expect((await small.api('GET', `/api/runs/${second}`)).body.status).toBe('cancelled');
      openGate('queue-first');
      expect((await events.next('run:finished', (d) => d.runId === first)).data.status).toBe('succeeded');
      expect(events.of(second).map((e) => e.name)).toEqual(['run:queued', 'run:finished']);
    } finally {
      await small.close();
    }
  });
});

describe('history', () => {
  test('runs of a saved workflow are listed newest first, with filters and paging', async () => {
    const { id } = (await t.api('POST', '/api/workflows', workflows.caption())).body;
    const ids: string[] = [];
    for (const subject of ['one', 'two', 'three']) {
      ids.push((await t.api('POST', '/api/runs', { workflowId: id, inputs: { subject }, wait: true })).body.id);
    }
    const page1 = await t.api('GET', `/api/runs?workflowId=${id}&limit=2`);
    expect(page1.body.runs.map((r: { id: string }) => r.id)).toEqual([ids[2], ids[1]]);
    expect(page1.body.runs[0]).toMatchObject({ workflowId: id, workflowVersion: 1, status: 'succeeded', outputs: { caption: { value: 'three in the center' } } });
    const page2 = await t.api('GET', `/api/runs?workflowId=${id}&limit=2&before=${page1.body.next}`);
    expect(page2.body).toEqual({ runs: [expect.objectContaining({ id: ids[0] })], next: null });

    const failed = await t.api('GET', '/api/runs?status=failed');
    expect(failed.body.runs.every((r: { status: string }) => r.status === 'failed')).toBe(true);
    expect((await t.api('GET', '/api/runs?limit=0')).status).toBe(400);
    expect((await t.api('GET', '/api/runs?status=lost')).status).toBe(400);
  });
});
