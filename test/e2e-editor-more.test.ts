// The editor end to end, more of everyday use (real Chromium, the real server and tiny model): the
// keyboard alone adds nodes and leaves the search; a node added from the palette is in sight; every
// top-bar button can be reached in a small window; param labels read whole; a ten-node row imports
// readable and the minimap keeps out of the way; a run in progress is "running" in its history row
// (with test ids unique on the page), and a cancelled run says so on its nodes; a save that breaks the
// workflow's trigger says what it broke. Screenshots go to test/artifacts/.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { currentWorkflow, node, pageErrors, screenshot, startEditorSession, type EditorSession } from './e2e-harness';

type Box = { x: number; y: number; width: number; height: number };

const inside = (inner: Box, outer: Box) =>
  inner.x >= outer.x - 0.5 && inner.y >= outer.y - 0.5 && inner.x + inner.width <= outer.x + outer.width + 0.5 && inner.y + inner.height <= outer.y + outer.height + 0.5;

/** Test ids that more than one element on the page carries. */
const duplicateTestIds = (page: Page) =>
  page.$$eval('[data-testid]', (els) => {
    const ids = els.map((e) => (e as HTMLElement).dataset.testid!);
    return [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))];
  });

/** The `data-testid` of the focused element ('' for none). */
const focused = (page: Page) => page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset?.testid ?? '');

