// Issue 12, defects 5 and 6, written as the attacks: DNS rebinding (a foreign Host) on HTTP, socket.io
// and WebSocket upgrades; a public bind without a token; the API and socket.io without, with a bad
// or with a too-weak token; a trigger's token changed without admin rights.

import { execFile } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import type { Scope } from '../server/auth/scopes';
import { TokenStore } from '../server/auth/token-store';
import { Database } from '../server/db';
import { createLogger } from '../server/logger';
import { migrate } from '../server/migrations';
import { databasePath, startServer } from '../server/start';
import { createToken, request, startTestServer, testCatalog, workflows, type TestServer } from './server-harness';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const EVIL = 'x.evil:8188';

/** An HTTP request with a Host of our choosing (fetch always sends the URL's own). */
function raw(url: string, path: string, options: { method?: string; headers?: Record<string, string>; body?: unknown } = {}) {
  return new Promise<{ status: number; body: any }>((resolve, reject) => {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const req = httpRequest(url + path, {
      method: options.method ?? 'GET',
      headers: { ...(body !== undefined && { 'content-type': 'application/json' }), ...options.headers },
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: text.startsWith('{') ? JSON.parse(text) : text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A real WebSocket handshake on `path`: 101 when upgraded, else the status the server refused it with. */
function upgrade(url: string, path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url.replace(/^http/, 'ws') + path, { headers });
    socket.once('open', () => {
      socket.close();
      resolve(101);
    });
    socket.once('unexpected-response', (_req, res) => {
      res.resume();
      resolve(res.statusCode!);
    });
    socket.once('error', reject);
  });
}

/** Whether a socket.io client with these options connects, or the status of its refusal. */
async function socketOutcome(url: string, options: { token?: string; header?: string }): Promise<'connected' | number> {
  const { io } = await import('socket.io-client');
  const socket = io(url, {
    transports: ['websocket'],
    reconnection: false,
    ...(options.token !== undefined && { auth: { token: options.token } }),
    ...(options.header !== undefined && { extraHeaders: { authorization: options.header } }),
  });
  try {
    return await new Promise((resolve) => {
      socket.once('connect', () => resolve('connected'));
      socket.once('connect_error', (err: Error & { data?: { status?: number } }) => resolve(err.data?.status ?? -1));
    });
  } finally {
    socket.close();
  }
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('Host allow-list (DNS rebinding), on loopback without --auth', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ allowedHosts: ['picflow.lan', 'Studio.Example.com:8188'] });
  });
  afterAll(() => t.close());

  test('a rebound page (foreign Host, matching Origin) can neither read nor start runs: 403 naming the host', async () => {
    const rebound = { host: EVIL, origin: `http://${EVIL}` };
    const read = await raw(t.url, '/api/runs', { headers: rebound });
    expect(read.status).toBe(403);
    expect(read.body.error).toMatch(/host 'x\.evil:8188' is not allowed/);
    const run = await raw(t.url, '/api/runs', { method: 'POST', headers: rebound, body: { workflow: workflows.caption() } });
    expect(run.status).toBe(403);
    expect((await t.api('GET', '/api/runs')).body.runs).toEqual([]);
    // Not only the API: the editor's pages and the hooks answer to allowed names only.
    expect((await raw(t.url, '/', { headers: rebound })).status).toBe(403);
    expect((await raw(t.url, '/hooks/anything', { method: 'POST', headers: rebound, body: {} })).status).toBe(403);
  });

  test('loopback names with any port, IP addresses and configured names are served; the Origin check stays', async () => {
    for (const host of ['localhost:8188', '127.0.0.1:1', '[::1]:8188', 'LOCALHOST', 'picflow.lan:8188', 'picflow.lan', 'studio.example.com:80', '192.168.1.20:8188']) {
      expect({ host, status: (await raw(t.url, '/api/health', { headers: { host } })).status }).toEqual({ host, status: 200 });
    }
    for (const host of ['picflow.lan.evil:8188', 'evil-picflow.lan', 'localhost.evil', 'x.evil', 'x.evil:']) {
      expect({ host, status: (await raw(t.url, '/api/health', { headers: { host } })).status }).toEqual({ host, status: 403 });
    }
    // An allowed Host with another page's Origin is still a cross-origin request.
    const csrf = await raw(t.url, '/api/runs', { method: 'POST', headers: { host: 'picflow.lan:8188', origin: 'http://x.evil' }, body: { workflow: workflows.caption() } });
    expect(csrf.status).toBe(403);
    expect(csrf.body.error).toMatch(/cross-origin/);
  });

  test('socket.io refuses a foreign Host on the WebSocket upgrade and on the polling handshake (403)', async () => {
    expect(await upgrade(t.url, '/socket.io/?EIO=4&transport=websocket', { host: EVIL, origin: `http://${EVIL}` })).toBe(403);
    expect(await upgrade(t.url, '/socket.io/?EIO=4&transport=websocket', { host: EVIL })).toBe(403);
    const polling = await raw(t.url, '/socket.io/?EIO=4&transport=polling', { headers: { host: EVIL } });
    expect(polling.status).toBe(403);
    expect(polling.body.message).toMatch(/x\.evil/);
    // Its own name is upgraded, so the refusals above are the Host's doing.
    expect(await upgrade(t.url, '/socket.io/?EIO=4&transport=websocket', { host: 'localhost:8188' })).toBe(101);
    expect(await upgrade(t.url, '/socket.io/?EIO=4&transport=websocket', { host: 'localhost:8188', origin: 'http://x.evil' })).toBe(403);
  });

  test('a plain WebSocket upgrade anywhere else is refused for a foreign Host before any handler sees it', async () => {
    expect(await upgrade(t.url, '/ws?clientId=1', { host: EVIL })).toBe(403);
  });

  test('without --auth on loopback no token is needed, as before', async () => {
    const reply = await t.api('POST', '/api/runs', { workflow: workflows.caption(), wait: true });
    expect(reply.status).toBe(200);
    expect(await socketOutcome(t.url, {})).toBe('connected');
  });
});

