// The editor with a 300-node workflow in headless Chromium against the real server: how long until
// it is on screen and answers the pointer. Prints a table (medians); nothing here is asserted.
// Each tab's window is opened and left to settle first (see WINDOW_SETTLE_MS); one row also times a
// tab whose window was opened just before, for comparison.
//
//   npm run bench:editor            (builds the editor first when dist/editor is missing)

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { createLogger } from '../server/logger';
import { startServer } from '../server/start';
import { bigWorkflow } from '../test/big-workflow';
import { ensureEditorBuilt, launchBrowser } from '../test/e2e-harness';
import { median } from './median';

const REPS = Number(process.env.REPS ?? 3);
/**
 * Chromium builds each new window's own UI (a WebUI renderer, about 1 s of CPU) in the seconds after
 * the window opens; on a 2-core machine that work would be timed as the editor's. Tabs wait this long
 * before navigating, as a person's browser window is open before they type the address.
 */
const WINDOW_SETTLE_MS = Number(process.env.WINDOW_SETTLE_MS ?? 2500);

/** ms since the page's navigation began, read in the page. */
const pageNow = (page: Page) => page.evaluate(() => performance.now());

/** A new tab in a new window, once Chromium has built the window's own UI (see WINDOW_SETTLE_MS). */
async function settledTab(browser: Browser, settle = WINDOW_SETTLE_MS): Promise<{ page: Page; close(): Promise<void> }> {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  await new Promise((resolve) => setTimeout(resolve, settle));
  return { page, close: () => context.close() };
}

async function waitGraph(page: Page, nodes: number, links: number): Promise<void> {
  await page.waitForFunction(
    ([n, l]) => document.querySelectorAll('[data-node-id]').length === n && document.querySelectorAll('svg.pf-link path').length >= l,
    [nodes, links],
    { timeout: 60_000, polling: 'raf' },
  );
}

/** Clicks a node's header and waits for it to show as selected: the editor answers the pointer. */
async function clickToSelect(page: Page, id: string): Promise<number> {
  const header = page.locator(`[data-testid="node-${id}"] header`);
  const box = (await header.boundingBox())!;
  const t0 = await pageNow(page);
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await page.waitForSelector(`[data-testid="node-${id}"][data-selected=true]`, { timeout: 10_000 });
  return (await pageNow(page)) - t0;
}

/** Drags a node 200 px in 20 moves; returns ms from press to its new place on screen. */
async function dragNode(page: Page, id: string): Promise<number> {
  const header = page.locator(`[data-testid="node-${id}"] header`);
  const box = (await header.boundingBox())!;
  const start = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  const t0 = await pageNow(page);
  await page.mouse.move(start.x, start.y);
  await page.mouse.down();
  for (let i = 1; i <= 20; i++) await page.mouse.move(start.x + i * 10, start.y + i * 4);
  await page.mouse.up();
  await page.waitForFunction(
    ([sel, x]) => (document.querySelector(sel)!.getBoundingClientRect().x ?? 0) > x + 100,
    [`[data-testid="node-${id}"] header`, box.x] as const,
    { polling: 'raf' },
  );
  return (await pageNow(page)) - t0;
}

