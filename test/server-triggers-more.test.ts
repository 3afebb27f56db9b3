import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readWorkflow } from '../engine/png-metadata';
import { openGate, png, startTestServer, upload, workflows, type TestServer } from './server-harness';

/** Records every callback (its headers and parsed body) and answers 204. */
let receiver: Server;
let receiverPort: number;
const received: { url: string; headers: IncomingHttpHeaders; body: any }[] = [];
let t: TestServer;
beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push({ url: req.url ?? '', headers: req.headers, body: JSON.parse(body) });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverPort = (receiver.address() as AddressInfo).port;
  t = await startTestServer({ callbacks: { allowPrivate: true } });
});
afterAll(async () => {
  await t.close();
  await new Promise((resolve) => receiver.close(resolve));
});

async function saved(server: TestServer, workflow: unknown): Promise<string> {
  const reply = await server.api('POST', '/api/workflows', workflow);
  expect(reply.status, JSON.stringify(reply.body)).toBe(201);
  return reply.body.id;
}

async function trigger(server: TestServer, workflowId: string, settings: Record<string, unknown>): Promise<void> {
  const reply = await server.api('PUT', `/api/workflows/${workflowId}/trigger`, { mode: 'sync', ...settings });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
}

/** Polls until `check` returns something, for at most `ms`. */
async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, what: string, ms = 5000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A caption (prompt `subject`) and a counter `count` whose `total` a trigger exposes as `steps`. */
const captionAndCount = workflows.captionAndCount('caption and count');

describe('a workflow edit that breaks what its trigger exposes', () => {
  test('the save goes through and names the broken input; the trigger says so; a call setting it is told the trigger is out of date', async () => {
    const id = await saved(t, captionAndCount);
    await trigger(t, id, { slug: 'edited-away', inputs: [{ param: 'count.total', name: 'steps' }] });
    expect((await t.api('POST', '/hooks/edited-away', { steps: 3 })).body.outputs.count.value).toBe(3);

    // The editor's save: { name, workflow }, the counter removed.
    const edit = await t.api('PUT', `/api/workflows/${id}`, { name: 'caption', workflow: workflows.caption() });
    expect(edit.status).toBe(200);
    expect(edit.body).toMatchObject({ id, version: 2, trigger: { slug: 'edited-away' } });
    expect(edit.body.triggerIssues).toEqual([{ node: null, field: 'trigger.inputs.0', message: "'count.total' names no node of this workflow" }]);

    const shown = await t.api('GET', `/api/workflows/${id}/trigger`);
    expect(shown.body.inputs).toEqual([{ param: 'count.total', name: 'steps' }]);
    expect(shown.body.issues).toEqual([{ node: null, field: 'inputs.0', message: "'count.total' names no node of this workflow" }]);

    const call = await t.api('POST', '/hooks/edited-away', { subject: 'a cat', steps: 3 });
    expect(call.status).toBe(409);
    expect(call.body.error).toBe(
      "trigger 'edited-away' is out of date with its workflow (input 'steps' no longer fits the workflow: 'count.total' names no node of this workflow); its owner must update the trigger's inputs",
    );
    expect(call.body.errors).toEqual([{ node: null, field: 'inputs.steps', message: "input 'steps' no longer fits the workflow: 'count.total' names no node of this workflow" }]);
    // Calls that leave it out still run.
    expect((await t.api('POST', '/hooks/edited-away', { subject: 'a cat' })).body.outputs.caption.value).toBe('a cat in the center');
  });

  test('a node whose new type lacks the exposed param is named too; the trigger updated, the problems are gone', async () => {
    const id = await saved(t, captionAndCount);
    await trigger(t, id, { slug: 'retyped', inputs: [{ param: 'count.total', name: 'steps' }] });
    const retyped = { ...captionAndCount, nodes: { ...captionAndCount.nodes, count: { type: 'number', params: { value: 5 } }, counted: { type: 'output', params: { name: 'count' }, inputs: { value: ['count', 'number'] } } } };
    const edit = await t.api('PUT', `/api/workflows/${id}`, retyped);
    expect(edit.body.triggerIssues).toEqual([{ node: 'count', field: 'trigger.inputs.0', message: "number has no param 'total' (params: value)" }]);
    expect((await t.api('POST', '/hooks/retyped', { steps: 1 })).body.errors).toEqual([
      { node: 'count', field: 'inputs.steps', message: "input 'steps' no longer fits the workflow: number has no param 'total' (params: value)" },
    ]);

    await trigger(t, id, { slug: 'retyped', inputs: [{ param: 'count.value', name: 'steps' }] });
    expect((await t.api('GET', `/api/workflows/${id}/trigger`)).body.issues).toEqual([]);
    expect((await t.api('PUT', `/api/workflows/${id}`, { ...retyped, name: 'renamed' })).body.triggerIssues).toEqual([]);
    expect((await t.api('POST', '/hooks/retyped', { steps: 7 })).body.outputs.count.value).toBe(7);
  });
});

