// Many sync trigger requests at once: every answer carries its own run's outputs, and every run is in the
// history, complete (status, inputs, outputs, per-node timings), also after a SIGKILL right after the answers.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { killServers, openGate, spawnServer, startTestServer, type Reply } from './server-harness';

afterAll(() => killServers());

const echo = {
  version: 1,
  name: 'echo',
  nodes: {
    subject: { type: 'prompt', params: { name: 'subject', text: 'a red circle' } },
    echo: { type: 'output', params: { name: 'echo' }, inputs: { value: ['subject', 'text'] } },
  },
};

/** The echo, whose runs also wait for gate `burst`: a burst's runs fill the queue until the gate opens. */
const heldEcho = {
  version: 1,
  name: 'held echo',
  nodes: {
    ...echo.nodes,
    wait: { type: 'hold', params: { gate: 'burst' } },
    held: { type: 'output', params: { name: 'held' }, inputs: { value: ['wait', 'value'] } },
  },
};

type Api = (method: string, path: string, body?: unknown) => Promise<Reply>;

/** `count` requests, `parallel` in flight at a time, each with its own subject; the answers in request order. */
async function fire(api: Api, count: number, parallel: number): Promise<Reply[]> {
  const replies: Reply[] = new Array(count);
  let next = 0;
  const lane = async () => {
    while (next < count) {
      const i = next++;
      replies[i] = await api('POST', '/hooks/echo', { subject: `shape ${i}` });
    }
  };
  await Promise.all(Array.from({ length: parallel }, lane));
  return replies;
}

/** Checks the answers and that the history holds each of their runs, complete. */
async function expectRecorded(api: Api, workflowId: string, replies: Reply[]): Promise<void> {
  replies.forEach((reply, i) => {
    expect(reply.status, JSON.stringify(reply.body)).toBe(200);
    expect(reply.body).toMatchObject({ apiVersion: 2, status: 'succeeded', outputs: { echo: { value: `shape ${i}` } } });
  });
  const listed = (await api('GET', `/api/runs?workflowId=${workflowId}&limit=${replies.length + 10}`)).body.runs;
  expect(listed).toHaveLength(replies.length);
  expect(listed.every((run: { status: string }) => run.status === 'succeeded')).toBe(true);
  for (const [i, reply] of replies.entries()) {
    const run = (await api('GET', `/api/runs/${reply.body.id}`)).body;
    expect(run).toMatchObject({ status: 'succeeded', source: 'hook:echo', inputs: { subject: `shape ${i}` }, outputs: { echo: { value: `shape ${i}` } } });
    expect(run.startedAt).toEqual(expect.any(Number));
    expect(run.finishedAt).toBeGreaterThanOrEqual(run.startedAt);
    for (const id of ['subject', 'echo']) expect(run.nodes[id]).toMatchObject({ status: 'succeeded', ms: expect.any(Number) });
  }
}

/** Every run of a workflow in the history, newest first (all pages). */
async function history(api: Api, workflowId: string): Promise<{ id: string; status: string }[]> {
  const runs: { id: string; status: string }[] = [];
  for (let before: number | null = null, first = true; first || before !== null; first = false) {
    const page: { runs: { id: string; status: string }[]; next: number | null } = (
      await api('GET', `/api/runs?workflowId=${workflowId}&limit=200${before === null ? '' : `&before=${before}`}`)
    ).body;
    runs.push(...page.runs);
    before = page.next;
  }
  return runs;
}

