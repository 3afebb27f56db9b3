import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { z } from 'zod';
import { defineNode, makeCatalog } from '../engine/node';
import { openGate, startTestServer, testCatalog, workflows, type Reply, type TestServer } from './server-harness';

/** A node with a bug: it reads a property of undefined (a TypeError), as broken code does. */
const crash = defineNode({
  type: 'crash',
  category: 'test',
  description: 'crashes',
  inputs: {},
  outputs: { value: { type: 'number' } },
  params: z.object({}),
  run: () => ({ value: (undefined as unknown as { x: number }).x }),
});

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ catalog: makeCatalog([...testCatalog.values(), crash]), callbacks: { backoffMs: 20, allowPrivate: true } });
});
afterAll(() => t.close());

async function hook(workflow: unknown, trigger: Record<string, unknown>) {
  const { id } = (await t.api('POST', '/api/workflows', workflow)).body;
  const reply = await t.api('PUT', `/api/workflows/${id}/trigger`, { mode: 'sync', ...trigger });
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply.body as { slug: string; secret: string };
}

async function raw(path: string, init: RequestInit = {}) {
  const response = await fetch(t.url + path, init);
  return { status: response.status, headers: response.headers, bytes: Buffer.from(await response.arrayBuffer()) };
}

const post = (body: unknown, headers: Record<string, string> = {}) => ({ method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

async function pixels(png: Uint8Array) {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/** A generated image (32×32), the same at 8×8, and a text output. */
const drawn = (seed: number) => ({
  version: 1,
  name: 'drawn',
  nodes: {
    p: { type: 'prompt', params: { name: 'prompt', text: 'a small green triangle at the top on a black background' } },
    g: { type: 'generate', params: { seed }, inputs: { prompt: ['p', 'text'] } },
    big: { type: 'save-image', params: { name: 'big' }, inputs: { image: ['g', 'image'] } },
    shrunk: { type: 'resize', params: { width: 8, height: 8 }, inputs: { image: ['g', 'image'] } },
    small: { type: 'save-image', params: { name: 'small' }, inputs: { image: ['shrunk', 'image'] } },
    said: { type: 'output', params: { name: 'said' }, inputs: { value: ['p', 'text'] } },
  },
});

describe('image answers', () => {
  test('Accept: image/png on a generate workflow answers the PNG of the generated image', async () => {
    await hook(workflows.generated(7), { slug: 'draw' });
    const image = await raw('/hooks/draw', post({}, { accept: 'image/png' }));
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/png');
    const runId = image.headers.get('picflow-run-id')!;
    const run = (await t.api('GET', `/api/runs/${runId}`)).body;
    expect(run.outputs.out.type).toBe('image');
    const stored = await raw(run.outputs.out.value.url);
    const got = await pixels(image.bytes);
    expect(got.width).toBe(32);
    expect(got.data.equals((await pixels(stored.bytes)).data)).toBe(true);
    // The model drew something: not one flat colour.
    expect(new Set(got.data).size).toBeGreaterThan(1);
  });

  test('?output= picks among image outputs; webp and jpeg come converted; a text output is 406 naming it', async () => {
    await hook(drawn(3), { slug: 'drawn' });
    const small = await raw('/hooks/drawn?output=small', post({}, { accept: 'image/png' }));
    expect(small.status).toBe(200);
    expect(await sharp(small.bytes).metadata()).toMatchObject({ format: 'png', width: 8, height: 8 });
    const big = await raw('/hooks/drawn?output=big', post({}, { accept: 'image/webp' }));
    expect(big.headers.get('content-type')).toBe('image/webp');
    expect(await sharp(big.bytes).metadata()).toMatchObject({ format: 'webp', width: 32, height: 32 });
    const jpeg = await raw('/hooks/drawn?output=big', post({}, { accept: 'image/jpeg' }));
    expect(await sharp(jpeg.bytes).metadata()).toMatchObject({ format: 'jpeg', width: 32 });

    const text = await t.api('POST', '/hooks/drawn?output=said', {}, { accept: 'image/png' });
    expect(text.status).toBe(406);
    expect(text.body.error).toMatch(/'said' is text, not an image/);
    const several = await t.api('POST', '/hooks/drawn', {}, { accept: 'image/png' });
    expect(several.status).toBe(400);
    expect(several.body.error).toMatch(/big, small/);
    expect((await t.api('POST', '/hooks/drawn', {}, { accept: 'text/csv' })).status).toBe(406);
  });
});

describe('callbacks', () => {
  let receiver: Server;
  let receiverUrl: string;
  const received: { headers: IncomingMessage['headers']; body: string }[] = [];
  let failuresLeft = 0;
  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.statusCode = failuresLeft-- > 0 ? 500 : 204;
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/done`;
  });
  afterAll(() => new Promise((resolve) => receiver.close(resolve)));

  /** Verifies a callback as the README tells receivers to. */
  function verify(secret: string, header: string, body: string): boolean {
    const [, t, v1] = header.match(/^t=(\d+),v1=([0-9a-f]{64})$/) ?? [];
    return v1 === createHmac('sha256', secret).update(`${t}.${body}`).digest('hex');
  }

  async function attemptsOf(runId: string, count: number) {
    for (;;) {
      const run = (await t.api('GET', `/api/runs/${runId}`)).body;
      if (run.callbacks.length >= count) return run.callbacks;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  test('the receiver gets the finished run, signed with the trigger secret', async () => {
    received.length = 0;
    const { secret } = await hook(workflows.caption(), { slug: 'told' });
    const url = `/hooks/told?callbackUrl=${encodeURIComponent(receiverUrl)}`;
    const accepted = await t.api('POST', url, { subject: 'a call' });
    expect(accepted.status).toBe(202);
    const [attempt] = await attemptsOf(accepted.body.runId, 1);
    expect(attempt).toMatchObject({ attempt: 1, url: receiverUrl, status: 204, error: null });
    const [delivery] = received;
    expect(verify(secret, String(delivery.headers['picflow-signature']), delivery.body)).toBe(true);
    expect(verify('another secret', String(delivery.headers['picflow-signature']), delivery.body)).toBe(false);
    const run = JSON.parse(delivery.body);
    expect(run).toMatchObject({ apiVersion: 2, id: accepted.body.runId, status: 'succeeded', outputs: { caption: { value: 'a call in the center' } } });
    // The same shape as GET /api/runs/:id (less the workflow, inputs, nodes and callbacks).
    const { workflow: _w, inputs: _i, nodes: _n, callbacks: _c, ...document } = (await t.api('GET', `/api/runs/${run.id}`)).body;
    expect(document).toEqual(run);
  });

  test('a receiver that answers 500 twice gets the third attempt, and the run records all three', async () => {
    received.length = 0;
    failuresLeft = 2;
    await hook(workflows.caption(), { slug: 'retried' });
    const accepted = await t.api('POST', `/hooks/retried?callbackUrl=${encodeURIComponent(receiverUrl)}`, {});
    const attempts = await attemptsOf(accepted.body.runId, 3);
    expect(attempts.map((a: { status: number }) => a.status)).toEqual([500, 500, 204]);
    expect(attempts[0].error).toMatch(/500/);
    expect(received.map((r) => r.headers['picflow-delivery-attempt'])).toEqual(['1', '2', '3']);
    expect(new Set(received.map((r) => r.body)).size).toBe(1);
  });

  test('a callbackUrl that is not http(s) is 400', async () => {
    const reply = await t.api('POST', `/hooks/told?callbackUrl=${encodeURIComponent('file:///etc/passwd')}`, {});
    expect(reply.status).toBe(400);
    expect(reply.body.errors[0].field).toBe('callbackUrl');
  });
});

describe('status codes', () => {
  test('a node that refuses its inputs is 422 with the run id and node error; a node that crashes is 500', async () => {
    const loaded = workflows.resized('0'.repeat(64), 4, 4);
    await hook(loaded, { slug: 'refuses', inputs: [{ param: 'load.artifact', name: 'photo' }] });
    const refused = await t.api('POST', '/hooks/refuses', { photo: 'f'.repeat(64) });
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ apiVersion: 2, id: expect.any(String), status: 'failed', error: { node: 'load', message: expect.stringMatching(/unknown artifact/) } });

    await hook({ version: 1, nodes: { c: { type: 'crash' }, out: { type: 'output', inputs: { value: ['c', 'value'] } } } }, { slug: 'crashes' });
    const crashed = await t.api('POST', '/hooks/crashes', {});
    expect(crashed.status).toBe(500);
    expect(crashed.body).toMatchObject({ status: 'failed', error: { node: 'c', crashed: true } });
  });

  test('a sync call that outlives its timeout is 202 with a status URL that follows the run', async () => {
    await hook(workflows.held('slow'), { slug: 'slow', timeoutMs: 100 });
    const reply = await t.api('POST', '/hooks/slow', {});
    expect(reply.status).toBe(202);
    expect(reply.headers.get('location')).toBe(reply.body.statusUrl);
    expect((await t.api('GET', reply.body.statusUrl)).body).toMatchObject({ status: 'running', progress: { nodesTotal: 2 } });
    openGate('slow');
    const client = await t.client({ runId: reply.body.runId });
    const state = await client.next('run:state');
    if (state.data.status !== 'succeeded') await client.next('run:finished');
    expect((await t.api('GET', reply.body.statusUrl)).body).toMatchObject({ status: 'succeeded', outputs: { value: { value: 1 } } });
  });

  test('a full queue is 503 with Retry-After', async () => {
    const small = await startTestServer({ concurrency: 1, maxQueue: 1 });
    try {
      const { id } = (await small.api('POST', '/api/workflows', workflows.held('queue'))).body;
      await small.api('PUT', `/api/workflows/${id}/trigger`, { slug: 'busy', mode: 'async' });
      expect((await small.api('POST', '/hooks/busy', {})).status).toBe(202); // running
      expect((await small.api('POST', '/hooks/busy', {})).status).toBe(202); // waiting
      const full = await small.api('POST', '/hooks/busy', {});
      expect(full.status).toBe(503);
      expect(Number(full.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      openGate('queue');
      await small.close();
    }
  });

  test('over the rate limit is 429 with Retry-After, per trigger; reading a run or the document is not counted', async () => {
    await hook(workflows.caption(), { slug: 'limited', rateLimit: 2 });
    await hook(workflows.caption(), { slug: 'unlimited' });
    const first = await t.api('POST', '/hooks/limited', {});
    expect(first.status).toBe(200);
    // What an app page does while its run goes on: poll the status URL, read the hook's document.
    const runId = first.body.id;
    expect(runId).toEqual(expect.any(String));
    for (let i = 0; i < 4; i++) expect((await t.api('GET', `/hooks/limited/runs/${runId}`)).status).toBe(200);
    expect((await t.api('GET', '/hooks/limited/openapi.json')).status).toBe(200);
    expect((await t.api('POST', '/hooks/limited', {})).status).toBe(200);
    const limited = await t.api('POST', '/hooks/limited', {});
    expect(limited.status).toBe(429);
    expect(limited.body.error).toMatch(/2 calls and uploads per minute/);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await t.api('POST', '/hooks/unlimited', {})).status).toBe(200);
  });
});

describe('access', () => {
  test('CORS: an allowed origin gets the headers and its preflight passes; any other origin is refused', async () => {
    const app = 'http://app.example';
    await hook(workflows.caption(), { slug: 'cors', allowedOrigins: [app], token: 'cors-token-1' });
    const preflight = await raw('/hooks/cors', {
      method: 'OPTIONS',
      headers: { origin: app, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(app);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    const call = await t.api('POST', '/hooks/cors', { subject: 'from afar' }, { origin: app, authorization: 'Bearer cors-token-1' });
    expect(call.status).toBe(200);
    expect(call.headers.get('access-control-allow-origin')).toBe(app);

    const evil = 'http://evil.example';
    const refusedPreflight = await raw('/hooks/cors', { method: 'OPTIONS', headers: { origin: evil, 'access-control-request-method': 'POST' } });
    expect(refusedPreflight.status).toBe(403);
    expect(refusedPreflight.headers.get('access-control-allow-origin')).toBeNull();
    const refused = await t.api('POST', '/hooks/cors', {}, { origin: evil, authorization: 'Bearer cors-token-1' });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatch(/evil\.example is not an allowed origin/);
    // The rest of the API stays same-origin.
    expect((await t.api('POST', '/api/workflows', workflows.caption(), { origin: app })).status).toBe(403);
  });

  test('HMAC-signed requests: a valid signature passes, a missing, wrong or stale one is 401', async () => {
    const { secret } = await hook(workflows.caption(), { slug: 'signed', requireSignature: true });
    const body = JSON.stringify({ subject: 'signed' });
    const sign = (at: number, text = body) => `t=${at},v1=${createHmac('sha256', secret).update(`${at}.${text}`).digest('hex')}`;
    const now = Math.floor(Date.now() / 1000);
    const call = (signature?: string) => t.api('POST', '/hooks/signed', body, signature ? { 'picflow-signature': signature } : {});
    const ok = await call(sign(now));
    expect(ok.status).toBe(200);
    expect(ok.body.outputs.caption.value).toBe('signed in the center');
    const missing = await call();
    expect(missing.status).toBe(401);
    expect(missing.body.error).toMatch(/Picflow-Signature/);
    expect((await call(sign(now, '{"subject":"tampered"}'))).status).toBe(401);
    expect((await call(sign(now - 3600))).status).toBe(401);
  });
});

describe('inputs', () => {
  test('exposed params take their names, types and ranges; unknown and hostile keys are 400 naming them', async () => {
    const trigger = await hook(workflows.counted(2), { slug: 'counted', inputs: [{ param: 'count.total', name: 'steps' }] });
    expect(trigger).toMatchObject({ inputs: [{ param: 'count.total', name: 'steps' }] });
    const ok = await t.api('POST', '/hooks/counted', { steps: 4 });
    expect(ok.body.outputs.count.value).toBe(4);
    const run = (await t.api('GET', `/api/runs/${ok.body.id}`)).body;
    expect(run.inputs).toEqual({ 'count.total': 4 });

    const bad = await t.api('POST', '/hooks/counted', { steps: 0 });
    expect(bad.status).toBe(400);
    expect(bad.body.errors[0]).toMatchObject({ field: 'inputs.steps' });
    const hostile: Reply = await t.api('POST', '/hooks/counted', '{"__proto__": {"polluted": 1}, "constructor": 1, "count.total": 2}');
    expect(hostile.status).toBe(400);
    expect(hostile.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['inputs.__proto__', 'inputs.constructor', 'inputs.count.total']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('a trigger exposing a param the workflow lacks, or a name taken twice, is refused', async () => {
    const { id } = (await t.api('POST', '/api/workflows', workflows.caption())).body;
    const reply = await t.api('PUT', `/api/workflows/${id}/trigger`, {
      slug: 'bad-inputs',
      mode: 'sync',
      inputs: [
        { param: 'ghost.seed', name: 'seed' },
        { param: 'joined.nope', name: 'nope' },
        { param: 'joined.separator', name: 'subject' },
      ],
    });
    expect(reply.status).toBe(400);
    expect(reply.body.errors.map((e: { message: string }) => e.message)).toEqual([
      expect.stringMatching(/'ghost.seed' names no node/),
      expect.stringMatching(/text has no param 'nope'/),
      expect.stringMatching(/'subject' is already taken/),
    ]);
  });
});
