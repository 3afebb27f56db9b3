import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestServer, workflows, type TestServer } from './server-harness';

const ROOT = join(import.meta.dirname, '..');

/** A named prompt and a counter whose `total` is exposed as `steps`: a text and a number output. */
const typedWorkflow = workflows.captionAndCount('typed');

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  const { id } = (await t.api('POST', '/api/workflows', typedWorkflow)).body;
  const trigger = await t.api('PUT', `/api/workflows/${id}/trigger`, { slug: 'typed', mode: 'sync', inputs: [{ param: 'count.total', name: 'steps' }] });
  expect(trigger.status).toBe(200);
});
afterAll(() => t.close());

async function validate(document: unknown) {
  const validator = new Validator();
  const result = await validator.validate(document as Parameters<Validator["validate"]>[0]);
  expect(result.errors ?? [], JSON.stringify(result.errors, null, 1)).toEqual([]);
  expect(result.valid).toBe(true);
  expect(validator.version).toBe('3.1');
}

describe('OpenAPI documents', () => {
  test('the whole API validates and lists the routes with their request schemas', async () => {
    const document = (await t.api('GET', '/api/openapi.json')).body;
    await validate(document);
    expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/api/runs', '/api/runs/{id}', '/api/workflows/{id}/trigger', '/hooks/{slug}', '/api/uploads']));
    const trigger = document.paths['/api/workflows/{id}/trigger'].put.requestBody.content['application/json'].schema;
    expect(trigger.properties.rateLimit.anyOf ?? [trigger.properties.rateLimit]).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'integer', minimum: 1 })]));
    expect(document.components.schemas.Run.properties.apiVersion).toMatchObject({ const: 2 });
  });

  test("a trigger's document: the body is exactly its inputs with types, ranges and defaults; the answer names its outputs", async () => {
    const document = (await t.api('GET', '/hooks/typed/openapi.json')).body;
    await validate(document);
    const operation = document.paths['/hooks/typed'].post;
    const body = operation.requestBody.content['application/json'].schema;
    expect(Object.keys(body.properties)).toEqual(['subject', 'steps']);
    expect(body.properties.subject).toMatchObject({ type: 'string', default: 'a red circle', 'x-picflow-input': 'prompt' });
    expect(body.properties.steps).toMatchObject({ type: 'integer', minimum: 1, default: 2, 'x-picflow-input': 'param' });
    const outputs = operation.responses['200'].content['application/json'].schema.properties.outputs;
    expect(outputs.properties.caption.properties.value).toEqual({ type: 'string' });
    expect(outputs.properties.count.properties.value).toEqual({ type: 'number' });
    expect(document.security).toEqual([]);
  });

  test("a trigger with images documents its image routes: the run's images, and uploads for an image input", async () => {
    const { id } = (await t.api('POST', '/api/workflows', workflows.resized('0'.repeat(64), 3, 2))).body;
    const trigger = await t.api('PUT', `/api/workflows/${id}/trigger`, { slug: 'photo', mode: 'sync', inputs: [{ param: 'load.artifact', name: 'photo' }] });
    expect(trigger.status).toBe(200);
    const document = (await t.api('GET', '/hooks/photo/openapi.json')).body;
    await validate(document);
    expect(Object.keys(document.paths).sort()).toEqual(['/hooks/photo', '/hooks/photo/runs/{runId}', '/hooks/photo/runs/{runId}/artifacts/{artifact}', '/hooks/photo/uploads']);
    expect(Object.keys(document.paths['/hooks/photo/uploads'].post.requestBody.content)).toEqual(['image/png', 'image/jpeg', 'image/webp']);
    // A trigger of texts and numbers has neither.
    expect(Object.keys((await t.api('GET', '/hooks/typed/openapi.json')).body.paths).sort()).toEqual(['/hooks/typed', '/hooks/typed/runs/{runId}']);
  });

  test('the API reference page and its renderer are served from this server', async () => {
    const page = await fetch(`${t.url}/api/docs`);
    expect(page.headers.get('content-type')).toMatch(/html/);
    const html = await page.text();
    expect(html).not.toMatch(/https?:\/\//);
    for (const asset of ['/api/docs/assets/swagger-ui-bundle.js', '/api/docs/assets/swagger-ui.css', '/api/docs/init.js']) {
      expect(html).toContain(asset);
      const res = await fetch(t.url + asset);
      // Read the body: an unread response keeps its keep-alive socket busy until GC resets it.
      expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(0);
      expect(res.status).toBe(200);
    }
  });
});

describe('a typed client generated from the trigger document', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'picflow-client-'));
    await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test('type-checks (a wrong input type does not) and calls the trigger for its outputs', async () => {
    const document = (await t.api('GET', '/hooks/typed/openapi.json')).body;
    await writeFile(join(dir, 'schema.ts'), astToString(await openapiTS(document)));
    await writeFile(
      join(dir, 'client.ts'),
      `import createClient from 'openapi-fetch';
import type { paths } from './schema';

export async function call(baseUrl: string): Promise<{ caption: string; count: number }> {
  const client = createClient<paths>({ baseUrl });
  const { data, error } = await client.POST('/hooks/typed', { body: { subject: 'a typed call', steps: 3 } });
  // 200 is the finished run; 202 (a call that outlived the timeout) has no outputs yet.
  if (!data || !('outputs' in data)) throw new Error(JSON.stringify(error ?? data));
  return { caption: data.outputs.caption.value, count: data.outputs.count.value };
}

export function misuse(baseUrl: string) {
  const client = createClient<paths>({ baseUrl });
  // @ts-expect-error steps is a number
  return client.POST('/hooks/typed', { body: { steps: 'three' } });
}
`,
    );
    const program = ts.createProgram([join(dir, 'client.ts')], {
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      lib: ['lib.es2022.d.ts'],
      types: ['node'],
    });
    const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(problems).toEqual([]);

    const client = await import(join(dir, 'client.ts'));
    expect(await client.call(t.url)).toEqual({ caption: 'a typed call in the center', count: 3 });
  });
});
