// The editor's browser tests: the real server on a temp data dir, the built editor, and Debian's
// Chromium driven by playwright-core. Helpers wait for UI states, never for fixed times.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { startTestServer, type TestServer } from './server-harness';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const ARTIFACTS = join(ROOT, 'test', 'artifacts');
export const CHROMIUM = process.env.PICFLOW_CHROMIUM ?? '/usr/bin/chromium';

/** Builds the editor when `dist/editor` is missing (npm test builds it first; a lone vitest run may not have). */
export function ensureEditorBuilt(): void {
  if (existsSync(join(ROOT, 'dist', 'editor', 'index.html'))) return;
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--config', 'editor/vite.config.ts', '--logLevel', 'warn'], {
    cwd: ROOT,
    stdio: 'inherit',
  });
}

export function launchBrowser(): Promise<Browser> {
  // A missing browser fails the suite by name: a silently skipped e2e suite would pass for nothing.
  if (!existsSync(CHROMIUM)) throw new Error(`the editor's browser tests need Chromium at ${CHROMIUM}: run scripts/setup.sh, or set PICFLOW_CHROMIUM`);
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
  });
}

export interface EditorSession {
  server: TestServer;
  browser: Browser;
  /** A fresh page on the editor, ready (catalog loaded, canvas mounted). */
  open(path?: string): Promise<Page>;
  close(): Promise<void>;
}

export async function startEditorSession(): Promise<EditorSession> {
  ensureEditorBuilt();
  mkdirSync(ARTIFACTS, { recursive: true });
  const server = await startTestServer();
  const browser = await launchBrowser();
  const pages: Page[] = [];
  return {
    server,
    browser,
    async open(path = '/') {
      const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, acceptDownloads: true });
      const page = await context.newPage();
      page.setDefaultTimeout(30_000);
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(err.message));
      (page as Page & { errors: string[] }).errors = errors;
      pages.push(page);
      await page.goto(server.url + path);
      await ready(page);
      return page;
    },
    async close() {
      await browser.close();
      await server.close();
    },
  };
}

/** Page errors (uncaught exceptions) seen so far. */
export function pageErrors(page: Page): string[] {
  return (page as Page & { errors?: string[] }).errors ?? [];
}

/** A trigger's app page (`url`) in a fresh context of `browser`, its page errors gathered, once its form shows. */
export async function openAppPage(browser: Browser, url: string, options: BrowserContextOptions): Promise<Page & { errors: string[] }> {
  const page = (await (await browser.newContext(options)).newPage()) as Page & { errors: string[] };
  page.errors = [];
  page.on('pageerror', (err) => page.errors.push(err.message));
  page.setDefaultTimeout(30_000);
  await page.goto(url);
  await page.waitForSelector('#form:not([hidden])');
  return page;
}

export async function ready(page: Page): Promise<void> {
  await page.waitForSelector('[data-testid=app][data-ready=true]');
}

/** The app pages' workflow: draws its prompt, and a held branch keeps the run going until the test opens `gate`. */
export const heldDrawing = (gate: string) => ({
  version: 1,
  name: 'Shape drawer',
  nodes: {
    p: { type: 'prompt', params: { name: 'prompt', text: 'a small green triangle at the top on a black background' } },
    g: { type: 'generate', params: { seed: 1 }, inputs: { prompt: ['p', 'text'] } },
    picture: { type: 'save-image', params: { name: 'picture' }, inputs: { image: ['g', 'image'] } },
    wait: { type: 'hold', params: { gate } },
    waited: { type: 'output', params: { name: 'waited' }, inputs: { value: ['wait', 'value'] } },
  } as Record<string, unknown>,
});

export const node = (id: string) => `[data-testid="node-${id}"]`;
export const outSocket = (id: string, key: string) => `[data-testid="socket-${id}-out-${key}"]`;
export const inSocket = (id: string, key: string) => `[data-testid="socket-${id}-in-${key}"]`;
export const link = (from: string, output: string, to: string, input: string) => `[data-testid="link-${from}-${output}-${to}-${input}"]`;

