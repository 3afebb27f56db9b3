// A saved workflow's history and the images runs leave: runs of an edited workflow recorded under it
// with their own snapshot, list filters by date, the gallery of outputs, and downloads that carry the
// run's workflow in their PNG chunks.

import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { textChunks } from './png-text-chunks';
import { png, startTestServer, upload, workflows, type TestServer } from './server-harness';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());

describe('history of a saved workflow', () => {
  test('a run of an edited workflow is recorded under it, with the graph it ran as its snapshot', async () => {
    const saved = await t.api('POST', '/api/workflows', workflows.caption('a red circle'));
    expect(saved.status).toBe(201);
    const edited = workflows.caption('a blue square');
    const run = await t.api('POST', '/api/runs', { workflow: edited, editedFrom: saved.body.id, source: 'editor', wait: true });
    expect(run.body).toMatchObject({ status: 'succeeded', workflowId: saved.body.id, workflowVersion: null, source: 'editor' });
    const byId = await t.api('POST', '/api/runs', { workflowId: saved.body.id, wait: true });
    expect(byId.body).toMatchObject({ workflowId: saved.body.id, workflowVersion: 1, source: 'api' });

    const history = await t.api('GET', `/api/runs?workflowId=${saved.body.id}`);
    expect(history.body.runs.map((r: { id: string }) => r.id)).toEqual([byId.body.id, run.body.id]);
    const older = await t.api('GET', `/api/runs/${run.body.id}`);
    expect(older.body.workflow).toEqual(edited);
    expect(older.body.outputs.caption.value).toBe('a blue square in the center');
  });

  test('editedFrom needs the workflow JSON and a workflow that exists', async () => {
    const alone = await t.api('POST', '/api/runs', { workflowId: 'x', editedFrom: 'x' });
    expect(alone.status).toBe(400);
    expect(JSON.stringify(alone.body)).toMatch(/editedFrom/);
    const unknown = await t.api('POST', '/api/runs', { workflow: workflows.caption(), editedFrom: 'no-such-workflow' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatch(/no-such-workflow/);
    expect((await t.api('POST', '/api/runs', { workflow: workflows.caption(), source: 'somewhere' })).status).toBe(400);
  });

  test('the list filters by creation time', async () => {
    const before = Date.now();
    const run = await t.api('POST', '/api/runs', { workflow: workflows.caption(), wait: true });
    const since = await t.api('GET', `/api/runs?since=${before}`);
    expect(since.body.runs.map((r: { id: string }) => r.id)).toContain(run.body.id);
    const until = await t.api('GET', `/api/runs?until=${before}`);
    expect(until.body.runs.map((r: { id: string }) => r.id)).not.toContain(run.body.id);
    expect((await t.api('GET', '/api/runs?since=yesterday')).status).toBe(400);
  });
});

describe('gallery and workflow-carrying downloads', () => {
  test('the gallery lists run images, paged; a download with ?run= carries that run in its PNG', async () => {
    const artifact = (await upload(t.url, await png(10, 6))).body.artifact;
    const ids: string[] = [];
    for (const width of [20, 24, 28]) ids.push((await t.api('POST', '/api/runs', { workflow: workflows.resized(artifact, width, 12), wait: true })).body.id);

    const first = await t.api('GET', '/api/gallery?limit=2');
    expect(first.body.items.map((i: { runId: string }) => i.runId)).toEqual([ids[2], ids[1]]);
    expect(first.body.items[0]).toMatchObject({ output: 'small', node: 'out', width: 28, height: 12, url: expect.stringMatching(/^\/api\/artifacts\//) });
    const second = await t.api('GET', `/api/gallery?limit=2&before=${first.body.next}`);
    expect(second.body.items[0].runId).toBe(ids[0]);

    const item = first.body.items[0];
    const plain = Buffer.from(await (await fetch(t.url + item.url)).arrayBuffer());
    expect(textChunks(plain)).toEqual({});
    const download = await fetch(`${t.url}${item.url}?run=${item.runId}`);
    expect(download.headers.get('content-type')).toMatch(/image\/png/);
    const chunks = textChunks(Buffer.from(await download.arrayBuffer()));
    expect(JSON.parse(chunks['picflow-workflow'])).toEqual(workflows.resized(artifact, 28, 12));
    expect(JSON.parse(chunks['picflow-inputs'])).toEqual({});
    expect((await t.api('GET', `${item.url}?run=no-such-run`)).status).toBe(404);
  });
});
