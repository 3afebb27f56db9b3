import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { Database } from '../server/db';
import { databasePath } from '../server/start';
import { openGate, startTestServer, workflows, type TestServer } from './server-harness';

let t: TestServer;
/** Answers every callback 204, recording the run ids it got. */
let receiver: Server;
let receiverUrl: string;
beforeAll(async () => {
  t = await startTestServer({ callbacks: { allowPrivate: true } });
  receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/done`;
});
afterAll(async () => {
  await new Promise((resolve) => receiver.close(resolve));
  await t.close();
});

async function saved(workflow: unknown): Promise<string> {
  const reply = await t.api('POST', '/api/workflows', workflow);
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body.id;
}

async function trigger(workflowId: string, settings: Record<string, unknown>) {
  return t.api('PUT', `/api/workflows/${workflowId}/trigger`, { mode: 'sync', ...settings });
}

/** Two number nodes `n` (3) and `m` (4), each with an output of its own. */
const twoNumbers = {
  version: 1,
  name: 'two numbers',
  nodes: {
    n: { type: 'number', params: { value: 3 } },
    m: { type: 'number', params: { value: 4 } },
    first: { type: 'output', params: { name: 'first' }, inputs: { value: ['n', 'number'] } },
    second: { type: 'output', params: { name: 'second' }, inputs: { value: ['m', 'number'] } },
  },
};

describe('a slug given up and taken by another workflow', () => {
  test("the new trigger's credentials open none of the runs made under the slug before", async () => {
    const before = await saved(workflows.caption());
    expect((await trigger(before, { slug: 'handed-on', token: 'token-of-the-first' })).status).toBe(200);
    const call = await t.api('POST', '/hooks/handed-on', { subject: 'a secret' }, { authorization: 'Bearer token-of-the-first' });
    expect(call.body.outputs.caption.value).toBe('a secret in the center');
    expect((await t.api('DELETE', `/api/workflows/${before}/trigger`)).status).toBe(204);

    const after = await saved(twoNumbers);
    expect((await trigger(after, { slug: 'handed-on', token: 'token-of-the-second' })).status).toBe(200);
    const status = await t.api('GET', `/hooks/handed-on/runs/${call.body.id}`, undefined, { authorization: 'Bearer token-of-the-second' });
    expect(status.status).toBe(404);
    expect(status.body.error).toBe(`no run '${call.body.id}' of trigger 'handed-on'`);

    // Its own runs it still shows.
    const own = await t.api('POST', '/hooks/handed-on', {}, { authorization: 'Bearer token-of-the-second' });
    expect((await t.api('GET', `/hooks/handed-on/runs/${own.body.id}`, undefined, { authorization: 'Bearer token-of-the-second' })).body.status).toBe('succeeded');
  });
});

describe('malformed percent-encoding in a path', () => {
  test.each(['/api/workflows/%E0%A4%A', '/api/runs/%E0%A4%A', '/hooks/%E0%A4%A/openapi.json', '/apps/%E0%A4%A'])('%s is a 400 naming it, not a 500', async (path) => {
    const reply = await t.api('GET', path);
    expect(reply.status).toBe(400);
    expect(reply.body.error).toBe("malformed path: Failed to decode param '%E0%A4%A'");
  });
});

describe('a run input named __proto__', () => {
  test('is refused by POST /api/runs and reported by validate, with the reason the engine gives', async () => {
    const body = `{"workflow":${JSON.stringify(workflows.counted(1))},"inputs":{"__proto__":{"count.total":2}}}`;
    const run = await t.api('POST', '/api/runs', body);
    expect(run.status).toBe(400);
    expect(run.body.errors).toEqual([{ node: null, field: 'inputs.__proto__', message: "'__proto__' cannot be used as a run input" }]);

    const validated = await t.api('POST', '/api/workflows/validate', body);
    expect(validated.body).toMatchObject({ ok: false, errors: [{ field: 'inputs.__proto__' }] });

    const id = await saved(workflows.counted(1));
    const byId = await t.api('POST', '/api/runs', `{"workflowId":"${id}","inputs":{"__proto__":1},"wait":true}`);
    expect(byId.status).toBe(400);
    expect((await t.api('GET', `/api/runs?workflowId=${id}`)).body.runs).toEqual([]);
  });

  test('inputs that are not an object are a 400 naming the field', async () => {
    const reply = await t.api('POST', '/api/runs', { workflow: workflows.counted(1), inputs: ['count.total'] });
    expect(reply.status).toBe(400);
    expect(reply.body.errors).toEqual([{ node: null, field: 'inputs', message: 'expected an object of run inputs' }]);
  });
});

describe("a trigger's exposed params", () => {
  test('one node param exposed under two names is refused, naming both', async () => {
    const id = await saved(twoNumbers);
    const reply = await trigger(id, {
      slug: 'twice',
      inputs: [
        { param: 'n.value', name: 'a' },
        { param: 'n.value', name: 'b' },
      ],
    });
    expect(reply.status).toBe(400);
    expect(reply.body.errors).toEqual([{ node: 'n', field: 'inputs.1', message: "'n.value' is already exposed as 'a'; expose each param once" }]);
  });
});

describe('a callback that cannot be recorded', () => {
  test('the call is refused and its run cancelled: no 202 promises a delivery that a crash could lose', async () => {
    const id = await saved(workflows.held('unrecorded'));
    expect((await trigger(id, { slug: 'unrecorded' })).status).toBe(200);
    // Another connection to the same database makes recording deliveries fail, as a full disk would.
    const db = await Database.open(databasePath(t.dataDir));
    await db.exec("CREATE TRIGGER refuse_deliveries BEFORE INSERT ON callback_pending BEGIN SELECT RAISE(ABORT, 'disk full'); END;");
    try {
      const reply = await t.api('POST', `/hooks/unrecorded?callbackUrl=${encodeURIComponent(receiverUrl)}`, {});
      expect(reply.status).toBe(500);
      const [run] = (await t.api('GET', `/api/runs?workflowId=${id}`)).body.runs;
      await expect.poll(async () => (await t.api('GET', `/api/runs/${run.id}`)).body.status).toBe('cancelled');
    } finally {
      await db.exec('DROP TRIGGER refuse_deliveries');
      await db.close();
      openGate('unrecorded');
    }
    const accepted = await t.api('POST', `/hooks/unrecorded?callbackUrl=${encodeURIComponent(receiverUrl)}`, {});
    expect(accepted.status).toBe(202);
    await expect.poll(async () => (await t.api('GET', `/api/runs/${accepted.body.runId}`)).body.callbacks).toMatchObject([{ attempt: 1, status: 204 }]);
  });
});

describe('an image upload over the limit', () => {
  test("is a 413 that names the upload limit, not the JSON body's", async () => {
    const id = await saved(workflows.resized('0'.repeat(64)));
    expect((await trigger(id, { slug: 'too-big', inputs: [{ param: 'load.artifact', name: 'photo' }] })).status).toBe(200);
    const body = Buffer.alloc(20 * 1024 * 1024 + 1);
    const reply = await fetch(`${t.url}/hooks/too-big/uploads`, { method: 'POST', headers: { 'content-type': 'image/png' }, body });
    expect(reply.status).toBe(413);
    expect((await reply.json()).error).toBe(`the body is larger than the limit of ${20 * 1024 * 1024} bytes`);
  });
});
