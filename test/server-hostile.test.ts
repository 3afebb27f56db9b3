import { request } from 'node:http';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { manyParams, nestedJson, pngHeaderClaiming } from './hostile-inputs';
import { openGate, startTestServer, upload, workflows, type TestServer } from './server-harness';

let t: TestServer;
const logLines: { msg?: string; runId?: string; running?: string[] }[] = [];
beforeAll(async () => {
  // Warnings are kept, to see what the watchdog reports; the run budget is short so a held run goes over it.
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  t = await startTestServer({ logger: pino({ level: 'warn' }, sink), engine: { runBudgetMs: 200 }, limits: { uploadPixels: 4096 * 4096 } });
});
afterAll(() => t.close());

const out = (from: string, output: string) => ({ type: 'output', inputs: { value: [from, output] } });

/**
 * POSTs a large JSON text on a connection of its own: building such bodies blocks the test's event
 * loop for a while, and a pooled keep-alive connection may be closed by the server meanwhile.
 */
function postFresh(path: string, body: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(t.url + path, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('hostile names through HTTP (issue 12, defect 1)', () => {
  test('a link to a missing node toString is reported by validate, not accepted', async () => {
    const reply = await t.api('POST', '/api/workflows/validate', { version: 1, nodes: { o: out('toString', 'x') } });
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ ok: false, errors: [{ node: 'o', field: 'inputs.value', message: "links to missing node 'toString'" }] });
  });

  test('an output named constructor, an input named toString and a run input constructor.x are 400s naming the place', async () => {
    const source = { n: { type: 'number' } };
    const output = await t.api('POST', '/api/runs', { workflow: { version: 1, nodes: { ...source, o: out('n', 'constructor') } } });
    expect(output.status).toBe(400);
    expect(output.body.errors).toEqual([{ node: 'o', field: 'inputs.value', message: expect.stringContaining("has no output 'constructor'") }]);

    const input = await t.api('POST', '/api/runs', { workflow: { version: 1, nodes: { ...source, o: { type: 'output', inputs: { value: ['n', 'number'], toString: ['n', 'number'] } } } } });
    expect(input.status).toBe(400);
    expect(input.body.errors[0]).toMatchObject({ node: 'o', field: 'inputs.toString' });

    const runInput = await t.api('POST', '/api/runs', { workflow: { version: 1, nodes: { ...source, o: out('n', 'number') } }, inputs: { 'constructor.x': 1 } });
    expect(runInput.status).toBe(400);
    expect(runInput.body.errors[0]).toMatchObject({ node: null, field: 'inputs.constructor.x', message: expect.stringContaining("names no node 'constructor'") });
  });

  test('a template variable {toString} is a missing run input, never a native function', async () => {
    const workflow = { version: 1, nodes: { p: { type: 'prompt', params: { text: 'say {toString}' } }, o: out('p', 'text') } };
    const refused = await t.api('POST', '/api/runs', { workflow, wait: true });
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0].message).toContain('{toString} has no value');
    const filled = await t.api('POST', '/api/runs', { workflow, inputs: { toString: 'hi' }, wait: true });
    expect(filled.body.outputs.o.value).toBe('say hi');
  });

  test('a trigger whose caller sends hostile run-input keys answers 400', async () => {
    const saved = await t.api('POST', '/api/workflows', workflows.caption());
    await t.api('PUT', `/api/workflows/${saved.body.id}/trigger`, { slug: 'hostile-keys', mode: 'sync' });
    for (const key of ['constructor.x', 'toString', 'subject.__proto__']) {
      const reply = await t.api('POST', '/hooks/hostile-keys', { [key]: 1 });
      expect(reply.status, key).toBe(400);
    }
    expect((await t.api('POST', '/hooks/hostile-keys', { subject: 'a cat' })).body.outputs.caption.value).toBe('a cat in the center');
  });
});

describe('runs that would never end (issue 12, defect 2)', () => {
  test('output nodes linking to a missing node constructor are refused, and runs go on', async () => {
    for (let i = 0; i < 4; i++) {
      const reply = await t.api('POST', '/api/runs', { workflow: { version: 1, nodes: { o: out('constructor', 'value') } } });
      expect(reply.status).toBe(400);
      expect(reply.body.errors).toEqual([{ node: 'o', field: 'inputs.value', message: "links to missing node 'constructor'" }]);
    }
    const after = await t.api('POST', '/api/runs', { workflow: workflows.counted(2), wait: true });
    expect(after.body).toMatchObject({ status: 'succeeded', outputs: { count: { value: 2 } } });
  });
});

describe('limits (issue 12, defect 3)', () => {
  test('one node with 150,000 params is a 400 naming the node and the limit', async () => {
    const body = JSON.stringify({ workflow: { version: 1, nodes: { n: { type: 'number', params: manyParams(150_000) }, o: out('n', 'number') } } });
    const reply = await postFresh('/api/runs', body);
    expect(reply.status).toBe(400);
    expect(reply.body.errors).toEqual([{ node: 'n', field: 'params', message: '150000 params; the limit is 256 per node' }]);
  });

  test('a body nested past the limit is a 400 naming where, on any route', async () => {
    const workflow = JSON.stringify({ version: 1, nodes: { n: { type: 'number', params: { value: 'DEEP' } }, o: out('n', 'number') } }).replace('"DEEP"', nestedJson(100_000));
    for (const [path, body] of [['/api/runs', `{"workflow":${workflow}}`], ['/api/workflows', workflow], ['/api/workflows/validate', workflow]]) {
      const reply = await postFresh(path, body);
      expect(reply.status, path).toBe(400);
      expect(reply.body.error, path).toMatch(/^the JSON body is nested deeper than the limit of 64 levels \(at body\./);
    }
  });

  test('a body over the size limit is a 413 naming the limit', async () => {
    const reply = await t.api('POST', '/api/workflows/validate', { version: 1, nodes: {}, description: 'x'.repeat(3 * 1024 * 1024) });
    expect(reply.status).toBe(413);
    expect(reply.body.error).toBe('the body is larger than the limit of 2097152 bytes');
  });
});

describe('image budgets (issue 12, defect 10: 413)', () => {
  test('an uploaded image over the pixel limit is 413, not 415', async () => {
    const reply = await upload(t.url, pngHeaderClaiming(30_000, 30_000), 'huge.png');
    expect(reply.status).toBe(413);
    expect(reply.body.error).toBe('the image is 30000×30000; at most 16777216 pixels are accepted');
  });
});

describe('watchdog', () => {
  test('a run over its time budget is logged as a warning naming the run and its running nodes', async () => {
    const started = await t.api('POST', '/api/runs', { workflow: workflows.held('watched') });
    const { runId } = started.body;
    await expect.poll(() => logLines.find((line) => line.runId === runId), { timeout: 20_000 }).toMatchObject({ msg: 'run over its time budget', running: ['wait'] });
    openGate('watched');
    expect((await t.api('POST', '/api/runs', { workflow: workflows.counted(1), wait: true })).body.status).toBe('succeeded');
    await expect.poll(async () => (await t.api('GET', `/api/runs/${runId}`)).body.status).toBe('succeeded');
  });

  test('the server is still up and answers', async () => {
    expect((await t.api('GET', '/api/health')).status).toBe(200);
  });
});
