import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestServer, workflows, type TestServer } from './server-harness';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

describe('saved workflows', () => {
  test('a workflow is saved, listed, read, updated to a new version and deleted', async () => {
    const created = await t.api('POST', '/api/workflows', workflows.caption());
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'caption', version: 1, trigger: null, workflow: workflows.caption() });
    const { id } = created.body;

    const list = await t.api('GET', '/api/workflows');
    expect(list.body.workflows.map((w: { id: string }) => w.id)).toContain(id);

    const changed = { ...workflows.caption('a blue square'), name: 'renamed' };
    const updated = await t.api('PUT', `/api/workflows/${id}`, changed);
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ id, name: 'renamed', version: 2, workflow: changed });

    // The same body again adds no version.
    expect((await t.api('PUT', `/api/workflows/${id}`, changed)).body.version).toBe(2);
    expect((await t.api('GET', `/api/workflows/${id}`)).body.workflow).toEqual(changed);
    expect((await t.api('GET', `/api/workflows/${id}?version=1`)).body.workflow).toEqual(workflows.caption());
    const versions = await t.api('GET', `/api/workflows/${id}/versions`);
    expect(versions.body.versions.map((v: { version: number }) => v.version)).toEqual([2, 1]);

    expect((await t.api('DELETE', `/api/workflows/${id}`)).status).toBe(204);
    expect((await t.api('GET', `/api/workflows/${id}`)).status).toBe(404);
    expect((await t.api('DELETE', `/api/workflows/${id}`)).status).toBe(404);
  });

  test('the editor may wrap the workflow as { name, workflow }', async () => {
    const created = await t.api('POST', '/api/workflows', { name: 'caption', workflow: workflows.caption() });
    expect(created.status).toBe(201);
    expect(created.body.workflow).toEqual(workflows.caption());
  });

  test('an invalid workflow is refused with every problem, and nothing is stored', async () => {
    const before = (await t.api('GET', '/api/workflows')).body.workflows.length;
    const bad = {
      version: 1,
      nodes: {
        p: { type: 'prompt', params: { text: 3 } },
        x: { type: 'no-such-type' },
        out: { type: 'output', inputs: { value: ['missing', 'text'] } },
      },
    };
    const reply = await t.api('POST', '/api/workflows', bad);
    expect(reply.status).toBe(400);
    expect(reply.body.error).toMatch(/invalid/);
    expect(reply.body.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ node: 'p', field: 'params.text' }),
        expect.objectContaining({ node: 'x', field: 'type', message: "unknown node type 'no-such-type'" }),
        expect.objectContaining({ node: 'out', field: 'inputs.value' }),
      ]),
    );
    expect((await t.api('GET', '/api/workflows')).body.workflows.length).toBe(before);
  });

  test('an update to an invalid workflow is refused and the saved version stays', async () => {
    const { id } = (await t.api('POST', '/api/workflows', workflows.caption())).body;
    const reply = await t.api('PUT', `/api/workflows/${id}`, { version: 1, nodes: { x: { type: 'nope' } } });
    expect(reply.status).toBe(400);
    expect((await t.api('GET', `/api/workflows/${id}`)).body).toMatchObject({ version: 1, workflow: workflows.caption() });
    expect((await t.api('PUT', '/api/workflows/no-such-id', workflows.caption())).status).toBe(404);
  });

  test('a prompt with {variables} saves: they are run inputs to come', async () => {
    const templated = workflows.caption('a {colour} circle');
    expect((await t.api('POST', '/api/workflows', templated)).status).toBe(201);
  });
});

describe('validation', () => {
  test('POST /api/workflows/validate answers ok or the list of problems', async () => {
    expect((await t.api('POST', '/api/workflows/validate', workflows.caption())).body).toEqual({ ok: true, errors: [] });
    const cyclic = {
      version: 1,
      nodes: {
        a: { type: 'text', inputs: { a: ['b', 'text'] } },
        b: { type: 'text', inputs: { a: ['a', 'text'] } },
        out: { type: 'output', inputs: { value: ['a', 'text'] } },
      },
    };
    const reply = await t.api('POST', '/api/workflows/validate', cyclic);
    expect(reply.status).toBe(200);
    expect(reply.body.ok).toBe(false);
    expect(reply.body.errors[0]).toMatchObject({ field: 'inputs', message: expect.stringMatching(/^cycle/) });
  });

  test('with run inputs, validation checks those inputs too', async () => {
    const reply = await t.api('POST', '/api/workflows/validate', { workflow: workflows.caption(), inputs: { nobody: 'x' } });
    expect(reply.body).toMatchObject({ ok: false, errors: [{ node: null, field: 'inputs.nobody' }] });
  });
});

