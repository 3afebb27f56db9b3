// The app page of a trigger (/apps/:slug) in real Chromium: the form built from the trigger's
// inputs, a run with progress and the image, and a protected trigger asking for its token.
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ARTIFACTS, ensureEditorBuilt, heldDrawing, launchBrowser, openAppPage, ready, screenshot } from './e2e-harness';
import { openGate, png, startAuthedTestServer, startTestServer, upload, workflows, type TestServer } from './server-harness';

/** The held drawing with a number output beside it. */
const drawing = (gate: string) => {
  const workflow = heldDrawing(gate);
  workflow.nodes.ratio = { type: 'number', params: { value: 0.9998351919906526 } };
  workflow.nodes.score = { type: 'output', params: { name: 'score' }, inputs: { value: ['ratio', 'number'] } };
  return workflow;
};

let t: TestServer;
/** A server started with `--auth`: /api needs API tokens; its triggers keep their own. */
let authed: TestServer & { admin: Record<string, string> };
let browser: Browser;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  ensureEditorBuilt();
  t = await startTestServer();
  authed = await startAuthedTestServer();
  browser = await launchBrowser();
  for (const [slug, gate, token] of [['draw', 'app', undefined], ['locked', 'locked', 'app-token-123']] as const) {
    const { id } = (await t.api('POST', '/api/workflows', drawing(gate))).body;
    const inputs = [{ param: 'g.seed', name: 'seed' }, { param: 'g.cfg', name: 'guidance' }];
    expect((await t.api('PUT', `/api/workflows/${id}/trigger`, { slug, mode: 'sync', inputs, ...(token && { token }) })).status).toBe(200);
  }
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
  await authed?.close();
});

function openApp(path: string, server: TestServer = t): Promise<Page & { errors: string[] }> {
  return openAppPage(browser, server.url + path, { viewport: { width: 900, height: 1100 } });
}

