// What the hook door does before a call: the security headers every answer carries, as the app's do, and the JSON
// body, read on its own fast path for the common request (Content-Length, UTF-8) and through express.json for any
// other (chunked, compressed), with the same answers and the same refusals on both.
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestServer, workflows, type TestServer } from './server-harness';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  const { id } = (await t.api('POST', '/api/workflows', workflows.caption())).body;
  await t.api('PUT', `/api/workflows/${id}/trigger`, { slug: 'caption', mode: 'sync' });
});
afterAll(() => t.close());

async function call(body: BodyInit, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const init: RequestInit & { duplex?: 'half' } = { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body };
  if (body instanceof ReadableStream) init.duplex = 'half';
  const response = await fetch(`${t.url}/hooks/caption`, init);
  return { status: response.status, body: await response.json() };
}

/** A body sent in two chunks with no Content-Length (Transfer-Encoding: chunked). */
function chunked(text: string): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  const half = Math.floor(bytes.length / 2);
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes.slice(0, half));
      controller.enqueue(bytes.slice(half));
      controller.close();
    },
  });
}

describe('hook call bodies', () => {
  test('plain, with a byte order mark, with a charset, chunked or gzip-compressed: the same run inputs', async () => {
    const subject = 'é ✓ "quoted"';
    const json = JSON.stringify({ subject });
    const answers = [
      await call(json),
      await call(`\uFEFF${json}`),
      await call(json, { 'content-type': 'application/json; charset=UTF-8' }),
      await call(chunked(json)),
      await call(gzipSync(json), { 'content-encoding': 'gzip' }),
    ];
    for (const answer of answers) {
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      expect(answer.body.outputs.caption.value).toBe(`${subject} in the center`);
    }
  });

  test('an empty body is no inputs: the workflow runs with its own prompt', async () => {
    const answer = await call('');
    expect(answer.status).toBe(200);
    expect(answer.body.outputs.caption.value).toBe('a red circle in the center');
  });

  test('malformed JSON, a JSON value that is no object or array, and a body over the limit are refused, on either path', async () => {
    for (const body of ['{"subject": ', '"a string"', '42']) {
      for (const sent of [body, chunked(body)]) {
        const answer = await call(sent);
        expect(answer.status).toBe(400);
        expect(answer.body.error).toMatch(/^malformed JSON body/);
      }
    }
    const big = JSON.stringify({ subject: 'x'.repeat(2 * 1024 * 1024) });
    for (const sent of [big, chunked(big)]) {
      const answer = await call(sent);
      expect(answer.status).toBe(413);
      expect(answer.body.error).toBe('the body is larger than the limit of 2097152 bytes');
    }
    // The server is still up and serving calls.
    expect((await call(JSON.stringify({ subject: 'after' }))).body.outputs.caption.value).toBe('after in the center');
  });
});

describe('security headers', () => {
  test("a hook call's answer and an API answer carry the same security headers, and no X-Powered-By", async () => {
    const hook = await fetch(`${t.url}/hooks/caption`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const api = await fetch(`${t.url}/api/workflows`);
    await Promise.all([hook.text(), api.text()]);
    const security = (response: Response) =>
      Object.fromEntries(['content-security-policy', 'x-content-type-options', 'x-frame-options', 'strict-transport-security', 'referrer-policy', 'cross-origin-opener-policy', 'x-powered-by'].map((name) => [name, response.headers.get(name)]));
    expect(security(hook)).toEqual(security(api));
    expect(security(hook)).toMatchObject({ 'x-content-type-options': 'nosniff', 'x-frame-options': 'SAMEORIGIN', 'x-powered-by': null });
    expect(security(hook)['content-security-policy']).toMatch(/img-src 'self' data: blob:/);
    expect(security(hook)['content-security-policy']).not.toMatch(/upgrade-insecure-requests/);
  });
});

describe('the request log', () => {
  test('one line a request, with its id and status, whether the client waits for the answer or hangs up first', async () => {
    const lines: Record<string, any>[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const logged = await startTestServer({ logger });
    try {
      const { id } = (await logged.api('POST', '/api/workflows', workflows.caption())).body;
      await logged.api('PUT', `/api/workflows/${id}/trigger`, { slug: 'caption', mode: 'sync' });
      const answer = await fetch(`${logged.url}/hooks/caption`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'call-1' }, body: '{}' });
      await answer.text();
      const missing = await fetch(`${logged.url}/hooks/nothing-here`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'call-2' }, body: '{}' });
      await missing.text();
      // A client that promises a body and hangs up halfway.
      const { port } = new URL(logged.url);
      await new Promise<void>((resolve) => {
        const socket = connect(Number(port), '127.0.0.1', () => {
          socket.write('POST /hooks/caption HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-Request-Id: call-3\r\nContent-Length: 100\r\n\r\n{"sub');
          setTimeout(() => socket.destroy(), 100);
        });
        socket.on('close', () => resolve());
      });
      const of = async (requestId: string) => {
        for (let i = 0; i < 100 && !lines.some((l) => l.req?.id === requestId); i++) await new Promise((r) => setTimeout(r, 20));
        return lines.filter((l) => l.req?.id === requestId);
      };
      expect(await of('call-1')).toEqual([expect.objectContaining({ msg: 'request completed', level: 30, req: { id: 'call-1', method: 'POST', url: '/hooks/caption' }, res: { statusCode: 200 } })]);
      expect(answer.headers.get('x-request-id')).toBe('call-1');
      expect(await of('call-2')).toEqual([expect.objectContaining({ msg: 'request completed', level: 40, res: { statusCode: 404 } })]);
      // Its answer (400) goes nowhere, but the line says what happened.
      expect(await of('call-3')).toEqual([expect.objectContaining({ level: 40, res: { statusCode: 400 }, error: 'request aborted' })]);
    } finally {
      await logged.close();
    }
  });
});
