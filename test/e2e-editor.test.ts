// The editor end to end: real Chromium, the real server on a temp data dir, the real tiny model.
// Screenshots go to test/artifacts/ for a person to look at.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bigWorkflow } from './big-workflow';
import {
  connect,
  currentWorkflow,
  detachInput,
  dropFromPalette,
  inSocket,
  link,
  moveNode,
  node,
  pageErrors,
  recordProgress,
  screenshot,
  startEditorSession,
  type EditorSession,
  waitPhase,
} from './e2e-harness';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PROMPT = 'a large yellow circle in the center on a blue background';

describe('editor in a real browser', () => {
  let session: EditorSession;

  beforeAll(async () => {
    session = await startEditorSession();
  });
  afterAll(async () => {
    await session?.close();
  });

  it('builds generate → caption → save-image from the palette, refuses a wrong link, runs, saves and reopens it intact', async () => {
    const page = await session.open();

    // Nodes from the palette: one by clicking, three by dragging onto the canvas.
    await page.click('[data-testid=palette-item-prompt]');
    await page.waitForSelector(node('prompt'));
    await dropFromPalette(page, 'generate', { x: 320, y: 70 });
    await dropFromPalette(page, 'caption', { x: 620, y: 70 });
    await dropFromPalette(page, 'save-image', { x: 620, y: 420 });
    // The caption runs only when a result depends on it: an output node names it.
    await dropFromPalette(page, 'output', { x: 900, y: 70 });
    for (const id of ['generate', 'caption', 'save-image', 'output']) await page.waitForSelector(node(id));
    // The clicked node lands mid-view; drag it to the left column by its header.
    const before = await page.locator(node('prompt')).boundingBox();
    const canvas = (await page.locator('[data-testid=canvas]').boundingBox())!;
    await moveNode(page, 'prompt', { x: canvas.x + 20 - before!.x, y: canvas.y + 90 - before!.y });
    await expect.poll(async () => (await page.locator(node('prompt')).boundingBox())!.x).toBeLessThan(canvas.x + 60);

    await page.fill('[data-testid="param-prompt-text"]', PROMPT);
    await page.fill('[data-testid="param-generate-seed"]', '7');

    await connect(page, ['prompt', 'text'], ['generate', 'prompt']);
    await connect(page, ['generate', 'image'], ['caption', 'image']);
    await connect(page, ['generate', 'image'], ['save-image', 'image']);
    await connect(page, ['caption', 'text'], ['output', 'value']);
    for (const l of [
      link('prompt', 'text', 'generate', 'prompt'),
      link('generate', 'image', 'caption', 'image'),
      link('generate', 'image', 'save-image', 'image'),
      link('caption', 'text', 'output', 'value'),
    ]) {
      await page.waitForSelector(l);
    }

    // text into an image input: refused in the editor, with the reason shown.
    await connect(page, ['prompt', 'text'], ['caption', 'image']);
    const refusal = page.locator('[data-testid=toast-refused]');
    await expect.poll(() => refusal.textContent()).toMatch(/text.*cannot feed.*image/);
    expect(await page.locator(link('prompt', 'text', 'caption', 'image')).count()).toBe(0);
    await page.waitForSelector(link('generate', 'image', 'caption', 'image'));
    await screenshot(page, 'e2e-built');

    // Run: the generate node shows step/total progress, then the image and the caption appear.
    const progress = await recordProgress(page, 'generate');
    await page.click('[data-testid=run-button]');
    await waitPhase(page, 'save-image', ['done']);
    await waitPhase(page, 'caption', ['done']);
    const steps = await progress();
    expect(steps.length).toBeGreaterThan(0);
    expect(steps.some((s) => /^running \d+\/\d+$/.test(s))).toBe(true);

    const image = page.locator('[data-testid="output-generate-image-image"]');
    await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBeGreaterThan(0);
    expect(await image.evaluate((img) => getComputedStyle(img).imageRendering)).toBe('pixelated');
    // Shown larger than its pixels, without smoothing.
    expect(await image.evaluate((img: HTMLImageElement) => img.clientWidth / img.naturalWidth)).toBeGreaterThan(2);
    const caption = (await page.textContent('[data-testid="output-caption-text-text"]'))!.trim();
    expect(caption.split(/\s+/).length).toBeGreaterThan(2);
    expect(await page.textContent(`[data-testid="status-generate"]`)).toMatch(/done in/);
    await page.waitForSelector('[data-testid="run-output-save-image-image"]');
    await page.click('[data-testid=fit-button]');
    await screenshot(page, 'e2e-after-run');

    // Save (a new workflow asks for a name), then reload and reopen: the same graph comes back.
    await page.keyboard.press('Control+s');
    await page.fill('[data-testid=save-as-name]', 'shapes pipeline');
    await page.click('[data-testid=save-as-confirm]');
    await page.waitForSelector('[data-testid=dirty-indicator][data-dirty=false]');
    const saved = await currentWorkflow(page);
    expect(Object.keys(saved.nodes).sort()).toEqual(['caption', 'generate', 'output', 'prompt', 'save-image']);

    await page.reload();
    await page.waitForSelector('[data-testid=app][data-ready=true]');
    await page.waitForSelector(node('generate'));
    expect(await currentWorkflow(page)).toEqual(saved);

    // From a fresh page: open it from the list of saved workflows.
    await page.goto(session.server.url);
    await page.waitForSelector('[data-testid=app][data-ready=true]');
    expect(await page.locator('[data-testid^=node-]').count()).toBe(0);
    await page.click('[data-testid=open-button]');
    await page.click('[data-testid=open-dialog] >> text=shapes pipeline');
    await page.waitForSelector(node('save-image'));
    const reopened = await currentWorkflow(page);
    expect(reopened).toEqual(saved);
    expect(reopened.nodes.generate.inputs).toEqual({ prompt: ['prompt', 'text'] });
    expect(reopened.nodes.prompt.params.text).toBe(PROMPT);
    expect(await page.inputValue('[data-testid="param-prompt-text"]')).toBe(PROMPT);
    await page.waitForSelector(link('generate', 'image', 'caption', 'image'));
    expect(await page.getAttribute('[data-testid=dirty-indicator]', 'data-dirty')).toBe('false');
    // The run made while it was unsaved is in this page's history only; a run now is recorded with it.
    await page.keyboard.press('Control+Enter');
    // Everything is cached now: the results come straight to the output nodes.
    await waitPhase(page, 'output', ['cached', 'done']);
    expect((await page.textContent('[data-testid="output-output-value-text"]'))!.trim()).toBe(caption);
    await page.waitForSelector('[data-testid=history-list] [data-status=succeeded]');
    await screenshot(page, 'e2e-reopened');
    expect(pageErrors(page)).toEqual([]);
  }, 240_000);

  it('imports an example workflow file and runs it', async () => {
    const page = await session.open();
    const file = join(ROOT, 'workflows', 'generate-caption-score.json');
    const original = JSON.parse(readFileSync(file, 'utf8'));
    await page.setInputFiles('[data-testid=import-file]', file);
    for (const id of Object.keys(original.nodes)) await page.waitForSelector(node(id));
    await page.waitForSelector('[data-testid=dirty-indicator][data-dirty=true]');
    expect(await page.inputValue('[data-testid=workflow-name]')).toBe(original.name);

    // What was imported is what the file says, positions included.
    const imported = await currentWorkflow(page);
    for (const [id, n] of Object.entries<any>(original.nodes)) {
      expect(imported.nodes[id].type).toBe(n.type);
      expect(imported.nodes[id].inputs ?? {}).toEqual(n.inputs ?? {});
      expect(imported.nodes[id].params ?? {}).toEqual(n.params ?? {});
      expect(imported.nodes[id].ui).toEqual(n.ui);
    }

    await page.click('[data-testid=run-button]');
    await waitPhase(page, 'score', ['done']);
    await waitPhase(page, 'caption', ['done']);
    await page.waitForSelector('[data-testid="output-image-value-image"]');
    const score = Number(await page.textContent('[data-testid="output-s-score-number"]'));
    expect(score).toBeGreaterThanOrEqual(0);
    expect(score).toBeLessThanOrEqual(1);
    expect((await page.textContent('[data-testid="output-caption-value-text"]'))!.length).toBeGreaterThan(0);

    // Rename a node: double-click its title, type, Enter. The name is shown as text, never as HTML.
    await page.dblclick('[data-testid="title-c"]');
    await page.fill('[aria-label="node title"]', '<b>describe</b>');
    await page.keyboard.press('Enter');
    expect(await page.textContent('[data-testid="title-c"]')).toBe('<b>describe</b>');
    expect(await page.locator(`${node('c')} b`).count()).toBe(0);
    expect((await currentWorkflow(page)).nodes.c.title).toBe('<b>describe</b>');
    // Or without the pointer: select a node, F2.
    await page.click(`${node('s')} header`);
    await page.keyboard.press('F2');
    await page.keyboard.press('Control+a');
    await page.keyboard.type('judge');
    await page.keyboard.press('Enter');
    expect(await page.textContent('[data-testid="title-s"]')).toBe('judge');
    expect((await currentWorkflow(page)).nodes.s.title).toBe('judge');
    await screenshot(page, 'e2e-imported-run');

    // Zoomed out, nodes drop their widgets, and far out their port labels too; fitting brings them back.
    const detail = () => page.getAttribute('[data-testid=canvas]', 'data-detail');
    const zoomOut = page.locator('[aria-label="zoom out"]');
    while ((await detail()) === 'full') await zoomOut.click();
    expect(await detail()).toBe('lite');
    expect(await page.isVisible('[data-testid="param-g-seed"]')).toBe(false);
    expect(await page.isVisible(`${node('g')} .port-name`)).toBe(true);
    while ((await detail()) === 'lite') await zoomOut.click();
    expect(await page.isVisible(`${node('g')} .port-name`)).toBe(false);
    expect(await page.isVisible(`${node('g')} header`)).toBe(true);
    expect(await page.isVisible('[data-testid=zoom-hint]')).toBe(true);
    await page.click('[data-testid=zoom-100]');
    await expect.poll(detail).toBe('full');
    await expect.poll(() => page.isVisible('[data-testid="param-g-seed"]')).toBe(true);
    expect(await page.isVisible('[data-testid=zoom-hint]')).toBe(false);
    await page.click('[data-testid=fit-button]');
    expect(pageErrors(page)).toEqual([]);
  }, 180_000);

  it('opens a 300-node workflow by URL: all of it drawn zoomed out, answering the pointer, read back unchanged', async () => {
    const { workflow, links } = bigWorkflow();
    const response = await fetch(`${session.server.url}/api/workflows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(workflow),
    });
    const { id } = (await response.json()) as { id: string };
    const page = await session.open(`/?workflow=${id}`);
    expect(await page.locator('[data-node-id]').count()).toBe(300);
    expect(await page.locator('svg.pf-link path').count()).toBe(links);
    // Framed whole, it is too small to read: no widgets and no port labels, until zoomed in.
    expect(await page.getAttribute('[data-testid=canvas]', 'data-detail')).toBe('far');
    expect(await page.locator('.pf-node-body > *').count()).toBe(0);

    await page.click(`${node('p7')} header`);
    await page.waitForSelector(`${node('p7')}[data-selected=true]`);
    const back = await currentWorkflow(page);
    for (const [nodeId, n] of Object.entries<any>(workflow.nodes)) {
      expect(back.nodes[nodeId]).toMatchObject({ type: n.type, ui: n.ui });
      expect(back.nodes[nodeId].inputs ?? {}).toEqual(n.inputs ?? {});
    }

    await page.click('[data-testid=zoom-100]');
    await expect.poll(() => page.locator('.pf-node-body:empty').count(), { timeout: 20_000 }).toBe(0);
    expect(await page.locator('.pf-node-body').count()).toBe(300);
    expect(pageErrors(page)).toEqual([]);
  }, 120_000);

  it('shows the server’s error on the node when a required input is disconnected', async () => {
    const page = await session.open();
    // Two loads asked for at once (say, two templates clicked in a row) leave the second one's graph.
    const loaded = await page.evaluate(async (files) => {
      const { canvas } = (window as unknown as { picflow: { canvas: { load(w: unknown): Promise<void>; nodes(): { id: string }[] } } }).picflow;
      await Promise.all(files.map((f) => canvas.load(JSON.parse(f))));
      return canvas.nodes().map((n) => n.id).sort();
    }, ['generate-caption-score', 'best-of-4'].map((f) => readFileSync(join(ROOT, 'workflows', `${f}.json`), 'utf8')));
    expect(loaded).toEqual(Object.keys(JSON.parse(readFileSync(join(ROOT, 'workflows', 'best-of-4.json'), 'utf8')).nodes).sort());
    // Two saved workflows opened in a row: the one asked for last is shown, even when the first answers later.
    const ids: string[] = [];
    for (const f of ['named-prompts', 'upscale-image']) {
      const response = await fetch(`${session.server.url}/api/workflows`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: readFileSync(join(ROOT, 'workflows', `${f}.json`), 'utf8'),
      });
      ids.push(((await response.json()) as { id: string }).id);
    }
    const shown = await page.evaluate(async ([slow, fast]) => {
      const app = (window as unknown as { picflow: { open(id: string, o: object): Promise<void>; doc: { get(): { id: string } } } }).picflow;
      const late = fetch(`/api/workflows/${slow}`).then(async (r) => {
        const body = await r.json();
        await new Promise((resolve) => setTimeout(resolve, 400));
        return body;
      });
      await Promise.all([app.open(slow, { force: true, fetching: late }), app.open(fast, { force: true })]);
      return app.doc.get().id;
    }, ids);
    expect(shown).toBe(ids[1]);
    expect(Object.keys((await currentWorkflow(page)).nodes).sort()).toEqual(
      Object.keys(JSON.parse(readFileSync(join(ROOT, 'workflows', 'upscale-image.json'), 'utf8')).nodes).sort(),
    );

    await page.setInputFiles('[data-testid=import-file]', join(ROOT, 'workflows', 'generate-caption-score.json'));
    await page.waitForSelector(link('g', 'image', 'c', 'image'));

    // Drag the link off caption's image input and let go over empty canvas.
    const canvas = (await page.locator('[data-testid=canvas]').boundingBox())!;
    await detachInput(page, 'c', 'image', { x: canvas.x + canvas.width / 2, y: canvas.y + canvas.height - 40 });
    await expect.poll(() => page.locator(link('g', 'image', 'c', 'image')).count()).toBe(0);

    await page.click('[data-testid=run-button]');
    const error = page.locator('[data-testid="node-error-c"]');
    await expect.poll(() => error.textContent()).toMatch(/inputs\.image.*required input \(image\) is not connected/);
    expect(await page.getAttribute(node('c'), 'class')).toMatch(/has-issues/);
    expect(await page.getAttribute('[data-testid="input-c-image"]', 'class')).toMatch(/has-issue/);
    await page.waitForSelector('[data-testid=toast-error]');
    // Nothing ran.
    expect(await page.getAttribute(node('g'), 'data-phase')).toBe('idle');
    await screenshot(page, 'e2e-validation-error');

    // Linking it again clears the way: the run goes through.
    await connect(page, ['g', 'image'], ['c', 'image']);
    await page.waitForSelector(link('g', 'image', 'c', 'image'));
    await page.click('[data-testid=run-button]');
    // The earlier test ran this workflow on the same server: its results come from the cache.
    await waitPhase(page, 'caption', ['done', 'cached']);
    expect(await page.locator('[data-testid="node-error-c"]').count()).toBe(0);
    expect(await page.locator(inSocket('c', 'image')).count()).toBe(1);
    expect(pageErrors(page)).toEqual([]);
  }, 180_000);
});