describe('starting', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'picflow-auth-'));
  });
  afterAll(() => rm(dataDir, { recursive: true, force: true }));

  const start = (options: { host?: string; auth?: boolean }) =>
    startServer({ port: 0, dataDir, catalog: testCatalog, logger: createLogger('silent'), ...options });

  test('a public bind without a token refuses to start, with one line saying what to do', async () => {
    await expect(start({ host: '0.0.0.0' })).rejects.toThrow(
      /^refusing to serve on 0\.0\.0\.0 without an API token .*: create one with `picflow token create --data .*`, or bind 127\.0\.0\.1$/,
    );
    await expect(start({ auth: true })).rejects.toThrow(/^--auth is on but there is no API token yet/);
  });

  test('`picflow serve --host 0.0.0.0` exits 1 with that line; with a token it serves and requires it', async () => {
    const cli = (args: string[]) => promisify(execFile)(process.execPath, ['--import', 'tsx', join(ROOT, 'cli', 'picflow.ts'), ...args], { cwd: ROOT });
    const emptyDir = await mkdtemp(join(tmpdir(), 'picflow-auth-'));
    const [refused, created] = await Promise.all([
      cli(['serve', '--host', '0.0.0.0', '--port', '0', '--data', emptyDir]).catch((err) => err),
      cli(['token', 'create', '--scope', 'read', '--name', 'dashboard', '--data', dataDir]),
    ]);
    await rm(emptyDir, { recursive: true, force: true });
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toMatch(/^picflow: refusing to serve on 0\.0\.0\.0 without an API token/);

    const token = created.stdout.trim();
    expect(token).toMatch(/^pf_[\w-]{43}$/);
    expect(created.stderr).toMatch(/with the read scope; it is not shown again/);
    const listed = JSON.parse((await cli(['token', 'list', '--json', '--data', dataDir])).stdout);
    expect(listed).toEqual([{ id: expect.any(String), name: 'dashboard', scope: 'read', createdAt: expect.any(Number), lastUsedAt: null }]);
    // Stored hashed: the token itself is nowhere in the database.
    const db = await Database.open(databasePath(dataDir));
    const rows = await db.all<Record<string, unknown>>('SELECT * FROM api_tokens');
    await db.close();
    expect(JSON.stringify(rows)).not.toContain(token.slice(3));

    const server = await start({ host: '0.0.0.0' });
    try {
      const local = `http://127.0.0.1:${server.port}`;
      expect((await request(local, 'GET', '/api/health')).status).toBe(401);
      expect((await request(local, 'GET', '/api/health', undefined, bearer(token))).status).toBe(200);
      expect(await socketOutcome(local, {})).toBe(401);
      expect(await socketOutcome(local, { token })).toBe('connected');
    } finally {
      await server.close();
    }

    expect((await cli(['token', 'revoke', listed[0].id, '--data', dataDir])).stdout.trim()).toBe(`revoked token ${listed[0].id}`);
    await expect(start({ host: '0.0.0.0' })).rejects.toThrow(/refusing to serve/);
  }, 120_000);
});

