import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { png, startTestServer, upload, workflows, type TestServer } from './server-harness';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer({ limits: { uploadBytes: 64 * 1024, uploadPixels: 512 * 512 } });
});
afterAll(() => t.close());

describe('uploads and artifacts', () => {
  test('an uploaded image gets a content-addressed id that load-image can use', async () => {
    const bytes = await png(10, 6);
    const first = await upload(t.url, bytes, 'a.png', 'image');
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ artifact: expect.stringMatching(/^[0-9a-f]{64}$/), width: 10, height: 6, contentType: 'image/png' });
    // The same bytes are the same artifact.
    expect((await upload(t.url, bytes, 'b.png')).body.artifact).toBe(first.body.artifact);

    const served = await fetch(t.url + first.body.url);
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(served.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(Buffer.from(await served.arrayBuffer()).equals(bytes)).toBe(true);

    const run = await t.api('POST', '/api/runs', { workflow: workflows.resized(first.body.artifact, 20, 12), wait: true });
    expect(run.body).toMatchObject({ status: 'succeeded', nodes: { load: { outputs: { image: { width: 10, height: 6 } } } } });
  });

  test('a JPEG keeps its type', async () => {
    const jpeg = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#0f0' } }).jpeg().toBuffer();
    const reply = await upload(t.url, jpeg, 'x.jpg');
    expect(reply.body.contentType).toBe('image/jpeg');
    expect((await fetch(t.url + reply.body.url)).headers.get('content-type')).toBe('image/jpeg');
  });

  test('a file that is not an image is refused', async () => {
    const reply = await upload(t.url, Buffer.from('#!/bin/sh\necho hello\n'), 'image.png');
    expect(reply.status).toBe(415);
    expect(reply.body.error).toMatch(/not an image/);
  });

  test('a truncated PNG is refused', async () => {
    const bytes = await png(64, 64, { r: 1, g: 2, b: 3 });
    const reply = await upload(t.url, bytes.subarray(0, bytes.length - 40));
    expect(reply.status).toBe(415);
  });

  test('SVG is refused: it would be served back as active content', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><script>alert(1)</script></svg>');
    const reply = await upload(t.url, svg, 'x.svg');
    expect(reply.status).toBe(415);
    expect(reply.body.error).toMatch(/svg/);
  });

  test('size and pixel limits give 413', async () => {
    const big = await sharp({ create: { width: 600, height: 600, channels: 3, background: '#123' } }).png({ compressionLevel: 9 }).toBuffer();
    const tooManyPixels = await upload(t.url, big);
    expect(tooManyPixels.status).toBe(413);
    expect(tooManyPixels.body.error).toMatch(/600×600/);
    const noise = await sharp(Buffer.from(Array.from({ length: 200 * 200 * 3 }, (_, i) => (i * 7919) % 251)), {
      raw: { width: 200, height: 200, channels: 3 },
    })
      .png({ compressionLevel: 0 })
      .toBuffer();
    const tooLarge = await upload(t.url, noise);
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body.error).toMatch(/larger than the limit/);
  });

  test('an upload without a file is 400, one that is not multipart 415', async () => {
    const empty = await fetch(`${t.url}/api/uploads`, { method: 'POST', body: new FormData() });
    expect(empty.status).toBe(400);
    expect((await t.api('POST', '/api/uploads', { image: 'x' })).status).toBe(415);
  });

  test('artifact ids that are not sha256 hex never reach the filesystem', async () => {
    for (const id of ['..%2F..%2Fpicflow.db', '..%2Fartifacts', 'ABC', '%2Fetc%2Fpasswd', `${'a'.repeat(64)}.png`]) {
      const reply = await t.api('GET', `/api/artifacts/${id}`);
      expect(reply.status).toBe(400);
      expect(reply.body.error).toMatch(/64 lowercase hex/);
    }
    expect((await t.api('GET', `/api/artifacts/${'0'.repeat(64)}`)).status).toBe(404);
    // Nothing was written outside the shards and tmp.
    const entries = await readdir(join(t.dataDir, 'artifacts'));
    expect(entries.every((e) => /^[0-9a-f]{2}$/.test(e) || e === 'tmp')).toBe(true);
  });
});