describe('the app page', () => {
  test('builds the form from the inputs, runs with progress and shows the image large and crisp', async () => {
    const page = await openApp('/apps/draw?seed=5');
    expect(await page.textContent('#title')).toBe('Shape drawer');
    expect(await page.inputValue('textarea[data-input="prompt"]')).toBe('a small green triangle at the top on a black background');
    expect(await page.inputValue('input[data-input="seed"]')).toBe('5'); // from the share link
    expect(await page.isVisible('#token')).toBe(false);
    // cfg has a range (1..20): a slider next to its number field.
    expect(await page.locator('label[for="input-guidance"] input[type="range"]').count()).toBe(1);
    // Hints in the param's own words, not the API's ("node 'g', param 'cfg'").
    expect(await page.textContent('label[for="input-guidance"] .hint')).toBe("guidance scale (1 = none); default: the model's");
    expect(await page.locator('label[for="input-seed"] .hint').count()).toBe(0);
    await page.fill('textarea[data-input="prompt"]', 'a large red circle in the center on a white background');
    await page.fill('input[data-input="guidance"]', '3');
    await screenshot(page, 'app-form');

    await page.click('#run');
    await page.waitForFunction(() => /Running/.test(document.querySelector('#status-text')?.textContent ?? ''));
    await page.waitForFunction(() => parseFloat((document.querySelector('#bar') as HTMLElement).style.width) > 0);
    await screenshot(page, 'app-progress');
    openGate('app');

    const image = page.locator('[data-output="picture"] img');
    await image.waitFor();
    await page.waitForFunction(() => (document.querySelector('[data-output="picture"] img') as HTMLImageElement).naturalWidth > 0);
    const shown = await image.evaluate((img: HTMLImageElement) => ({
      natural: img.naturalWidth,
      width: img.getBoundingClientRect().width,
      rendering: getComputedStyle(img).imageRendering,
    }));
    expect(shown).toEqual({ natural: 32, width: expect.any(Number), rendering: 'pixelated' });
    expect(shown.width).toBeGreaterThanOrEqual(256);
    expect(await page.textContent('[data-output="waited"] .value')).toBe('1');
    // A fraction reads to four figures; the exact value is its title.
    expect(await page.textContent('[data-output="score"] .value')).toBe('0.9998');
    expect(await page.getAttribute('[data-output="score"] .value', 'title')).toBe('0.9998351919906526');
    expect(await page.textContent('#status-text')).toMatch(/^Done/);
    await screenshot(page, 'app-result');

    // The run took the form's values.
    const runs = (await t.api('GET', '/api/runs?limit=5')).body.runs;
    const run = (await t.api('GET', `/api/runs/${runs[0].id}`)).body;
    expect(run.inputs).toEqual({ prompt: 'a large red circle in the center on a white background', 'g.seed': 5, 'g.cfg': 3 });
    expect(page.errors).toEqual([]);
  });

  test('a protected trigger without a token says so clearly, and runs once the token is given', async () => {
    const page = await openApp('/apps/locked');
    expect(await page.isVisible('#token')).toBe(true);
    await page.click('#run');
    await page.waitForSelector('#message:not([hidden])');
    expect(await page.textContent('#message')).toMatch(/protected: enter its access token/);
    await screenshot(page, 'app-protected');

    openGate('locked');
    await page.fill('#token', 'app-token-123');
    await page.click('#run');
    await page.locator('[data-output="picture"] img').waitFor();
    expect(await page.isVisible('#message')).toBe(false);
    expect(page.errors).toEqual([]);
  });

  test('an image input is an upload field; the uploaded picture is what the run reads', async () => {
    const placeholder = (await upload(t.url, await png(4, 4))).body.artifact;
    const { id } = (await t.api('POST', '/api/workflows', workflows.resized(placeholder, 6, 6))).body;
    await t.api('PUT', `/api/workflows/${id}/trigger`, { slug: 'shrink', mode: 'sync', inputs: [{ param: 'load.artifact', name: 'photo' }] });
    const page = await openApp('/apps/shrink');
    await page.setInputFiles('input[data-input="photo"]', { name: 'blue.png', mimeType: 'image/png', buffer: await png(12, 12, { r: 20, g: 40, b: 220 }) });
    await page.click('#run');
    const image = page.locator('[data-output="small"] img');
    await image.waitFor();
    const run = (await t.api('GET', `/api/runs/${(await t.api('GET', '/api/runs?limit=1')).body.runs[0].id}`)).body;
    expect(run.inputs['load.artifact']).not.toBe(placeholder);
    const shown = await fetch(`${t.url}/api/artifacts/${await image.getAttribute('data-artifact')}`);
    const { data } = await sharp(Buffer.from(await shown.arrayBuffer())).raw().toBuffer({ resolveWithObject: true });
    expect([...data.subarray(0, 3)]).toEqual([20, 40, 220]);
    expect(page.errors).toEqual([]);
  });

  test('on a server that requires API tokens, a protected trigger’s page uploads and shows its image with the trigger token alone', async () => {
    const { id } = (await authed.api('POST', '/api/workflows', workflows.resized('0'.repeat(64), 6, 6), authed.admin)).body;
    const inputs = [{ param: 'load.artifact', name: 'photo' }];
    expect((await authed.api('PUT', `/api/workflows/${id}/trigger`, { slug: 'locked-shrink', mode: 'sync', token: 'page-token-9', inputs }, authed.admin)).status).toBe(200);

    const page = await openApp('/apps/locked-shrink', authed);
    await page.fill('#token', 'page-token-9');
    await page.setInputFiles('input[data-input="photo"]', { name: 'green.png', mimeType: 'image/png', buffer: await png(12, 12, { r: 30, g: 210, b: 60 }) });
    await page.click('#run');
    await page.waitForFunction(() => (document.querySelector('[data-output="small"] img') as HTMLImageElement | null)?.naturalWidth === 6);
    expect(await page.isVisible('#message')).toBe(false);
    await screenshot(page, 'app-auth-result');
    // The pixels the page shows are the run's output, resized from the picture it uploaded.
    const shown = await page.locator('[data-output="small"] img').evaluate((img: HTMLImageElement) => {
      const canvas = document.createElement('canvas');
      canvas.width = img.naturalWidth;
      canvas.height = img.naturalHeight;
      const context = canvas.getContext('2d')!;
      context.drawImage(img, 0, 0);
      return [...context.getImageData(0, 0, 1, 1).data];
    });
    expect(shown).toEqual([30, 210, 60, 255]);
    expect(page.errors).toEqual([]);
  });

  test('an unknown app is a 404', async () => {
    expect((await fetch(`${t.url}/apps/nobody`)).status).toBe(404);
  });

  test("the editor's trigger dialog exposes a param under a name of its own and links to the app page", async () => {
    const { id } = (await t.api('POST', '/api/workflows', drawing('editor'))).body;
    const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
    await page.goto(`${t.url}/?workflow=${id}`);
    await ready(page);
    await page.click('[data-testid=trigger-button]');
    await page.fill('[data-testid=trigger-slug]', 'from-editor');
    expect(await page.textContent('[data-testid=trigger-inputs]')).toMatch(/Named prompts: prompt/);
    await page.check('[data-testid="trigger-expose-g.seed"]');
    await page.fill('[data-testid="trigger-name-g.seed"]', 'variation');
    expect(await page.textContent('[data-testid=trigger-curl]')).toContain('"variation":1');
    await page.click('[data-testid=trigger-save]');
    const link = page.locator('[data-testid=trigger-app-link]');
    await link.waitFor();
    expect(await link.getAttribute('href')).toBe('/apps/from-editor');
    await screenshot(page, 'app-trigger-dialog');
    expect((await t.api('GET', `/api/workflows/${id}/trigger`)).body.inputs).toEqual([{ param: 'g.seed', name: 'variation' }]);
    const document = (await t.api('GET', '/hooks/from-editor/openapi.json')).body;
    expect(Object.keys(document.paths['/hooks/from-editor'].post.requestBody.content['application/json'].schema.properties)).toEqual(['prompt', 'variation']);

    // Limits and access: set in the dialog, shown again when it reopens, and kept when it saves something else
    // (a PUT resets what it leaves out, and the dialog once left them out).
    await page.fill('[data-testid=trigger-rate-limit]', '30');
    await page.fill('[data-testid=trigger-timeout]', '20');
    await page.fill('[data-testid=trigger-origins]', 'https://app.example.com\nhttp://localhost:5173');
    await page.check('[data-testid=trigger-require-signature]');
    await page.fill('[data-testid=trigger-token]', 'editor-token-1');
    await page.click('[data-testid=trigger-save]');
    const limits = { rateLimit: 30, timeoutMs: 20_000, allowedOrigins: ['https://app.example.com', 'http://localhost:5173'], requireSignature: true, hasToken: true };
    await expect.poll(async () => (await t.api('GET', `/api/workflows/${id}/trigger`)).body).toMatchObject(limits);
    await page.click('.modal .modal-close');
    await page.click('[data-testid=trigger-button]');
    await expect.poll(() => page.inputValue('[data-testid=trigger-rate-limit]')).toBe('30');
    expect(await page.inputValue('[data-testid=trigger-timeout]')).toBe('20');
    expect(await page.isChecked('[data-testid=trigger-require-signature]')).toBe(true);
    await page.fill('[data-testid="trigger-name-g.seed"]', 'take');
    await page.click('[data-testid=trigger-save]');
    await expect.poll(async () => (await t.api('GET', `/api/workflows/${id}/trigger`)).body.inputs).toEqual([{ param: 'g.seed', name: 'take' }]);
    expect((await t.api('GET', `/api/workflows/${id}/trigger`)).body).toMatchObject(limits); // the token too, never shown to it
    // Removing the token is a choice of its own.
    // (the dialog's own reads of the trigger from here on are held until the edit below is typed: a read after a
    // save would put the saved values back over what the user typed since)
    let release!: () => void;
    const typed = new Promise<void>((resolve) => (release = resolve));
    await page.route(`**/api/workflows/${id}/trigger`, async (route) => {
      if (route.request().method() === 'GET') await typed;
      await route.continue();
    });
    await page.check('[data-testid=trigger-remove-token]');
    await page.click('[data-testid=trigger-save]');
    await expect.poll(async () => (await t.api('GET', `/api/workflows/${id}/trigger`)).body.hasToken).toBe(false);
    // Out of the server's bounds: said in the dialog, and nothing is sent.
    await page.fill('[data-testid=trigger-rate-limit]', '0');
    release();
    await page.waitForLoadState('networkidle');
    expect(await page.inputValue('[data-testid=trigger-rate-limit]')).toBe('0');
    expect(await page.textContent('[data-testid=trigger-limits]')).toMatch(/whole number from 1 to 100,000/);
    expect(await page.isDisabled('[data-testid=trigger-save]')).toBe(true);
  });
});