async function centre(page: Page, selector: string): Promise<{ x: number; y: number }> {
  const locator = page.locator(selector);
  await locator.waitFor({ state: 'visible' });
  const box = await locator.boundingBox();
  if (!box) throw new Error(`${selector} has no box`);
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

/** A pointer drag with intermediate moves, as a hand would do it. */
export async function drag(page: Page, from: { x: number; y: number }, to: { x: number; y: number }): Promise<void> {
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move(from.x + (to.x - from.x) / 3, from.y + (to.y - from.y) / 3, { steps: 4 });
  await page.mouse.move(to.x, to.y, { steps: 6 });
  await page.mouse.up();
}

/** Drags from an output socket to an input socket. */
export async function connect(page: Page, from: [string, string], to: [string, string]): Promise<void> {
  await drag(page, await centre(page, outSocket(...from)), await centre(page, inSocket(...to)));
}

/** Drags a palette entry onto the canvas at a point given relative to the canvas' top-left corner. */
export async function dropFromPalette(page: Page, type: string, at: { x: number; y: number }): Promise<void> {
  await page.dragAndDrop(`[data-testid="palette-item-${type}"]`, '[data-testid=canvas]', { targetPosition: at });
}

/** Moves a node by dragging its header. */
export async function moveNode(page: Page, id: string, by: { x: number; y: number }): Promise<void> {
  const from = await centre(page, `${node(id)} header`);
  await drag(page, from, { x: from.x + by.x, y: from.y + by.y });
}

/** Drags a link off an input socket into empty canvas, which removes it. */
export async function detachInput(page: Page, id: string, key: string, to: { x: number; y: number }): Promise<void> {
  await drag(page, await centre(page, inSocket(id, key)), to);
}

/** The editor's current workflow JSON, read through the handle the app exposes for tests. */
export function currentWorkflow(page: Page): Promise<any> {
  return page.evaluate(() => (window as unknown as { picflow: { workflow(): unknown } }).picflow.workflow());
}

export async function screenshot(page: Page, name: string): Promise<string> {
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/**
 * Records, from now on, each text the node's status line shows while its progress bar is visible
 * (a run can be over in a second: the test reads the record afterwards instead of racing the UI).
 */
export async function recordProgress(page: Page, nodeId: string): Promise<() => Promise<string[]>> {
  await page.evaluate((id) => {
    const seen: string[] = [];
    (window as unknown as Record<string, string[]>)[`__progress_${id}`] = seen;
    new MutationObserver(() => {
      const bar = document.querySelector<HTMLElement>(`[data-testid="progress-${id}"]`);
      const status = document.querySelector(`[data-testid="status-${id}"]`)?.textContent ?? '';
      if (bar && !bar.hidden && seen[seen.length - 1] !== status) seen.push(status);
    }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  }, nodeId);
  return () => page.evaluate((id) => (window as unknown as Record<string, string[]>)[`__progress_${id}`], nodeId);
}

/**
 * Waits until a node shows one of the phases (done, cached, error, …). On timeout the error names
 * what every node shows, and a screenshot is left in test/artifacts/.
 */
export async function waitPhase(page: Page, id: string, phases: string[], timeout = 90_000): Promise<void> {
  const selector = phases.map((p) => `${node(id)}[data-phase=${p}]`).join(', ');
  try {
    await page.waitForSelector(selector, { timeout });
  } catch (err) {
    const shown = await page.$$eval('[data-node-id]', (els) => els.map((e) => `${(e as HTMLElement).dataset.nodeId}=${(e as HTMLElement).dataset.phase}`).join(' '));
    const toasts = await page.$$eval('[data-testid^=toast-]', (els) => els.map((e) => e.textContent).join(' | '));
    await screenshot(page, `failed-wait-${id}`);
    throw new Error(`node ${id} never showed ${phases.join('/')}; nodes: ${shown}; toasts: ${toasts}\n${(err as Error).message.split('\n')[0]}`);
  }
}