describe('a value a node refuses', () => {
  test("is reported by the caller's input name, the node named in the message", async () => {
    const id = await saved(t, workflows.caption());
    await trigger(t, id, { slug: 'refused-by-node' });
    const reply = await t.api('POST', '/hooks/refused-by-node', { subject: 'x'.repeat(10_001) });
    expect(reply.status).toBe(400);
    expect(reply.body.errors).toEqual([
      { node: 'subject', field: 'inputs.subject', message: expect.stringMatching(/^'subject' is refused by node 'subject' \(params\.text\): Too big: .*10000 characters/) },
    ]);
    expect(reply.body.error).toMatch(/^invalid input: 'subject' is refused by node 'subject' \(params\.text\): /);
  });

  test('a template variable that makes a prompt too long is named as the variable', async () => {
    const templated = { version: 1, nodes: { p: { type: 'prompt', params: { text: 'a {color} circle' } }, out: { type: 'output', params: { name: 'text' }, inputs: { value: ['p', 'text'] } } } };
    await trigger(t, await saved(t, templated), { slug: 'long-variable' });
    const reply = await t.api('POST', '/hooks/long-variable', { color: 'r'.repeat(10_000) });
    expect(reply.status).toBe(400);
    expect(reply.body.errors).toEqual([{ node: 'p', field: 'inputs.color', message: expect.stringMatching(/^'color' is refused by node 'p' \(params\.text\): Too big/) }]);
  });
});

describe('query parameters', () => {
  test('a hook call with an unknown query parameter is refused, naming it and the known ones; no run is made', async () => {
    const id = await saved(t, workflows.caption());
    await trigger(t, id, { slug: 'misspelt' });
    const callback = encodeURIComponent(`http://127.0.0.1:${receiverPort}/done`);
    const reply = await t.api('POST', `/hooks/misspelt?callbackurl=${callback}&foo=1`, { subject: 'x' });
    expect(reply.status).toBe(400);
    expect(reply.body.error).toBe("unknown query parameters 'callbackurl', 'foo'; a hook takes mode, output, inline, callbackUrl");
    expect(reply.body.errors).toEqual([
      { node: null, field: 'query.callbackurl', message: "unknown query parameter 'callbackurl' (did you mean 'callbackUrl'?)" },
      { node: null, field: 'query.foo', message: "unknown query parameter 'foo'" },
    ]);
    expect((await t.api('GET', `/api/runs?workflowId=${id}`)).body.runs).toEqual([]);
    expect((await t.api('POST', '/hooks/misspelt?mode=sync', { subject: 'x' })).status).toBe(200);
  });

  test.each([
    ['/api/workflows/{id}?version=', 'version', 'expected a whole number from 1, in decimal digits'],
    ['/api/workflows/{id}?version=0x1', 'version', 'expected a whole number from 1, in decimal digits'],
    ['/api/workflows/{id}?version=1e0', 'version', 'expected a whole number from 1, in decimal digits'],
    ['/api/runs?limit=0x10', 'limit', 'expected a whole number from 1 to 200, in decimal digits'],
  ])('%s is refused, saying what is expected', async (path, field, message) => {
    const id = await saved(t, workflows.caption());
    const reply = await t.api('GET', path.replace('{id}', id));
    expect(reply.status).toBe(400);
    expect(reply.body.errors).toEqual([{ node: null, field, message }]);
    expect((await t.api('GET', `/api/workflows/${id}?version=1`)).body.version).toBe(1);
  });
});