describe('API tokens (serve --auth)', () => {
  let t: TestServer;
  const tokens = {} as Record<Scope, string>;
  let workflowId: string;
  beforeAll(async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'picflow-server-'));
    for (const scope of ['read', 'run', 'admin'] as const) tokens[scope] = await createToken(dataDir, scope);
    t = await startTestServer({ dataDir, auth: true });
    workflowId = (await t.api('POST', '/api/workflows', workflows.caption(), bearer(tokens.run))).body.id;
  });
  afterAll(() => t.close());

  test('an API call without a token, or with a wrong one, gets 401 and a Bearer challenge', async () => {
    for (const headers of [{}, bearer('pf_not-a-token'), { authorization: 'Basic dXNlcjpwYXNz' }, { authorization: `Bearer ${tokens.read}x` }]) {
      for (const [method, path] of [
        ['GET', '/api/runs'],
        ['GET', '/api/health'],
        ['GET', `/api/workflows/${workflowId}`],
        ['DELETE', `/api/workflows/${workflowId}`],
        ['POST', '/api/runs'],
        ['GET', '/api/nothing-here'],
      ]) {
        const reply = await t.api(method, path, method === 'POST' ? { workflow: workflows.caption() } : undefined, headers);
        expect({ method, path, status: reply.status }).toEqual({ method, path, status: 401 });
        expect(reply.headers.get('www-authenticate')).toBe('Bearer realm="picflow"');
      }
    }
    expect((await t.api('GET', `/api/workflows/${workflowId}`, undefined, bearer(tokens.read))).status).toBe(200);
    expect((await t.api('GET', '/api/runs', undefined, bearer(tokens.read))).body.runs).toEqual([]);
  });

  test("ComfyUI's routes and /ws need the token too, bare and under /api", async () => {
    for (const path of ['/prompt', '/api/prompt']) {
      const reply = await t.api('POST', path, { prompt: {} });
      expect({ path, status: reply.status }).toEqual({ path, status: 401 });
    }
    for (const path of ['/history', '/object_info', '/queue', '/api/queue']) {
      expect({ path, status: (await t.api('GET', path)).status }).toEqual({ path, status: 401 });
      expect({ path, status: (await t.api('GET', path, undefined, bearer(tokens.read))).status }).toEqual({ path, status: 200 });
    }
    expect((await t.api('POST', '/prompt', { prompt: {} }, bearer(tokens.read))).status).toBe(403);
    expect(await upgrade(t.url, '/ws?clientId=a')).toBe(401);
    expect(await upgrade(t.url, `/ws?clientId=a&token=${tokens.read}x`)).toBe(401);
    expect(await upgrade(t.url, '/ws?clientId=a', { authorization: `Bearer ${tokens.read}` })).toBe(101);
    expect(await upgrade(t.url, `/api/ws?clientId=a&token=${tokens.read}`)).toBe(101);
  });

  test('a token whose scope is too low gets 403 naming the scope needed; nothing happens', async () => {
    const run = await t.api('POST', '/api/runs', { workflowId }, bearer(tokens.read));
    expect(run.status).toBe(403);
    expect(run.body.error).toBe("this needs a token with the run scope; token 'read' has read");
    expect(run.headers.get('www-authenticate')).toMatch(/error="insufficient_scope", scope="run"/);
    expect((await t.api('DELETE', `/api/workflows/${workflowId}`, undefined, bearer(tokens.read))).status).toBe(403);
    expect((await t.api('GET', '/api/runs', undefined, bearer(tokens.read))).body.runs).toEqual([]);

    const ran = await t.api('POST', '/api/runs', { workflowId, wait: true }, bearer(tokens.run));
    expect(ran.body).toMatchObject({ status: 'succeeded', outputs: { caption: { value: 'a red circle in the center' } } });
    expect((await t.api('POST', '/api/runs', { workflowId, wait: true }, bearer(tokens.admin))).body.status).toBe('succeeded');
  });

  test("a trigger's token cannot be set, cleared or the trigger removed without admin; hooks keep their own token", async () => {
    const set = await t.api('PUT', `/api/workflows/${workflowId}/trigger`, { slug: 'guarded', mode: 'sync', token: 'hook-secret-1' }, bearer(tokens.admin));
    expect(set.status).toBe(200);
    for (const scope of ['read', 'run'] as const) {
      const cleared = await t.api('PUT', `/api/workflows/${workflowId}/trigger`, { slug: 'guarded', mode: 'sync', token: null }, bearer(tokens[scope]));
      expect(cleared.status).toBe(403);
      expect((await t.api('DELETE', `/api/workflows/${workflowId}/trigger`, undefined, bearer(tokens[scope]))).status).toBe(403);
    }
    const { body } = await t.api('PUT', `/api/workflows/${workflowId}/trigger`, { slug: 'guarded', mode: 'sync' }, bearer(tokens.run));
    expect(body.error).toBe("this needs a token with the admin scope; token 'run' has run");
    expect((await t.api('PUT', `/api/workflows/${workflowId}/trigger`, { slug: 'guarded', mode: 'sync', token: null })).status).toBe(401);
    // The trigger is as the admin left it: the hook still wants its own token, and an API token is not it.
    expect((await t.api('GET', `/api/workflows/${workflowId}/trigger`, undefined, bearer(tokens.read))).body).toMatchObject({ hasToken: true });
    expect((await t.api('POST', '/hooks/guarded', {})).status).toBe(401);
    expect((await t.api('POST', '/hooks/guarded', {}, bearer(tokens.admin))).status).toBe(401);
    const hook = await t.api('POST', '/hooks/guarded', { subject: 'a hook' }, bearer('hook-secret-1'));
    expect(hook.body).toMatchObject({ status: 'succeeded', outputs: { caption: { value: 'a hook in the center' } } });
  });

  test('socket.io needs a read token (handshake auth or Authorization header); a client with one sees run events', async () => {
    expect(await socketOutcome(t.url, {})).toBe(401);
    expect(await socketOutcome(t.url, { token: 'pf_wrong' })).toBe(401);
    expect(await socketOutcome(t.url, { header: `Bearer ${tokens.read}` })).toBe('connected');

    const { io } = await import('socket.io-client');
    const watcher = io(t.url, { transports: ['websocket'], reconnection: false, auth: { token: tokens.read } });
    try {
      const finished = new Promise<{ runId: string; status: string }>((resolve) => watcher.on('run:finished', resolve));
      await new Promise<void>((resolve) => watcher.once('connect', () => resolve()));
      const { runId } = (await t.api('POST', '/api/runs', { workflowId }, bearer(tokens.run))).body;
      expect(await finished).toMatchObject({ runId, status: 'succeeded' });
    } finally {
      watcher.close();
    }
  });

  test('a revoked token is refused from its next request on, and its socket is cut at its next subscribe', async () => {
    const dataDir = t.dataDir;
    const token = await createToken(dataDir, 'read', 'short-lived');
    expect((await t.api('GET', '/api/runs', undefined, bearer(token))).status).toBe(200);
    const { io } = await import('socket.io-client');
    const socket = io(t.url, { transports: ['websocket'], reconnection: false, auth: { token } });
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));

    const db = await Database.open(databasePath(dataDir));
    const store = new TokenStore(db);
    const { id } = (await store.list()).find((entry) => entry.name === 'short-lived')!;
    expect(await store.revoke(id)).toBe(true);
    await db.close();

    expect((await t.api('GET', '/api/runs', undefined, bearer(token))).status).toBe(401);
    const answer = await socket.timeout(5_000).emitWithAck('subscribe', { all: true });
    expect(answer).toEqual({ ok: false, error: 'the API token was revoked' });
    await expect.poll(() => socket.connected).toBe(false);
    socket.close();
  });

  test('the editor page itself needs no token (it asks for one), but the Host is still checked', async () => {
    expect((await t.api('GET', '/')).status).not.toBe(401);
    expect((await raw(t.url, '/', { headers: { host: EVIL } })).status).toBe(403);
  });
});
