// What a trigger's app page needs beyond the hook, on a server that requires API tokens (`--auth`):
// uploads and the run's images under /hooks/:slug, with only the trigger's token or signature.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { signatureHeader } from '../server/hooks/signature';
import { png, startAuthedTestServer, workflows, type TestServer } from './server-harness';

const TRIGGER_TOKEN = 'photo-token-1';
let t: TestServer & { admin: Record<string, string> };
let signed: { slug: string; secret: string };

async function trigger(workflow: unknown, settings: Record<string, unknown>) {
  const { id } = (await t.api('POST', '/api/workflows', workflow, t.admin)).body;
  const reply = await t.api('PUT', `/api/workflows/${id}/trigger`, { mode: 'sync', ...settings }, t.admin);
  expect(reply.status, JSON.stringify(reply.body)).toBe(200);
  return reply.body as { slug: string; secret: string };
}

const photoInput = [{ param: 'load.artifact', name: 'photo' }];
beforeAll(async () => {
  t = await startAuthedTestServer({ callbacks: { allowPrivate: true } });
  await trigger(workflows.resized('0'.repeat(64), 3, 2), { slug: 'photo', token: TRIGGER_TOKEN, inputs: photoInput });
  signed = await trigger(workflows.resized('0'.repeat(64), 2, 2), { slug: 'signed', requireSignature: true, inputs: photoInput });
  await trigger(workflows.caption(), { slug: 'words' });
});
afterAll(() => t?.close());

const bearer = { authorization: `Bearer ${TRIGGER_TOKEN}` };

async function send(path: string, init: RequestInit = {}) {
  const response = await fetch(t.url + path, init);
  const bytes = Buffer.from(await response.arrayBuffer());
  const type = response.headers.get('content-type') ?? '';
  return { status: response.status, headers: response.headers, bytes, body: type.includes('json') ? JSON.parse(bytes.toString()) : undefined };
}

const uploadTo = (slug: string, bytes: Uint8Array, headers: Record<string, string> = {}) =>
  send(`/hooks/${slug}/uploads`, { method: 'POST', headers: { 'content-type': 'image/png', ...headers }, body: Buffer.from(bytes) });

