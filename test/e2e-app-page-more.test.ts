// The app page in real Chromium, as its user meets trouble: a reload mid-run, a wrong access token, a run that
// fails after one that worked.
import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ARTIFACTS, heldDrawing, launchBrowser, openAppPage, screenshot } from './e2e-harness';
import { openGate, startTestServer, type TestServer } from './server-harness';

let t: TestServer;
let browser: Browser;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  t = await startTestServer();
  browser = await launchBrowser();
  for (const [slug, token] of [['reload', undefined], ['guarded', 'right-token']] as const) {
    const { id } = (await t.api('POST', '/api/workflows', heldDrawing(slug))).body;
    expect((await t.api('PUT', `/api/workflows/${id}/trigger`, { slug, mode: 'sync', inputs: [{ param: 'g.seed', name: 'seed' }], ...(token && { token }) })).status).toBe(200);
  }
});
afterAll(async () => {
  await browser?.close();
  await t?.close();
});

/** On a phone: the page's user is as likely to be on one. */
function openApp(path: string): Promise<Page & { errors: string[] }> {
  return openAppPage(browser, t.url + path, { viewport: { width: 390, height: 844 }, isMobile: true });
}

describe('the app page when things go wrong', () => {
  test('a reload mid-run picks the run up again and shows its result', async () => {
    const page = await openApp('/apps/reload');
    await page.click('#run');
    await page.waitForFunction(() => /Running/.test(document.querySelector('#status-text')?.textContent ?? ''));
    await page.reload();
    await page.waitForSelector('#form:not([hidden])');
    await page.waitForFunction(() => /Running/.test(document.querySelector('#status-text')?.textContent ?? ''));
    expect(await page.isDisabled('#run')).toBe(true);
    await screenshot(page, 'app-reloaded-mid-run');
    openGate('reload');
    await page.locator('[data-output="picture"] img').waitFor();
    expect(await page.textContent('#status-text')).toMatch(/^Done/);
    // Shown once: a later reload is a fresh form.
    await page.reload();
    await page.waitForSelector('#form:not([hidden])');
    expect(await page.isVisible('#status')).toBe(false);
    expect(page.errors).toEqual([]);
  });

  test('a wrong access token is told apart from a missing one', async () => {
    const page = await openApp('/apps/guarded');
    await page.click('#run');
    await page.waitForSelector('#message:not([hidden])');
    expect(await page.textContent('#message')).toMatch(/protected: enter its access token/);
    await page.fill('#token', 'wrong-token');
    await page.click('#run');
    await page.waitForFunction(() => /not accepted/.test(document.querySelector('#message')?.textContent ?? ''));
    expect(await page.textContent('#message')).toBe('The access token was not accepted: check it, or ask whoever shared this app for the current one.');
    await screenshot(page, 'app-wrong-token');
  });

  test("a run that fails after one that worked does not leave the earlier result beside its error", async () => {
    const page = await openApp('/apps/reload');
    openGate('reload');
    await page.click('#run');
    await page.locator('[data-output="picture"] img').waitFor();
    await page.fill('textarea[data-input="prompt"]', 'a purple unicorn');
    await page.click('#run');
    await page.waitForSelector('#message:not([hidden])');
    expect(await page.textContent('#message')).toMatch(/unknown word/);
    expect(await page.locator('[data-output]').count()).toBe(0);
    await screenshot(page, 'app-failed-after-success');
  });
});
