// The editor in everyday use, end to end (real Chromium, the real server and tiny model): every
// template opens clean and runs; a 16-image result stays inside its node; runs of an edited saved
// workflow are in its history after a reload, each on its own graph; a PNG a run made reopens its
// workflow when dropped; a link let go on empty canvas adds a linked node. Screenshots go to
// test/artifacts/.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { link, node, outSocket, pageErrors, screenshot, startEditorSession, waitPhase, type EditorSession } from './e2e-harness';
import type { Page } from 'playwright-core';

type Box = { x: number; y: number; width: number; height: number };

/** The status the editor's current run reached once it finished. */
async function runToEnd(page: Page): Promise<string> {
  await page.click('[data-testid=run-button]');
  const handle = await page.waitForFunction(
    () => {
      const run = (window as any).picflow.runs.current.get();
      return run && !['queued', 'running'].includes(run.status) ? run.status : null;
    },
    undefined,
    { timeout: 120_000 },
  );
  return handle.jsonValue() as Promise<string>;
}

const inside = (inner: Box, outer: Box) =>
  inner.x >= outer.x - 0.5 && inner.y >= outer.y - 0.5 && inner.x + inner.width <= outer.x + outer.width + 0.5 && inner.y + inner.height <= outer.y + outer.height + 0.5;
const overlap = (a: Box, b: Box) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;

async function saveWorkflow(session: EditorSession, workflow: unknown): Promise<string> {
  const response = await fetch(`${session.server.url}/api/workflows`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(workflow) });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