describe('uploads with the trigger’s credentials', () => {
  test('the API refuses the trigger token; the hook’s upload route takes it, and only it', async () => {
    const image = await png(6, 4, { r: 10, g: 200, b: 30 });
    const form = new FormData();
    form.append('file', new Blob([Uint8Array.from(image)]), 'a.png');
    expect((await send('/api/uploads', { method: 'POST', headers: bearer, body: form })).status).toBe(401);

    const refused = await uploadTo('photo', image);
    expect(refused.status).toBe(401);
    expect(refused.body.error).toMatch(/trigger 'photo' needs/);
    const uploaded = await uploadTo('photo', image, bearer);
    expect(uploaded.status).toBe(201);
    expect(uploaded.body).toMatchObject({ artifact: expect.stringMatching(/^[0-9a-f]{64}$/), width: 6, height: 4, contentType: 'image/png' });
  });

  test('a signature of the image bytes also does; one of other bytes does not', async () => {
    const image = await png(5, 5);
    const ok = await uploadTo('signed', image, { 'picflow-signature': signatureHeader(signed.secret, image) });
    expect(ok.status).toBe(201);
    const forged = await uploadTo('signed', await png(7, 7), { 'picflow-signature': signatureHeader(signed.secret, image) });
    expect(forged.status).toBe(401);
  });

  test('bad bodies: not an image 415, JSON 415, a trigger without an image input 404', async () => {
    const fake = await uploadTo('photo', Buffer.from('not a picture at all'), bearer);
    expect(fake.status).toBe(415);
    expect(fake.body.error).toMatch(/not an image/);
    const json = await send('/hooks/photo/uploads', { method: 'POST', headers: { ...bearer, 'content-type': 'application/json' }, body: '{}' });
    expect(json.status).toBe(415);
    const none = await uploadTo('words', await png(2, 2));
    expect(none.status).toBe(404);
    expect(none.body.error).toMatch(/no image input/);
  });

  test('uploads count against the trigger’s rate limit, as calls do', async () => {
    await trigger(workflows.resized('0'.repeat(64), 2, 2), { slug: 'limited-photo', token: TRIGGER_TOKEN, inputs: photoInput, rateLimit: 1 });
    const image = await png(3, 3);
    expect((await uploadTo('limited-photo', image, bearer)).status).toBe(201);
    const over = await uploadTo('limited-photo', image, bearer);
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});

describe('a run’s images with the trigger’s credentials', () => {
  test('its output and its input image are readable under the hook; nothing else is', async () => {
    const photo = (await uploadTo('photo', await png(9, 9, { r: 200, g: 10, b: 90 }), bearer)).body.artifact;
    const run = (await send('/hooks/photo', { method: 'POST', headers: { ...bearer, 'content-type': 'application/json' }, body: JSON.stringify({ photo }) })).body;
    expect(run.status).toBe('succeeded');
    const output = run.outputs.small.value.artifact;
    // The answer points at the hook's route, which the caller's token opens (the API's would not).
    expect(run.outputs.small.value.url).toBe(`/hooks/photo/runs/${run.id}/artifacts/${output}`);

    const shown = await send(run.outputs.small.value.url, { headers: bearer });
    expect(shown.status).toBe(200);
    expect(shown.headers.get('content-type')).toBe('image/png');
    expect(shown.headers.get('cache-control')).toMatch(/^private/);
    const { data, info } = await sharp(shown.bytes).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, ...data.subarray(0, 3)]).toEqual([3, 2, 200, 10, 90]);
    expect((await send(`/hooks/photo/runs/${run.id}/artifacts/${photo}`, { headers: bearer })).status).toBe(200);

    // Without the token; on the API with it; an artifact the run does not have; the run under another trigger.
    expect((await send(`/hooks/photo/runs/${run.id}/artifacts/${output}`)).status).toBe(401);
    expect((await send(`/api/artifacts/${output}`, { headers: bearer })).status).toBe(401);
    const elsewhere = (await uploadTo('signed', await png(3, 3), { 'picflow-signature': signatureHeader(signed.secret, await png(3, 3)) })).body.artifact;
    const foreign = await send(`/hooks/photo/runs/${run.id}/artifacts/${elsewhere}`, { headers: bearer });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error).toMatch(/has no image/);
    expect((await send(`/hooks/words/runs/${run.id}/artifacts/${output}`)).status).toBe(404);
  });
  test('the status URL and the callback name the hook’s route for the images too', async () => {
    const bodies: string[] = [];
    const receiver: Server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        bodies.push(body);
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const callbackUrl = encodeURIComponent(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/done`);
      const photo = (await uploadTo('photo', await png(4, 4), bearer)).body.artifact;
      // A call with a callback is answered at once (202); its status URL follows the run.
      const { statusUrl } = (await send(`/hooks/photo?callbackUrl=${callbackUrl}`, { method: 'POST', headers: { ...bearer, 'content-type': 'application/json' }, body: JSON.stringify({ photo }) })).body;
      let run = (await send(statusUrl, { headers: bearer })).body;
      while (run.status === 'queued' || run.status === 'running') {
        await new Promise((resolve) => setTimeout(resolve, 20));
        run = (await send(statusUrl, { headers: bearer })).body;
      }
      expect(run.status).toBe('succeeded');
      const hookImage = `/hooks/photo/runs/${run.id}/artifacts/${run.outputs.small.value.artifact}`;
      expect(run.outputs.small.value.url).toBe(hookImage);
      while (bodies.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      expect(JSON.parse(bodies[0]).outputs.small.value.url).toBe(hookImage);
      // The API's own record keeps the API's URL: its readers hold API tokens.
      expect((await t.api('GET', `/api/runs/${run.id}`, undefined, t.admin)).body.outputs.small.value.url).toBe(`/api/artifacts/${run.outputs.small.value.artifact}`);
    } finally {
      await new Promise((resolve) => receiver.close(resolve));
    }
  });
});
