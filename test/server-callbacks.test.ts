import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { resolveCallbackTarget } from '../server/hooks/callback-target';
import { startTestServer, workflows, type TestServer } from './server-harness';

/** Receives callbacks, answering each with the next status of `answers` (the last one repeats). */
let receiver: Server;
let receiverUrl: string;
const received: { attempt: string; body: string }[] = [];
let answers: number[] = [];
beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      received.push({ attempt: String(req.headers['picflow-delivery-attempt']), body });
      res.statusCode = answers.length > 1 ? answers.shift()! : answers[0];
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/done`;
});
afterAll(() => new Promise((resolve) => receiver.close(resolve)));

async function hook(t: TestServer, slug: string) {
  const { id } = (await t.api('POST', '/api/workflows', workflows.caption())).body;
  expect((await t.api('PUT', `/api/workflows/${id}/trigger`, { mode: 'sync', slug })).status).toBe(200);
}

async function attemptsOf(t: TestServer, runId: string, count: number) {
  for (;;) {
    const run = (await t.api('GET', `/api/runs/${runId}`)).body;
    if (run.callbacks.length >= count) return run.callbacks as { attempt: number; status: number | null; error: string | null }[];
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('callbackUrl: no server-side request forgery', () => {
  const internal = [
    'http://127.0.0.1:8188/',
    'http://127.9.9.9/',
    'http://localhost:8080/x',
    'http://10.1.2.3/',
    'http://172.16.0.1/',
    'http://172.31.255.255/',
    'http://192.168.1.1/',
    'http://169.254.169.254/latest/meta-data/',
    'http://100.64.0.1/',
    'http://224.0.0.1/',
    'http://0.0.0.0:80/',
    'http://[::1]/',
    'http://[::]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:a9fe:a9fe]/',
    'http://[fe80::1]/',
    'http://[fd12:3456::1]/',
    'http://[ff02::1]/',
    'https://2130706433/', // 127.0.0.1 written as one number
  ];
  test.each(internal)('%s is refused', async (url) => {
    await expect(resolveCallbackTarget(url, false)).rejects.toThrow(/internal address/);
  });

  test('public addresses pass; other schemes never do; the operator may allow internal ones', async () => {
    await expect(resolveCallbackTarget('https://93.184.216.34/hook', false)).resolves.toMatchObject({ address: '93.184.216.34', family: 4 });
    await expect(resolveCallbackTarget('http://[2606:4700::1111]/', false)).resolves.toMatchObject({ address: '2606:4700::1111', family: 6 });
    await expect(resolveCallbackTarget('http://172.32.0.1/', false)).resolves.toMatchObject({ address: '172.32.0.1' });
    for (const url of ['file:///etc/passwd', 'ftp://93.184.216.34/', 'gopher://93.184.216.34/']) {
      await expect(resolveCallbackTarget(url, true)).rejects.toThrow(/only http and https/);
    }
    await expect(resolveCallbackTarget('http://127.0.0.1:1/', true)).resolves.toMatchObject({ address: '127.0.0.1' });
  });

  test('a hook call whose callbackUrl is internal is 400 naming callbackUrl, and no run is made', async () => {
    const t = await startTestServer();
    try {
      await hook(t, 'guarded');
      for (const url of [receiverUrl, 'http://[::ffff:7f00:1]/', 'http://localhost/']) {
        const reply = await t.api('POST', `/hooks/guarded?callbackUrl=${encodeURIComponent(url)}`, { subject: 'x' });
        expect(reply.status, url).toBe(400);
        expect(reply.body.errors[0]).toMatchObject({ field: 'callbackUrl', message: expect.stringMatching(/internal address/) });
      }
      expect((await t.api('GET', '/api/runs')).body.runs).toHaveLength(0);
    } finally {
      await t.close();
    }
  });
});

describe('durable callbacks', () => {
  // Long enough that the restart comes before the retry is due.
  const callbacks = { backoffMs: 3000, attempts: 3, allowPrivate: true };

  test('a delivery that failed before a restart is retried after it, and the record lists every attempt', async () => {
    received.length = 0;
    answers = [500];
    const first = await startTestServer({ callbacks });
    await hook(first, 'durable');
    const accepted = await first.api('POST', `/hooks/durable?callbackUrl=${encodeURIComponent(receiverUrl)}`, { subject: 'kept' });
    expect(accepted.status).toBe(202);
    const { runId } = accepted.body;
    expect(await attemptsOf(first, runId, 1)).toMatchObject([{ attempt: 1, status: 500 }]);
    await first.server.close();

    answers = [204];
    const second = await startTestServer({ callbacks, dataDir: first.dataDir });
    try {
      const attempts = await attemptsOf(second, runId, 2);
      expect(attempts.map((a) => [a.attempt, a.status, a.error])).toEqual([
        [1, 500, 'the receiver answered 500'],
        [2, 204, null],
      ]);
      expect(received.map((r) => r.attempt)).toEqual(['1', '2']);
      expect(JSON.parse(received[1].body)).toMatchObject({ id: runId, status: 'succeeded', outputs: { caption: { value: 'kept in the center' } } });
      expect(received[1].body).toBe(received[0].body);
    } finally {
      await second.close();
    }
  });

  test('the address is checked again at delivery: a retry to an address no longer allowed is refused and recorded', async () => {
    received.length = 0;
    answers = [500];
    const first = await startTestServer({ callbacks });
    await hook(first, 'rechecked');
    const { runId } = (await first.api('POST', `/hooks/rechecked?callbackUrl=${encodeURIComponent(receiverUrl)}`, { subject: 'y' })).body;
    await attemptsOf(first, runId, 1);
    await first.server.close();

    answers = [204];
    const second = await startTestServer({ callbacks: { ...callbacks, backoffMs: 10, allowPrivate: false }, dataDir: first.dataDir });
    try {
      const attempts = await attemptsOf(second, runId, 3);
      expect(attempts.map((a) => a.status)).toEqual([500, null, null]);
      expect(attempts[1].error).toMatch(/^refused: 127\.0\.0\.1 is an internal address/);
      expect(received).toHaveLength(1);
    } finally {
      await second.close();
    }
  });
});
