// The editor against a server that requires API tokens (serve --auth), in real Chromium: it asks
// for a token, refuses a wrong one with the server's reason, then loads, runs and shows a workflow
// with the right one, over HTTP and socket.io; a reload remembers the token.

import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenStore } from '../server/auth/token-store';
import { Database } from '../server/db';
import { migrate } from '../server/migrations';
import { databasePath } from '../server/start';
import { ensureEditorBuilt, launchBrowser, node, ready, screenshot, waitPhase } from './e2e-harness';
import { png, startTestServer, workflows, type TestServer } from './server-harness';

describe('editor with API tokens', () => {
  let server: TestServer;
  let browser: Browser;
  let token: string;
  let workflowId: string;

  beforeAll(async () => {
    ensureEditorBuilt();
    const dataDir = await mkdtemp(join(tmpdir(), 'picflow-server-'));
    const db = await Database.open(databasePath(dataDir));
    await migrate(db);
    token = (await new TokenStore(db).create({ scope: 'run', name: 'editor' })).token;
    await db.close();
    server = await startTestServer({ dataDir, auth: true });
    const headers = { authorization: `Bearer ${token}` };

    const form = new FormData();
    form.append('file', new Blob([Uint8Array.from(await png(24, 18, { r: 30, g: 160, b: 90 }))]), 'green.png');
    const uploaded = await (await fetch(`${server.url}/api/uploads`, { method: 'POST', body: form, headers })).json();
    workflowId = (await server.api('POST', '/api/workflows', workflows.resized(uploaded.artifact, 12, 9), headers)).body.id;
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('asks for a token, refuses a wrong one, then loads, runs and shows a saved workflow; a reload needs no new token', async () => {
    const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
    page.setDefaultTimeout(30_000);
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(`${server.url}/?workflow=${workflowId}`);

    // Every start-up request met 401: one dialog asks.
    await page.waitForSelector('[data-testid=token-dialog]');
    expect(await page.locator('[data-testid=token-reason]').count()).toBe(0);
    expect(await page.locator('[data-testid=token-dialog]').count()).toBe(1);
    await screenshot(page, 'e2e-auth-asked');

    await page.fill('[data-testid=token-input]', 'pf_not-the-token');
    await page.click('[data-testid=token-confirm]');
    await expect.poll(() => page.textContent('[data-testid=token-reason]')).toMatch(/not valid/);

    await page.fill('[data-testid=token-input]', token);
    await page.click('[data-testid=token-confirm]');
    await ready(page);
    await page.waitForSelector(node('out'));
    expect(await page.locator('[data-testid=token-dialog]').count()).toBe(0);
    // The load node's thumbnail comes from the API too, with the token.
    const thumb = page.locator(`${node('load')} img.thumb`);
    await expect.poll(() => thumb.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(24);

    // Run: node states arrive over socket.io (which needs the token too), then the result image shows.
    await page.click('[data-testid=run-button]');
    await waitPhase(page, 'out', ['done']);
    const result = page.locator('[data-testid="output-small-image-image"]');
    await expect.poll(() => result.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(12);
    await screenshot(page, 'e2e-auth-ran');

    const runs = (await server.api('GET', '/api/runs', undefined, { authorization: `Bearer ${token}` })).body.runs;
    expect(runs).toMatchObject([{ workflowId, status: 'succeeded' }]);

    // The token is remembered: a reload goes straight to the editor.
    await page.reload();
    await ready(page);
    await page.waitForSelector(node('out'));
    expect(await page.locator('[data-testid=token-dialog]').count()).toBe(0);
    expect(errors).toEqual([]);
  });
});
