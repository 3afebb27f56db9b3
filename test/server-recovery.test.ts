import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { connect, killServers, openGate, png, spawnServer, startTestServer, upload, workflows } from './server-harness';

let dataDir: string;
beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'picflow-recovery-'));
});
afterAll(async () => {
  killServers();
  await rm(dataDir, { recursive: true, force: true });
});

describe('recovery', () => {
  test('a server killed with SIGKILL mid-run restarts on its data: the run is interrupted, the rest intact', async () => {
    const first = await spawnServer(dataDir);
    const uploaded = (await upload(first.url, await png(6, 6))).body;
    const { id: workflowId } = (await first.api('POST', '/api/workflows', workflows.resized(uploaded.artifact, 3, 3))).body;
    const done = (await first.api('POST', '/api/runs', { workflowId, wait: true })).body;
    expect(done.status).toBe('succeeded');

    const client = connect(first.url);
    await client.connected;
    const { runId } = (await first.api('POST', '/api/runs', { workflow: workflows.held('never') })).body;
    await client.next('node:started', (d) => d.runId === runId && d.nodeId === 'wait');
    client.socket.close();
    first.process.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');

    const second = await spawnServer(dataDir);
    const interrupted = (await second.api('GET', `/api/runs/${runId}`)).body;
    expect(interrupted).toMatchObject({ status: 'interrupted', error: { message: expect.stringMatching(/stopped before the run finished/) } });
    expect((await second.api('GET', `/api/runs/${done.id}`)).body).toEqual(done);
    const artifact = await fetch(second.url + done.outputs.small.value.url);
    expect(artifact.status).toBe(200);
    expect((await second.api('GET', `/api/workflows/${workflowId}`)).body.version).toBe(1);
    expect((await second.api('POST', '/api/runs', { workflowId, wait: true })).body.status).toBe('succeeded');

    second.process.kill('SIGTERM');
    expect(await second.exited).toEqual({ code: 0, signal: null });
  });

  test('SIGTERM cancels a run that does not finish within the shutdown timeout, and exits cleanly', async () => {
    const server = await spawnServer(dataDir, { PICFLOW_SHUTDOWN_MS: '300' });
    const client = connect(server.url);
    await client.connected;
    const { runId } = (await server.api('POST', '/api/runs', { workflow: workflows.held('never') })).body;
    await client.next('node:started', (d) => d.runId === runId);
    server.process.kill('SIGTERM');
    expect((await client.next('run:finished', (d) => d.runId === runId)).data.status).toBe('interrupted');
    expect(await server.exited).toEqual({ code: 0, signal: null });

    const again = await spawnServer(dataDir);
    expect((await again.api('GET', `/api/runs/${runId}`)).body).toMatchObject({
      status: 'interrupted',
      error: { message: expect.stringMatching(/shut down/) },
      nodes: { wait: { status: 'cancelled' } },
    });
    again.process.kill('SIGTERM');
    await again.exited;
  });
});

describe('graceful shutdown', () => {
  test('a closing server takes no new runs and lets the running one finish', async () => {
    const t = await startTestServer();
    const client = await t.client();
    const { runId } = (await t.api('POST', '/api/runs', { workflow: workflows.held('shutdown') })).body;
    await client.next('node:started', (d) => d.runId === runId);

    const closed = t.server.close();
    const refused = await t.api('POST', '/api/runs', { workflow: workflows.caption() });
    expect(refused.status).toBe(503);
    expect(refused.body.error).toMatch(/shutting down/);
    openGate('shutdown');
    expect((await client.next('run:finished', (d) => d.runId === runId)).data.status).toBe('succeeded');
    await closed;

    const reopened = await startTestServer({ dataDir: t.dataDir });
    expect((await reopened.api('GET', `/api/runs/${runId}`)).body.status).toBe('succeeded');
    await reopened.close();
  });
});