describe('the editor, more of everyday use', () => {
  let session: EditorSession;
  beforeAll(async () => {
    session = await startEditorSession();
  });
  afterAll(async () => {
    await session?.close();
  });

  it('adds nodes with the keyboard alone: A, a name, Enter; Escape clears the search, then leaves it', async () => {
    const page = await session.open();
    await page.keyboard.press('a');
    expect(await focused(page)).toBe('palette-search');
    await page.keyboard.type('prompt');
    await page.keyboard.press('Enter');
    await page.waitForSelector(node('prompt'));
    // Back on the canvas, with the new node selected: the next keys act on it, not on the search.
    expect(await focused(page)).not.toBe('palette-search');
    expect(await page.inputValue('[data-testid=palette-search]')).toBe('');

    // A second node the same way; what was searched before does not stick to what is typed now.
    await page.keyboard.press('a');
    await page.keyboard.type('gen');
    await page.keyboard.press('Escape');
    expect(await page.inputValue('[data-testid=palette-search]')).toBe('');
    expect(await focused(page)).toBe('palette-search');
    await page.keyboard.type('generate');
    await page.keyboard.press('Enter');
    await page.waitForSelector(node('generate'));

    // Escape on an empty search leaves it: N then cycles the selection instead of typing "n".
    await page.keyboard.press('a');
    await page.keyboard.press('Escape');
    expect(await focused(page)).not.toBe('palette-search');
    await page.keyboard.press('n');
    expect(await page.inputValue('[data-testid=palette-search]')).toBe('');
    await page.waitForSelector('[data-node-id][data-selected=true]');
    expect(Object.keys((await currentWorkflow(page)).nodes).sort()).toEqual(['generate', 'prompt']);
    expect(pageErrors(page)).toEqual([]);
  }, 60_000);

  it('brings each node added from the palette into sight, in a small window', async () => {
    const page = await session.open();
    await page.setViewportSize({ width: 1024, height: 700 });
    const canvas = (await page.locator('[data-testid=canvas]').boundingBox())!;
    for (const type of ['generate', 'caption', 'reward-score', 'edit', 'save-image']) {
      await page.click(`[data-testid=palette-item-${type}]`);
      await page.waitForSelector(node(type));
      // Each lands below the last ones, past the bottom of the view: the view follows it.
      await expect
        .poll(async () => {
          const box = (await page.locator(node(type)).boundingBox())!;
          return inside(box, canvas) || JSON.stringify(box);
        }, { message: `${type} in view ${JSON.stringify(canvas)}` })
        .toBe(true);
    }
    await screenshot(page, 'more-palette-in-sight');
    expect(pageErrors(page)).toEqual([]);
  }, 60_000);

  it('keeps every top-bar button in reach in a 1024×700 window', async () => {
    const page = await session.open();
    await page.setViewportSize({ width: 1024, height: 700 });
    /** Top-bar buttons whose middle is covered or cut off (what a click there would miss). */
    const unreachable = () =>
      page.$$eval('.top-bar button', (buttons) =>
        buttons
          .filter((b) => {
            const r = b.getBoundingClientRect();
            return !b.contains(document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2));
          })
          .map((b) => b.textContent),
      );
    expect(await unreachable()).toEqual([]);
    expect(await page.locator('[data-testid=trigger-button]').isVisible()).toBe(true);
    await screenshot(page, 'more-small-top-bar');
    expect(pageErrors(page)).toEqual([]);
  }, 60_000);

  it('shows every param label of each node type whole, and number boxes wide enough for their placeholder', async () => {
    const page = await session.open();
    const types = ['generate', 'edit', 'caption', 'reward-score', 'resize', 'text', 'compare', 'load-image', 'select-best'];
    const nodes = Object.fromEntries(types.map((type, i) => [type, { type, ui: { x: (i % 3) * 300, y: Math.floor(i / 3) * 420 } }]));
    await page.evaluate((w) => (window as any).picflow.canvas.load(w), { version: 1, nodes });
    await page.click('[data-testid=zoom-100]');
    await expect.poll(() => page.getAttribute('[data-testid=canvas]', 'data-detail')).toBe('full');
    // The folded params too ("4 more: cfg, temperature, …").
    for (const more of await page.locator('[data-testid^=more-]').all()) await more.click();
    await page.waitForSelector('[data-testid="param-generate-temperature"]', { state: 'attached' });
    const clipped = await page.$$eval('.pf-params label', (labels) =>
      labels.filter((l) => l.scrollWidth > l.clientWidth).map((l) => `${(l.closest('[data-node-id]') as HTMLElement).dataset.nodeId}.${l.textContent}`),
    );
    expect(clipped).toEqual([]);
    expect(await page.locator('.pf-params label').count()).toBeGreaterThan(20);
    // A number box's "default" placeholder fits beside its spin buttons, next to a slider too.
    const narrow = await page.$$eval('.pf-params input[type=number][placeholder]', (inputs) => {
      const probe = document.body.appendChild(document.createElement('span'));
      const spinButtons = 16;
      const tooNarrow = inputs.filter((input) => {
        const style = getComputedStyle(input);
        probe.style.font = style.font;
        probe.textContent = (input as HTMLInputElement).placeholder;
        return input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - spinButtons < probe.getBoundingClientRect().width;
      });
      probe.remove();
      return tooNarrow.map((i) => (i as HTMLElement).dataset.testid);
    });
    expect(narrow).toEqual([]);
    await screenshot(page, 'more-param-labels');
    expect(pageErrors(page)).toEqual([]);
  }, 60_000);

  it('imports a ten-node row readable at its start; the minimap gives way to toasts and, in a small window, to the graph', async () => {
    const nodes: Record<string, unknown> = { p: { type: 'prompt', params: { text: 'a small red circle in the center' }, ui: { x: 0, y: 0 } } };
    let from: [string, string] = ['p', 'text'];
    for (let i = 1; i < 10; i++) {
      const type = i % 2 ? 'generate' : 'caption';
      nodes[`n${i}`] = { type, inputs: type === 'generate' ? { prompt: from } : { image: from }, ui: { x: 320 * i, y: 0 } };
      from = [`n${i}`, type === 'generate' ? 'image' : 'text'];
    }
    const file = { name: 'row.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify({ version: 1, name: 'row of ten', nodes })) };
    for (const viewport of [{ width: 1440, height: 900 }, { width: 1024, height: 700 }]) {
      const page = await session.open();
      await page.setViewportSize(viewport);
      await page.setInputFiles('[data-testid=import-file]', file);
      await page.waitForSelector('[data-testid=toast-info]');
      // Shown as a template of it would be: widgets drawn, the first nodes in view.
      await expect.poll(() => page.getAttribute('[data-testid=canvas]', 'data-detail')).toBe('full');
      await page.waitForSelector('[data-testid="param-n1-seed"]');
      const canvas = (await page.locator('[data-testid=canvas]').boundingBox())!;
      for (const id of ['p', 'n1']) expect(inside((await page.locator(node(id)).boundingBox())!, canvas), `${id} in view`).toBe(true);

      // The minimap starts shown only where the canvas has room for it; the button shows or hides it.
      const small = viewport.width < 1440;
      const toggle = page.locator('[data-testid=minimap-toggle]');
      expect(await toggle.getAttribute('aria-pressed')).toBe(String(!small));
      expect(await page.locator('[data-testid=minimap]').count()).toBe(small ? 0 : 1);
      if (small) await toggle.click();
      await page.waitForSelector('[data-testid=minimap]');
      // A toast is drawn above the minimap, wherever they meet.
      await page.evaluate(() => (window as any).picflow.notices.toast('error', 'a long message, as wide as a toast gets, that must stay readable over the minimap'));
      const hidden = await page.$$eval('[data-testid^=toast-]', (toasts) =>
        toasts.filter((t) => {
          const r = t.getBoundingClientRect();
          return [r.left + 8, r.right - 8].some((x) => !t.contains(document.elementFromPoint(x, r.bottom - 8)));
        }).length,
      );
      expect(hidden).toBe(0);
      await screenshot(page, `more-row-${viewport.width}`);
      await toggle.click();
      expect(await page.locator('[data-testid=minimap]').count()).toBe(0);
      expect(pageErrors(page)).toEqual([]);
    }
  }, 90_000);

  it('shows a run in progress as running in its history row; cancelled, its nodes say so', async () => {
    // Four 16-image generations one after the other: long enough to be seen running and cancelled.
    const nodes: Record<string, unknown> = { p: { type: 'prompt', params: { text: 'a small red circle in the center' }, ui: { x: 0, y: 0 } } };
    let from: [string, string] = ['p', 'text'];
    for (let i = 0; i < 4; i++) {
      nodes[`g${i}`] = { type: 'generate', params: { seed: 100 + i, count: 16 }, inputs: { prompt: from }, ui: { x: 320 * (i + 1), y: 0 } };
      nodes[`c${i}`] = { type: 'caption', inputs: { image: [`g${i}`, 'image'] }, ui: { x: 320 * (i + 1), y: 500 } };
      from = [`c${i}`, 'text'];
    }
    nodes.out = { type: 'output', params: { name: 'last' }, inputs: { value: from }, ui: { x: 1600, y: 0 } };
    const page = await session.open();
    const file = Buffer.from(JSON.stringify({ version: 1, name: 'long run', nodes }));
    await page.setInputFiles('[data-testid=import-file]', { name: 'long-run.json', mimeType: 'application/json', buffer: file });
    await page.waitForSelector(node('out'));

    // The server's answer to the run request comes late (a slow network): the run is already running.
    await page.route('**/api/runs', async (route) => {
      if (route.request().method() !== 'POST') return route.continue();
      const response = await route.fetch();
      await new Promise((resolve) => setTimeout(resolve, 800));
      await route.fulfill({ response });
    });
    await page.click('[data-testid=run-button]');
    await page.waitForSelector(`${node('g0')}[data-phase=running]`);
    const runId = await page.evaluate(() => (window as any).picflow.runs.current.get().id);
    const row = `[data-testid=history-list] [data-testid="history-run-${runId}"]`;
    await expect.poll(() => page.getAttribute(row, 'data-status')).toBe('running');
    // Running, it is in the queue too: each list's row has its own test id, and no id is on the page twice.
    await expect.poll(() => page.getAttribute(`[data-testid=queue-list] [data-testid="queue-run-${runId}"]`, 'data-status')).toBe('running');
    expect(await duplicateTestIds(page)).toEqual([]);
    await screenshot(page, 'more-running');

    await page.click('[data-testid=cancel-button]');
    await page.waitForFunction(() => (window as any).picflow.runs.current.get()?.status === 'cancelled');
    await expect.poll(() => page.getAttribute(row, 'data-status')).toBe('cancelled');
    // The node that was running, and those after it, were stopped by the cancel: not "not run".
    await expect.poll(() => page.textContent('[data-testid="status-out"]')).toBe('cancelled');
    const shown = await page.$$eval('[data-testid^=status-]', (els) => els.map((e) => e.textContent ?? ''));
    expect(shown.filter((s) => !['cancelled', 'cached'].includes(s) && !s.startsWith('done'))).toEqual([]);
    expect(shown.filter((s) => s === 'cancelled').length).toBeGreaterThan(1);
    expect(await page.getAttribute(node('out'), 'data-phase')).toBe('cancelled');
    await screenshot(page, 'more-cancelled');
    expect(pageErrors(page)).toEqual([]);
  }, 120_000);

  it('saving an edit that breaks the trigger says so: saved, and which exposed input no longer fits', async () => {
    const t = session.server;
    // A number node that feeds nothing: deleting it leaves a valid workflow and a trigger exposing a param it lacks.
    const workflow = {
      version: 1,
      name: 'exposed number',
      nodes: {
        p: { type: 'prompt', params: { name: 'subject', text: 'a red circle' }, ui: { x: 0, y: 0 } },
        out: { type: 'output', inputs: { value: ['p', 'text'] }, ui: { x: 320, y: 0 } },
        n: { type: 'number', params: { value: 3 }, ui: { x: 0, y: 300 } },
      },
    };
    const { id } = (await t.api('POST', '/api/workflows', workflow)).body;
    expect((await t.api('PUT', `/api/workflows/${id}/trigger`, { slug: 'breaks', mode: 'sync', inputs: [{ param: 'n.value', name: 'count' }] })).status).toBe(200);
    const page = await session.open(`/?workflow=${id}`);
    await page.click(`${node('n')} header`);
    await page.keyboard.press('Delete');
    await page.waitForSelector(node('n'), { state: 'detached' });
    await page.keyboard.press('Control+s');
    const toast = page.locator('[data-testid=toast-error]');
    await toast.waitFor();
    expect(await toast.textContent()).toMatch(/Saved "exposed number", but its trigger no longer fits: 'n\.value' names no node/);
    expect((await t.api('GET', `/api/workflows/${id}`)).body.workflow.nodes).not.toHaveProperty('n');
    expect(pageErrors(page)).toEqual([]);
  }, 60_000);
});