describe('a callbackUrl with credentials', () => {
  test('is delivered with them (user:pass@, a key in the query), and shown without them', async () => {
    const id = await saved(t, workflows.caption());
    await trigger(t, id, { slug: 'with-credentials' });
    const url = `http://someone:s3cret-pass@127.0.0.1:${receiverPort}/done?run=1&api_key=k3y-value`;
    const accepted = await t.api('POST', `/hooks/with-credentials?callbackUrl=${encodeURIComponent(url)}`, { subject: 'x' });
    expect(accepted.status).toBe(202);
    const { runId } = accepted.body;
    const delivered = await eventually(() => received.find((r) => r.body.id === runId), 'the callback');
    expect(delivered.headers.authorization).toBe(`Basic ${Buffer.from('someone:s3cret-pass').toString('base64')}`);
    expect(delivered.url).toBe('/done?run=1&api_key=k3y-value');

    const run = await eventually(async () => {
      const reply = await t.api('GET', `/api/runs/${runId}`);
      return reply.body.callbacks.length > 0 ? reply : undefined;
    }, 'the delivery record');
    expect(run.body.callbacks).toMatchObject([{ attempt: 1, status: 204, url: `http://***@127.0.0.1:${receiverPort}/done?run=1&api_key=***` }]);
    expect(JSON.stringify(run.body)).not.toMatch(/s3cret|someone|k3y-value/);
  });
});

describe('GET /api/artifacts/:id?run=', () => {
  test("embeds a run's workflow only in an image that run made; another run's image is a 404", async () => {
    const { artifact } = (await upload(t.url, await png(8, 8))).body;
    const first = (await t.api('POST', '/api/runs', { workflow: workflows.resized(artifact, 4, 3), wait: true })).body;
    const second = (await t.api('POST', '/api/runs', { workflow: workflows.resized(artifact, 5, 2), wait: true })).body;
    const firstImage = first.outputs.small.value.artifact;

    const own = await fetch(`${t.url}/api/artifacts/${firstImage}?run=${first.id}`);
    expect(own.status).toBe(200);
    expect((await readWorkflow(new Uint8Array(await own.arrayBuffer())))?.workflow).toEqual(workflows.resized(artifact, 4, 3));

    const other = await t.api('GET', `/api/artifacts/${firstImage}?run=${second.id}`);
    expect(other.status).toBe(404);
    expect(other.body.error).toBe(`run '${second.id}' did not make artifact '${firstImage}'; leave out \`run\` for the image without a workflow`);
    // A node's image that is no output of the run (what the editor shows on the node) is the run's too.
    expect((await fetch(`${t.url}/api/artifacts/${artifact}?run=${first.id}`)).status).toBe(200);
  });
});

describe('a resumed run with a callback', () => {
  test('its caller gets the interrupted end, then the end the resumed run comes to', async () => {
    const options = { callbacks: { allowPrivate: true, backoffMs: 10 }, shutdownTimeoutMs: 50 };
    const first = await startTestServer(options);
    const id = await saved(first, workflows.held('resumed-callback'));
    await trigger(first, id, { slug: 'resumed' });
    const accepted = await first.api('POST', `/hooks/resumed?callbackUrl=${encodeURIComponent(`http://127.0.0.1:${receiverPort}/done`)}`, {});
    const { runId } = accepted.body;
    await eventually(async () => ((await first.api('GET', `/api/runs/${runId}`)).body.status === 'running' ? true : undefined), 'the run to start');
    await first.server.close();

    const second = await startTestServer({ ...options, dataDir: first.dataDir });
    try {
      await eventually(() => received.find((r) => r.body.id === runId && r.body.status === 'interrupted'), 'the interrupted callback');
      openGate('resumed-callback');
      expect((await second.api('POST', `/api/runs/${runId}/resume`)).status).toBe(202);
      const final = await eventually(() => received.find((r) => r.body.id === runId && r.body.status === 'succeeded'), 'the resumed run’s callback');
      expect(final.body.outputs.value.value).toBe(1);
      // Its attempts are numbered after those of the interrupted end (one of which the shutdown may have cut short).
      const attempts: { attempt: number; status: number | null }[] = (await second.api('GET', `/api/runs/${runId}`)).body.callbacks;
      const [interrupted, resumed] = attempts.slice(-2);
      expect([interrupted.status, resumed.status, resumed.attempt]).toEqual([204, 204, interrupted.attempt + 1]);
      expect(final.headers['picflow-delivery-attempt']).toBe(String(resumed.attempt));
      // Finished, it is not resumed again.
      expect((await second.api('POST', `/api/runs/${runId}/resume`)).status).toBe(409);
    } finally {
      await second.close();
    }
  });
});