describe('sync triggers under load', () => {
  test('N requests at once make N succeeded runs, each answered with and recorded with its own outputs', async () => {
    // Two runs at a time: most requests wait in the queue, and their writes share commits.
    const t = await startTestServer({ concurrency: 2 });
    try {
      const { id } = (await t.api('POST', '/api/workflows', echo)).body;
      expect((await t.api('PUT', `/api/workflows/${id}/trigger`, { slug: 'echo', mode: 'sync' })).status).toBe(200);
      await expectRecorded(t.api, id, await fire(t.api, 120, 24));
    } finally {
      await t.close();
    }
  });

  test('1,000 requests at once on a short queue: each is answered or refused with Retry-After, and only answered runs are in the history', async () => {
    const t = await startTestServer({ concurrency: 2, maxQueue: 16 });
    try {
      // Set up on connections closed after use: a kept-alive one could meet the server's idle timeout while the
      // burst holds both ends' event loop (the client runs in this process), and be reset under its request.
      const close = { connection: 'close' };
      const { id } = (await t.api('POST', '/api/workflows', heldEcho, close)).body;
      await t.api('PUT', `/api/workflows/${id}/trigger`, { slug: 'echo', mode: 'sync' }, close);
      // The runs are held until the queue has refused a request: however quickly the server records runs,
      // the burst meets a full queue. Then they go on.
      let refusedOne!: () => void;
      const queueFull = new Promise<void>((resolve) => (refusedOne = resolve));
      const burst = Promise.all(
        Array.from({ length: 1000 }, (_, i) =>
          t.api('POST', '/hooks/echo', { subject: `shape ${i}` }).then((reply) => {
            if (reply.status === 503) refusedOne();
            return reply;
          }),
        ),
      );
      await queueFull;
      openGate('burst');
      const replies = await burst;
      const answered = replies.filter((r) => r.status === 200);
      const refused = replies.filter((r) => r.status === 503);
      expect(answered.length + refused.length).toBe(1000);
      expect(refused.length).toBeGreaterThan(0);
      expect(refused.every((r) => Number(r.headers.get('retry-after')) >= 1 && /queue is full/.test(r.body.error))).toBe(true);
      replies.forEach((reply, i) => reply.status === 200 && expect(reply.body.outputs.echo.value).toBe(`shape ${i}`));
      // The history holds the answered runs, each succeeded, and nothing of the refused requests.
      const runs = await history(t.api, id);
      expect(runs.map((run) => run.id).sort()).toEqual(answered.map((r) => r.body.id).sort());
      expect(runs.every((run) => run.status === 'succeeded')).toBe(true);
    } finally {
      await t.close();
    }
  });

  test('a hook call after a change to its workflow or trigger sees the change', async () => {
    const t = await startTestServer();
    try {
      const { id } = (await t.api('POST', '/api/workflows', echo)).body;
      await t.api('PUT', `/api/workflows/${id}/trigger`, { slug: 'echo', mode: 'sync' });
      expect((await t.api('POST', '/hooks/echo', { subject: 'one' })).body.outputs).toEqual({ echo: expect.objectContaining({ value: 'one' }) });
      const renamed = { ...echo, nodes: { ...echo.nodes, echo: { ...echo.nodes.echo, params: { name: 'echoed' } } } };
      expect((await t.api('PUT', `/api/workflows/${id}`, renamed)).status).toBe(200);
      expect((await t.api('POST', '/hooks/echo', { subject: 'two' })).body.outputs).toEqual({ echoed: expect.objectContaining({ value: 'two' }) });
      await t.api('PUT', `/api/workflows/${id}/trigger`, { slug: 'echo-too', mode: 'sync' });
      expect((await t.api('POST', '/hooks/echo', { subject: 'three' })).status).toBe(404);
      expect((await t.api('POST', '/hooks/echo-too', { subject: 'three' })).status).toBe(200);
      expect((await t.api('DELETE', `/api/workflows/${id}/trigger`)).status).toBe(204);
      expect((await t.api('POST', '/hooks/echo-too', { subject: 'four' })).status).toBe(404);
    } finally {
      await t.close();
    }
  });

  test('answered runs survive a SIGKILL that follows the answers at once', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'picflow-trigger-kill-'));
    const first = await spawnServer(dataDir);
    const { id } = (await first.api('POST', '/api/workflows', echo)).body;
    await first.api('PUT', `/api/workflows/${id}/trigger`, { slug: 'echo', mode: 'sync' });
    const replies = await fire(first.api, 60, 16);
    first.process.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');

    const second = await startTestServer({ dataDir });
    try {
      await expectRecorded(second.api, id, replies);
    } finally {
      await second.close();
    }
  });
});
