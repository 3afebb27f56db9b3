import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { png, startTestServer, upload, workflows, type TestServer } from './server-harness';

let t: TestServer;
let captionId: string;
beforeAll(async () => {
  t = await startTestServer();
  captionId = (await t.api('POST', '/api/workflows', workflows.caption())).body.id;
});
afterAll(() => t.close());

async function saveWithTrigger(workflow: unknown, trigger: { slug: string; mode: 'sync' | 'async'; token?: string }) {
  const { id } = (await t.api('POST', '/api/workflows', workflow)).body;
  const reply = await t.api('PUT', `/api/workflows/${id}/trigger`, trigger);
  expect(reply.status).toBe(200);
  return id as string;
}

describe('HTTP triggers', () => {
  test('a sync trigger runs the workflow with the body as run inputs and answers its outputs', async () => {
    const reply = await t.api('PUT', `/api/workflows/${captionId}/trigger`, { slug: 'caption', mode: 'sync' });
    expect(reply.body).toMatchObject({ slug: 'caption', mode: 'sync', hasToken: false, url: '/hooks/caption', appUrl: '/apps/caption' });
    expect((await t.api('GET', `/api/workflows/${captionId}/trigger`)).body.slug).toBe('caption');

    const hook = await t.api('POST', '/hooks/caption', { subject: 'a green star' });
    expect(hook.status).toBe(200);
    expect(hook.body).toMatchObject({ apiVersion: 2, id: expect.any(String), status: 'succeeded', error: null });
    expect(hook.body.outputs).toEqual({ caption: { node: 'caption', kind: 'value', type: 'text', value: 'a green star in the center' } });
    const run = (await t.api('GET', `/api/runs/${hook.body.id}`)).body;
    expect(run).toMatchObject({ source: 'hook:caption', workflowId: captionId, inputs: { subject: 'a green star' } });
  });

  test('an empty body runs with the saved values', async () => {
    const hook = await t.api('POST', '/hooks/caption');
    expect(hook.body.outputs.caption.value).toBe('a red circle in the center');
  });

  test("a trigger's calls follow its workflow's saved versions: each edit is what the next call runs", async () => {
    const id = await saveWithTrigger(workflows.caption('first'), { slug: 'edited', mode: 'sync' });
    expect((await t.api('POST', '/hooks/edited', {})).body).toMatchObject({ workflowVersion: 1, outputs: { caption: { value: 'first in the center' } } });
    expect((await t.api('POST', '/hooks/edited', { subject: 'given' })).body.outputs.caption.value).toBe('given in the center');
    const edited = workflows.caption('second');
    edited.nodes.place.params.text = 'at the top';
    expect((await t.api('PUT', `/api/workflows/${id}`, edited)).status).toBe(200);
    expect((await t.api('POST', '/hooks/edited', {})).body).toMatchObject({ workflowVersion: 2, outputs: { caption: { value: 'second at the top' } } });
    expect((await t.api('POST', '/hooks/edited', { subject: 'given' })).body.outputs.caption.value).toBe('given at the top');
  });

  test('an async trigger answers 202 with a status url at once', async () => {
    await saveWithTrigger(workflows.caption(), { slug: 'caption-later', mode: 'async' });
    const hook = await t.api('POST', '/hooks/caption-later', { subject: 'later' });
    expect(hook.status).toBe(202);
    expect(hook.body).toEqual({ runId: expect.any(String), statusUrl: `/hooks/caption-later/runs/${hook.body.runId}`, status: 'queued' });
    // Wait for the run over its own socket room rather than polling.
    const client = await t.client({ runId: hook.body.runId });
    const state = await client.next('run:state');
    if (state.data.status !== 'succeeded') await client.next('run:finished');
    expect((await t.api('GET', hook.body.statusUrl)).body).toMatchObject({ status: 'succeeded', outputs: { caption: { value: 'later in the center' } } });
  });

  test('inputs that do not fit the workflow get 400 with the list of problems, and no run', async () => {
    const before = (await t.api('GET', `/api/runs?workflowId=${captionId}&limit=200`)).body.runs.length;
    const hook = await t.api('POST', '/hooks/caption', { subjekt: 'typo', 'joined.separator': 5, 'ghost.seed': 1 });
    expect(hook.status).toBe(400);
    expect(hook.body.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ node: null, field: 'inputs.subjekt' }),
        expect.objectContaining({ node: null, field: 'inputs.joined.separator' }),
        expect.objectContaining({ node: null, field: 'inputs.ghost.seed' }),
      ]),
    );
    expect((await t.api('POST', '/hooks/caption', [1])).status).toBe(400);
    expect((await t.api('GET', `/api/runs?workflowId=${captionId}&limit=200`)).body.runs.length).toBe(before);
  });

  test('a trigger with a token needs it as a bearer token', async () => {
    await saveWithTrigger(workflows.caption(), { slug: 'secret', mode: 'sync', token: 's3cret-token' });
    const missing = await t.api('POST', '/hooks/secret', {});
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(missing.body.error).toMatch(/Bearer/);
    expect((await t.api('POST', '/hooks/secret', {}, { authorization: 'Bearer wrong-token' })).status).toBe(401);
    expect((await t.api('POST', '/hooks/secret', {}, { authorization: 's3cret-token' })).status).toBe(401);
    const ok = await t.api('POST', '/hooks/secret', { subject: 'me' }, { authorization: 'Bearer s3cret-token' });
    expect(ok.status).toBe(200);
    expect(ok.body.outputs.caption.value).toBe('me in the center');
    // The token is never shown back.
    const saved = (await t.api('GET', '/api/workflows')).body.workflows.find((w: { trigger: { slug: string } | null }) => w.trigger?.slug === 'secret');
    expect(saved.trigger).toEqual({ slug: 'secret', mode: 'sync', hasToken: true, url: '/hooks/secret' });
    expect(JSON.stringify((await t.api('GET', `/api/workflows/${saved.id}/trigger`)).body)).not.toContain('s3cret-token');

    // A PUT that leaves the token out keeps it (no client can send back a token it is never shown); null removes it.
    expect((await t.api('PUT', `/api/workflows/${saved.id}/trigger`, { slug: 'secret', mode: 'async' })).body).toMatchObject({ mode: 'async', hasToken: true });
    expect((await t.api('POST', '/hooks/secret', {})).status).toBe(401);
    expect((await t.api('POST', '/hooks/secret', {}, { authorization: 'Bearer s3cret-token' })).status).toBe(202);
    expect((await t.api('PUT', `/api/workflows/${saved.id}/trigger`, { slug: 'secret', mode: 'sync', token: null })).body).toMatchObject({ hasToken: false });
    expect((await t.api('POST', '/hooks/secret', { subject: 'anyone' })).status).toBe(200);
  });

  test('an unknown slug is 404; a slug held by another workflow is 409; a bad trigger is 400', async () => {
    expect((await t.api('POST', '/hooks/nobody-home', {})).status).toBe(404);
    const other = (await t.api('POST', '/api/workflows', workflows.caption())).body.id;
    const taken = await t.api('PUT', `/api/workflows/${other}/trigger`, { slug: 'caption', mode: 'sync' });
    expect(taken.status).toBe(409);
    const bad = await t.api('PUT', `/api/workflows/${other}/trigger`, { slug: '../Up', mode: 'eventually', token: 'short' });
    expect(bad.status).toBe(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['mode', 'slug', 'token']);
    expect((await t.api('PUT', '/api/workflows/nope/trigger', { slug: 'free', mode: 'sync' })).status).toBe(404);
  });

  test('deleting a workflow removes its trigger', async () => {
    const id = await saveWithTrigger(workflows.caption(), { slug: 'short-lived', mode: 'sync' });
    expect((await t.api('POST', '/hooks/short-lived', {})).status).toBe(200);
    await t.api('DELETE', `/api/workflows/${id}`);
    expect((await t.api('POST', '/hooks/short-lived', {})).status).toBe(404);
  });

  test('?inline=1 embeds output images as base64 PNG', async () => {
    const uploaded = await upload(t.url, await png(5, 5));
    await saveWithTrigger(workflows.resized(uploaded.body.artifact, 3, 3), { slug: 'thumb', mode: 'sync' });
    const plain = await t.api('POST', '/hooks/thumb', {});
    expect(plain.body.outputs.small.value).toEqual({ artifact: expect.any(String), url: expect.any(String), width: 3, height: 3 });
    const inline = await t.api('POST', '/hooks/thumb?inline=1', {});
    const bytes = Buffer.from(inline.body.outputs.small.value.base64, 'base64');
    expect(bytes.subarray(1, 4).toString()).toBe('PNG');
    const served = Buffer.from(await (await fetch(t.url + plain.body.outputs.small.value.url)).arrayBuffer());
    expect(bytes.equals(served)).toBe(true);
  });
});
