// The composition root: makes the editor's parts (the open document and its files, notices,
// problems, runs and history, the run view, the clipboard), hands each what it needs of the others,
// and starts the editor: the first requests, the canvas, what can wait until it shows. Components
// read the parts' observables and call their methods; the canvas does the graph work.

import { api, type SavedWorkflow } from './api';
import type { ContextMenuRequest } from './canvas/area-events';
import { Canvas } from './canvas/canvas';
import { addLinkedNode } from './canvas/linked-node';
import { createViewContext, type ViewContext } from './canvas/view-context';
import { Clipboard } from './clipboard';
import { WorkflowDocument, type DocState } from './document';
import { DocumentFiles } from './document-files';
import { Notices } from './notices';
import { Problems } from './problems';
import { RunView } from './run-view';
import { Runs } from './runs';
import { runFeed } from './socket';
import { Observable } from './store';
import { loadTemplates, type TemplateEntry } from './templates';
import type { CatalogEntry, Workflow } from '../../engine/contract';
import { modelChoicesOf } from './models-report';
import { vocabulariesOf } from './vocabulary';

/**
 * The requests the editor needs before it can show anything: the node catalog, and the workflow the
 * URL names. Sent when the controller is made, before React's first render, so the two overlap.
 * Failures are reported where the results are awaited.
 */
function startupRequests(): { catalog: Promise<CatalogEntry[]>; workflow: { id: string; request: Promise<SavedWorkflow> } | null } {
  const catalog = api.nodes();
  catalog.catch(() => {});
  const id = new URLSearchParams(location.search).get('workflow');
  if (!id) return { catalog, workflow: null };
  const request = api.getWorkflow(id);
  request.catch(() => {});
  return { catalog, workflow: { id, request } };
}

export class Controller {
  readonly ctx: ViewContext;
  canvas: Canvas | null = null;
  readonly catalog = new Observable<CatalogEntry[]>([]);
  readonly ready = new Observable(false);
  readonly loadError = new Observable<string | null>(null);
  readonly contextMenu = new Observable<ContextMenuRequest | null>(null);
  readonly selectionCount = new Observable(0);
  readonly connected = new Observable(false);
  readonly templates = new Observable<TemplateEntry[]>([]);

  private readonly early = startupRequests();
  /** Nodes added from the palette without a place cascade from the middle of the view (see addNode). */
  private addOffset = 0;

  readonly notices = new Notices();
  readonly problems: Problems;
  readonly document: WorkflowDocument;
  readonly files: DocumentFiles;
  readonly runs: Runs;
  readonly clipboard: Clipboard;
  readonly runView: RunView;

  constructor() {
    const canvas = () => this.canvas;
    this.ctx = createViewContext({
      setParam: (nodeId, name, value) => this.canvas?.fields.setParam(nodeId, name, value),
      rename: (nodeId, title) => this.canvas?.fields.rename(nodeId, title),
      upload: (file) => api.upload(file),
      connected: (nodeId, side, key) => this.canvas?.connected(nodeId, side, key) ?? false,
      resized: () => this.canvas?.view.poke(),
    });
    this.problems = new Problems(this.ctx, canvas, this.notices);
    this.clipboard = new Clipboard(canvas, this.notices);
    const doc = new WorkflowDocument({
      canvas,
      notices: this.notices,
      problems: this.problems,
      runs: () => this.runs,
      runView: () => this.runView,
      shown: () => (this.addOffset = 0),
    });
    this.document = doc;
    this.files = new DocumentFiles(doc, () => this.catalog.get(), this.notices);
    this.runs = new Runs(
      this.ctx,
      {
        canvas,
        docId: () => doc.state.get().id,
        savedUnchanged: () => doc.savedUnchanged(),
        workflow: () => doc.workflow(),
        viewingRun: () => this.runView.viewing.get() !== null,
      },
      this.notices,
      this.problems,
    );
    this.runView = new RunView({ canvas, workflow: () => doc.workflow(), changed: () => doc.scheduleDirtyCheck() }, this.runs, this.notices);
  }

  async start(container: HTMLElement): Promise<void> {
    let catalog: CatalogEntry[];
    try {
      catalog = await this.early.catalog;
    } catch (err) {
      this.loadError.set(`Cannot load the node catalog: ${(err as Error).message}`);
      return;
    }
    this.catalog.set(catalog);
    performance.mark('picflow:catalog');
    this.canvas = new Canvas(container, catalog, this.ctx, {
      onChange: () => this.document.scheduleDirtyCheck(),
      onRefused: (reason) => this.notices.toast('refused', `Link refused: ${reason}`),
      onContextMenu: (request) => this.contextMenu.set(request),
      onLinkReleased: (r) => this.notices.dialog.set({ kind: 'node-search', from: r.from, at: r.at, clientX: r.clientX, clientY: r.clientY }),
      onSelectionChange: () => this.selectionCount.set(this.canvas?.selection.selected().length ?? 0),
    });
    this.document.markClean();
    const named = this.early.workflow;
    if (named) await this.document.open(named.id, { force: true, fetching: named.request });
    this.ready.set(true);

    // What the first view does not need waits until it is on screen.
    await this.canvas.settled();
    void this.loadModels();
    void loadTemplates().then((t) => this.templates.set(t));
    runFeed.onConnection((c) => this.connected.set(c));
    this.runs.follow();
  }

  private async loadModels(): Promise<void> {
    try {
      const report = await api.models();
      this.ctx.vocabularies.set(vocabulariesOf(report));
      this.ctx.models.set(modelChoicesOf(report));
    } catch {
      /* models are optional for the editor */
    }
  }

  // ---- the page handle: tests, the bench and the console reach the document as `window.picflow` ----

  /** The document's state (the same observable as `document.state`). */
  get doc(): Observable<DocState> {
    return this.document.state;
  }

  /** The canvas as the document's workflow JSON. */
  workflow(): Workflow {
    return this.document.workflow();
  }

  open(id: string, options?: Parameters<WorkflowDocument['open']>[1]): Promise<void> {
    return this.document.open(id, options);
  }

  // ---- editing ----

  /** Adds a node: centred on `at` (a drop from the palette), or cascading from the middle of the view. */
  async addNode(type: string, at?: { x: number; y: number }): Promise<void> {
    if (!this.canvas) return;
    let position = at;
    if (!position) {
      // Nodes added from the palette without a place cascade instead of piling up.
      const c = this.canvas.camera.viewportCenter();
      position = { x: c.x + (this.addOffset % 8) * 28, y: c.y + (this.addOffset % 8) * 28 };
      this.addOffset++;
    }
    const id = await this.canvas.addNode(type, position, { centred: Boolean(at) });
    if (!id) this.notices.toast('error', `Unknown node type '${type}'`);
    // Moved down past the nodes it would cover, it can land outside the view (a dropped node stays put).
    else if (!at) await this.canvas.bringIntoView(id);
  }

  /** Adds a node where a link was let go and links it to that link's socket. */
  async addLinkedNode(type: string, at: { x: number; y: number }, from: { nodeId: string; side: 'input' | 'output'; key: string }): Promise<void> {
    const id = this.canvas && (await addLinkedNode(this.canvas, type, at, from));
    if (!id) this.notices.toast('error', `Unknown node type '${type}'`);
  }
}