async function main(): Promise<void> {
  ensureEditorBuilt();
  const browser = await launchBrowser();
  const dataDir = mkdtempSync(join(tmpdir(), 'picflow-bench-editor-'));
  const server = await startServer({ dataDir, port: 0, logger: createLogger('silent') });
  try {
    const { workflow, links } = bigWorkflow();
    const count = Object.keys(workflow.nodes).length;
    const response = await fetch(`${server.url}/api/workflows`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(workflow) });
    if (!response.ok) throw new Error(`saving the bench workflow failed: ${response.status} ${await response.text()}`);
    const { id } = (await response.json()) as { id: string };
    const file = join(dataDir, 'bench-300.json');
    writeFileSync(file, JSON.stringify(workflow));

    const samples: Record<string, number[]> = {};
    const add = (name: string, ms: number) => (samples[name] ??= []).push(ms);

    for (let rep = 0; rep < REPS; rep++) {
      const { page, close } = await settledTab(browser);
      // Open a saved workflow by URL in a new tab (page load included): navigation → 300 nodes and their links on screen → a click selects.
      await page.goto(`${server.url}/?workflow=${id}`);
      await waitGraph(page, count, links);
      const shown = await pageNow(page);
      add('open saved (navigation → all nodes and links drawn)', shown);
      const marks = Object.fromEntries(
        await page.evaluate(() => performance.getEntriesByType('mark').map((m) => [m.name, m.startTime] as [string, number])),
      );
      add('  of which: page and catalog loaded (navigation → catalog)', marks['picflow:catalog']);
      add('  of which: workflow fetched → graph built', marks['picflow:loaded'] - marks['picflow:fetched']);
      add('  of which: graph built → drawn and fitted', shown - marks['picflow:loaded']);
      const click = await clickToSelect(page, 'p0');
      add('first click selects a node', click);
      add('open saved → interactive (sum)', shown + click);
      add('drag a node 200 px (20 moves)', await dragNode(page, 'a0'));
      const fit0 = await pageNow(page);
      await page.keyboard.press('f');
      await page.waitForFunction(() => true, undefined, { polling: 'raf' });
      add('fit view (F)', (await pageNow(page)) - fit0);
      // Zoomed out, nodes are drawn without widgets; zooming in to 100% mounts every node's widgets.
      const zoom0 = await pageNow(page);
      await page.evaluate(() => {
        const { canvas } = (window as unknown as { picflow: { canvas: { camera: { zoomBy(f: number): Promise<void> }; area: { area: { transform: { k: number } } } } } }).picflow;
        void canvas.camera.zoomBy(1 / canvas.area.area.transform.k);
      });
      await page.waitForFunction(
        () => {
          const view = document.querySelector('[data-testid=canvas]')!.getBoundingClientRect();
          const shown = [...document.querySelectorAll('.pf-node-body')].filter((b) => {
            const r = b.parentElement!.getBoundingClientRect();
            return r.right > view.left && r.left < view.right && r.bottom > view.top && r.top < view.bottom;
          });
          return shown.length > 0 && shown.every((b) => b.childElementCount > 0);
        },
        undefined,
        { polling: 'raf' },
      );
      add('zoom in to 100%: the nodes in view show their widgets', (await pageNow(page)) - zoom0);
      await page.waitForFunction(() => document.querySelector('.pf-node-body') && !document.querySelector('.pf-node-body:empty'), undefined, { polling: 'raf' });
      add('zoom in to 100%: every node has mounted its widgets', (await pageNow(page)) - zoom0);

      // Open the saved workflow in a loaded editor (what the Open list does): asked → drawn → a click selects.
      await page.goto(server.url);
      await page.waitForSelector('[data-testid=app][data-ready=true]');
      const asked = await pageNow(page);
      await page.evaluate((workflowId) => {
        void (window as unknown as { picflow: { open(id: string, o: { force: boolean }): Promise<void> } }).picflow.open(workflowId, { force: true });
      }, id);
      await waitGraph(page, count, links);
      const drawn = (await pageNow(page)) - asked;
      add('open saved in a loaded editor (asked → all drawn)', drawn);
      add('open saved in a loaded editor → interactive (+ first click)', drawn + (await clickToSelect(page, 'p1')));

      // Import the same file into a fresh editor: file chosen → all nodes and links drawn.
      await page.goto(server.url);
      await page.waitForSelector('[data-testid=app][data-ready=true]');
      const t0 = await pageNow(page);
      await page.setInputFiles('[data-testid=import-file]', file);
      await waitGraph(page, count, links);
      add('import file (chosen → all nodes and links drawn)', (await pageNow(page)) - t0);

      const heap = await page.evaluate(() => (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0);
      if (heap) add('JS heap after import (MB)', heap / 1e6);
      await close();

      // For comparison: the same, with the tab's window opened just before (Chromium's window start-up included).
      const unsettled = await settledTab(browser, 0);
      await unsettled.page.goto(`${server.url}/?workflow=${id}`);
      await waitGraph(unsettled.page, count, links);
      add('open saved, window opened just before (Chromium start-up competing)', await pageNow(unsettled.page));
      await unsettled.close();
    }

    console.log(`\neditor with a ${count}-node workflow (${links} links), headless Chromium, median of ${REPS}\n`);
    console.table(Object.entries(samples).map(([measure, values]) => ({ measure, median: +median(values).toFixed(1), min: +Math.min(...values).toFixed(1), max: +Math.max(...values).toFixed(1) })));
  } finally {
    await browser.close();
    await server.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