describe('bad input', () => {
  test('malformed JSON gets 400 with a clear message', async () => {
    const reply = await t.api('POST', '/api/workflows', '{"version": 1, "nodes": {');
    expect(reply.status).toBe(400);
    expect(reply.body.error).toMatch(/^malformed JSON body/);
  });

  test('a body over the size limit gets 413', async () => {
    const huge = { version: 1, name: 'x'.repeat(3 * 1024 * 1024), nodes: {} };
    const reply = await t.api('POST', '/api/workflows/validate', huge);
    expect(reply.status).toBe(413);
    expect(reply.body.error).toMatch(/larger than the limit/);
  });

  test('a body that is not an object gets 400', async () => {
    const reply = await t.api('POST', '/api/workflows', [1, 2]);
    expect(reply.status).toBe(400);
    expect(reply.body.error).toMatch(/expected a JSON object/);
  });

  test('a body that is not JSON is refused with 415, not ignored', async () => {
    const reply = await t.api('POST', '/api/runs', 'subject=cat', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(reply.status).toBe(415);
    expect(reply.body.error).toBe('send the body as application/json');
  });

  test('a browser page of another origin cannot act on the server or listen to its events', async () => {
    const foreign = { origin: 'https://evil.example' };
    const post = await t.api('POST', '/api/runs', { workflow: workflows.caption() }, foreign);
    expect(post.status).toBe(403);
    expect(post.body.error).toMatch(/cross-origin/);
    expect((await t.api('GET', '/api/health', undefined, foreign)).status).toBe(200);
    const own = { origin: t.url };
    expect((await t.api('POST', '/api/workflows/validate', workflows.caption(), own)).status).toBe(200);

    const { io } = await import('socket.io-client');
    const socket = io(t.url, { transports: ['polling'], reconnection: false, extraHeaders: foreign });
    try {
      const connected = new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
      await expect(connected).rejects.toThrow();
    } finally {
      socket.close();
    }
  });

  test('an unknown endpoint gets a JSON 404', async () => {
    const reply = await t.api('GET', '/api/nothing-here');
    expect(reply.status).toBe(404);
    expect(reply.body.error).toBe('no such endpoint: GET /api/nothing-here');
    expect((await t.api('POST', '/elsewhere', {})).body).toEqual({ error: 'no such endpoint: POST /elsewhere' });
    expect((await t.api('GET', '/api')).status).toBe(404);
  });

  test('after all of that the server still serves, with security headers', async () => {
    const reply = await t.api('GET', '/api/health');
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ name: 'picflow', queue: { waiting: 0, running: 0 } });
    expect(reply.headers.get('x-content-type-options')).toBe('nosniff');
    expect(reply.headers.get('x-request-id')).toBeTruthy();
  });
});

describe('catalog and editor', () => {
  test('GET /api/nodes lists every node type with JSON Schema params', async () => {
    const reply = await t.api('GET', '/api/nodes');
    const prompt = reply.body.find((n: { type: string }) => n.type === 'prompt');
    expect(prompt).toMatchObject({ category: 'text', outputs: [{ name: 'text', type: 'text' }] });
    expect(prompt.params.properties.text.type).toBe('string');
  });

  test('GET /api/models reports the device and the bundles', async () => {
    const reply = await t.api('GET', '/api/models');
    expect(reply.status).toBe(200);
    expect(reply.body.device.provider).toMatch(/^(cpu|cuda)$/);
    expect(reply.body.models.map((m: { name: string }) => m.name)).toContain('tiny-shapes');
  });

  test('GET /api/templates offers the example workflows', async () => {
    const reply = await t.api('GET', '/api/templates');
    expect(reply.body.templates.length).toBeGreaterThan(0);
    expect(reply.body.templates[0]).toMatchObject({ id: expect.any(String), workflow: { version: 1 } });
  });

  test('the editor is served at /, or a clear message when it is not built; other paths get a JSON 404', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const editorDir = await mkdtemp(join(tmpdir(), 'picflow-editor-'));
    const withEditor = await startTestServer({ editorDir });
    try {
      const missing = await withEditor.api('GET', '/');
      expect(missing.status).toBe(404);
      expect(missing.body).toMatch(/has not been built/);

      await writeFile(join(editorDir, 'index.html'), '<!doctype html><title>picflow</title>');
      const page = await withEditor.api('GET', '/');
      expect(page.status).toBe(200);
      expect(page.body).toContain('<title>picflow</title>');
      for (const path of ['/workflows/some-id', '/api/unknown', '/favicon.ico']) {
        expect(await withEditor.api('GET', path)).toMatchObject({ status: 404, body: { error: `no such endpoint: GET ${path}` } });
      }
    } finally {
      await withEditor.close();
      await rm(editorDir, { recursive: true, force: true });
    }
  });
});