describe('the editor in everyday use', () => {
  let session: EditorSession;
  beforeAll(async () => {
    session = await startEditorSession();
  });
  afterAll(async () => {
    await session?.close();
  });

  it('opens every template clean (no unsaved mark, readable) and runs it to success', async () => {
    const page = await session.open();
    await page.click('[data-testid=templates-button]');
    const ids = await page.$$eval('[data-testid^=template-]', (els) => els.map((e) => (e as HTMLElement).dataset.testid!.replace('template-', '')));
    expect(ids).toContain('caption-then-regenerate');
    expect(ids.length).toBeGreaterThanOrEqual(6);
    await page.keyboard.press('Escape');
    for (const id of ids) {
      // Switching from one template to the next asks nothing: an opened template is not "unsaved".
      const shownBefore = await page.evaluate(() => (window as any).picflow.workflow());
      await page.click('[data-testid=templates-button]');
      await page.click(`[data-testid=template-${id}]`);
      await page.waitForFunction(
        (before) => JSON.stringify(Object.keys((window as any).picflow.workflow().nodes)) !== before && (window as any).picflow.notices.dialog.get() === null,
        JSON.stringify(Object.keys(shownBefore.nodes)),
      );
      await page.waitForSelector('[data-testid=dirty-indicator][data-dirty=false]', { state: 'attached' });
      expect(await page.locator('[data-testid=confirm-dialog]').count()).toBe(0);
      expect(await page.getAttribute('[data-testid=canvas]', 'data-detail')).toBe('full');
      const status = await runToEnd(page);
      const toasts = await page.$$eval('[data-testid^=toast-]', (els) => els.map((e) => e.textContent).join(' | '));
      expect(status, `${id}: ${toasts}`).toBe('succeeded');
      await screenshot(page, `everyday-template-${id}`);
    }

    // The template's image became an uploaded artifact, and its node shows the image first.
    await page.click('[data-testid=templates-button]');
    await page.click('[data-testid=template-caption-then-regenerate]');
    await page.waitForSelector('[data-testid="param-in-artifact-drop"] img');
    const params = (await page.evaluate(() => (window as any).picflow.workflow())).nodes.in.params;
    expect(params.artifact).toMatch(/^[0-9a-f]{64}$/);
    expect(params.path).toBeUndefined();
    expect(pageErrors(page)).toEqual([]);
  }, 600_000);

  it('keeps a 16-image result inside its node, as a grid that opens a full-size viewer', async () => {
    const id = await saveWorkflow(session, {
      version: 1,
      name: 'sixteen',
      nodes: {
        p: { type: 'prompt', params: { text: 'a small red circle in the center' }, ui: { x: 0, y: 0 } },
        g: { type: 'generate', params: { seed: 3, count: 16 }, inputs: { prompt: ['p', 'text'] }, ui: { x: 300, y: 0 } },
        v: { type: 'preview', inputs: { image: ['g', 'image'] }, ui: { x: 600, y: 0 } },
        o: { type: 'output', params: { name: 'note' }, inputs: { value: ['p', 'text'] }, ui: { x: 300, y: 700 } },
      },
    });
    const page = await session.open(`/?workflow=${id}`);
    expect(await runToEnd(page)).toBe('succeeded');
    await page.waitForSelector('[data-testid="output-g-image-15-image"]');
    await page.click('[data-testid=fit-button]');
    await page.waitForFunction(() => [...document.querySelectorAll<HTMLImageElement>('[data-testid^="output-g-image-"] img, img[data-testid^="output-g-image-"]')].every((i) => i.complete));

    const boxes: Record<string, Box> = {};
    for (const n of ['p', 'g', 'v', 'o']) boxes[n] = (await page.locator(node(n)).boundingBox())!;
    for (let i = 0; i < 16; i++) {
      const image = (await page.locator(`[data-testid="output-g-image-${i}-image"]`).boundingBox())!;
      if (image) expect(inside(image, boxes.g), `image ${i} ${JSON.stringify(image)} in ${JSON.stringify(boxes.g)}`).toBe(true);
    }
    expect(await page.textContent('[data-testid="output-g-image-count"]')).toMatch(/16 images/);
    for (const [a, b] of [['p', 'g'], ['g', 'v'], ['g', 'o'], ['v', 'o']]) expect(overlap(boxes[a], boxes[b]), `${a} overlaps ${b}`).toBe(false);
    await screenshot(page, 'everyday-sixteen-images');

    await page.click('[data-testid="output-g-image-count"]');
    await page.waitForSelector('[data-testid=image-viewer]');
    expect(await page.textContent('[data-testid=viewer-position]')).toBe('1 / 16');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    expect(await page.textContent('[data-testid=viewer-position]')).toBe('3 / 16');
    await page.keyboard.press('ArrowLeft');
    expect(await page.textContent('[data-testid=viewer-position]')).toBe('2 / 16');
    await screenshot(page, 'everyday-viewer');
    await page.keyboard.press('Escape');
    expect(await page.locator('[data-testid=image-viewer]').count()).toBe(0);
    expect(pageErrors(page)).toEqual([]);
  }, 240_000);

  it('records runs of an edited saved workflow in its history; an older run opens on its own graph; its PNG reopens it', async () => {
    const id = await saveWorkflow(session, {
      version: 1,
      name: 'history',
      nodes: {
        p: { type: 'prompt', params: { text: 'a small red circle in the center' }, ui: { x: 0, y: 0 } },
        g: { type: 'generate', params: { seed: 5 }, inputs: { prompt: ['p', 'text'] }, ui: { x: 320, y: 0 } },
        out: { type: 'save-image', params: { name: 'picture' }, inputs: { image: ['g', 'image'] }, ui: { x: 640, y: 0 } },
      },
    });
    const page = await session.open(`/?workflow=${id}`);
    const edited = 'a large blue square at the top';
    await page.fill('[data-testid="param-p-text"]', edited);
    await page.waitForSelector('[data-testid=dirty-indicator][data-dirty=true]');
    expect(await runToEnd(page)).toBe('succeeded');
    const runId = await page.evaluate(() => (window as any).picflow.runs.current.get().id);

    // After a reload the run is in the workflow's history, with the graph it ran.
    await page.reload();
    await page.waitForSelector('[data-testid=app][data-ready=true]');
    const row = page.locator(`[data-testid="history-run-${runId}"]`);
    await row.waitFor();
    expect(await row.getAttribute('data-status')).toBe('succeeded');
    expect(await page.textContent(`[data-testid="history-run-source-${runId}"]`)).toBe('editor');
    expect(await page.textContent(`[data-testid="history-run-prompts-${runId}"]`)).toContain(edited);
    const record = await (await fetch(`${session.server.url}/api/runs/${runId}`)).json();
    expect(record.workflowId).toBe(id);
    expect(record.workflow.nodes.p.params.text).toBe(edited);

    // The canvas shows the saved graph; the older run opens on its own graph, read-only.
    expect(await page.inputValue('[data-testid="param-p-text"]')).toBe('a small red circle in the center');
    await row.locator('.run-open').click();
    await page.waitForSelector('[data-testid=viewing-banner]');
    await expect.poll(() => page.inputValue('[data-testid="param-p-text"]')).toBe(edited);
    await page.waitForSelector('[data-testid="output-g-image-image"]');
    await screenshot(page, 'everyday-older-run');
    await page.click('[data-testid=leave-view]');
    await expect.poll(() => page.inputValue('[data-testid="param-p-text"]')).toBe('a small red circle in the center');
    expect(await page.getAttribute('[data-testid=dirty-indicator]', 'data-dirty')).toBe('false');
    await row.locator('.run-open').click();
    await page.click('[data-testid=restore-version]');
    await page.waitForSelector('[data-testid=dirty-indicator][data-dirty=true]');
    expect(await page.inputValue('[data-testid="param-p-text"]')).toBe(edited);

    // The gallery lists the run's image, this workflow's only by default.
    await page.click('[data-testid=gallery-button]');
    await page.waitForSelector('[data-testid=gallery-grid] img');
    expect(await page.isChecked('[data-testid=gallery-this-workflow]')).toBe(true);
    expect(await page.locator('[data-testid=gallery-grid] img').count()).toBe(1);
    await page.selectOption('[data-testid=gallery-status]', 'failed');
    await expect.poll(() => page.locator('[data-testid=gallery-grid] img').count()).toBe(0);
    await screenshot(page, 'everyday-gallery');
    await page.keyboard.press('Escape');

    // The run's image, downloaded, carries its workflow: dropped on the canvas of a fresh page, it opens it.
    const image = Object.values<any>(record.outputs)[0].value;
    const fresh = await session.open();
    await fresh.evaluate(async (url) => {
      const blob = await (await fetch(url)).blob();
      const data = new DataTransfer();
      data.items.add(new File([blob], 'made-by-a-run.png', { type: 'image/png' }));
      const canvas = document.querySelector('[data-testid=canvas]')!;
      const box = canvas.getBoundingClientRect();
      canvas.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true, clientX: box.x + 100, clientY: box.y + 100 }));
    }, `${image.url}?run=${runId}`);
    for (const n of ['p', 'g', 'out']) await fresh.waitForSelector(node(n));
    expect(await fresh.inputValue('[data-testid="param-p-text"]')).toBe(edited);
    await screenshot(fresh, 'everyday-png-dropped');
    expect(pageErrors(page)).toEqual([]);
    expect(pageErrors(fresh)).toEqual([]);
  }, 240_000);

  it('a link let go on empty canvas opens the node search for what fits, and links the chosen node', async () => {
    const page = await session.open();
    await page.click('[data-testid=palette-item-prompt]');
    await page.waitForSelector(node('prompt'));
    const from = (await page.locator(outSocket('prompt', 'text')).boundingBox())!;
    const start = { x: from.x + from.width / 2, y: from.y + from.height / 2 };
    await page.mouse.move(start.x, start.y);
    await page.mouse.down();
    await page.mouse.move(start.x + 120, start.y + 40, { steps: 5 });
    await page.mouse.move(start.x + 260, start.y + 60, { steps: 5 });
    await page.mouse.up();
    await page.waitForSelector('[data-testid=node-search]');
    const offered = await page.$$eval('[data-testid^=node-search-item-]', (els) => els.map((e) => (e as HTMLElement).dataset.testid!.replace('node-search-item-', '')));
    expect(offered).toContain('generate');
    // Nothing that cannot take text: resize takes only an image.
    expect(offered).not.toContain('resize');
    await screenshot(page, 'everyday-node-search');
    await page.fill('[data-testid=node-search-search]', 'generate');
    await page.keyboard.press('Enter');
    await page.waitForSelector(link('prompt', 'text', 'generate', 'prompt'));
    const generate = (await page.locator(node('generate')).boundingBox())!;
    const prompt = (await page.locator(node('prompt')).boundingBox())!;
    // It lands where the link was let go, right of the prompt node (the view pans to show it).
    expect(generate.x).toBeGreaterThan(prompt.x + prompt.width);
    await screenshot(page, 'everyday-linked-node');
    expect(pageErrors(page)).toEqual([]);
  }, 120_000);
});
