// The composition root and the open document: it makes the parts (notices, problems, runs and
// history, clipboard) and owns the document's lifecycle (new, open, save, import, templates, dirty
// tracking). Components read its observables and call its methods; the canvas does the graph work.

// The one converter to ComfyUI's API format: pure, with no runtime imports (the editor otherwise knows the engine only over HTTP).
import { toApiFormat } from '../../engine/api-format';
import { readWorkflow } from '../../engine/png-metadata';
import { api, type SavedWorkflow, type TriggerInfo, type TriggerSettings } from './api';
import type { ContextMenuRequest } from './canvas/area-events';
import { Canvas } from './canvas/canvas';
import { addLinkedNode } from './canvas/linked-node';
import { createViewContext, type ViewContext } from './canvas/view-context';
import { Clipboard } from './clipboard';
import { Notices } from './notices';
import { Problems } from './problems';
import { RunView } from './run-view';
import { Runs } from './runs';
import { parseWorkflow, stableStringify, WorkflowFileError } from './serialize';
import { runFeed } from './socket';
import { Observable } from './store';
import { attachTemplateImages, loadTemplates, type TemplateEntry } from './templates';
import { formatIssue, type CatalogEntry, type Workflow } from '../../engine/contract';
import { modelChoicesOf } from './models-report';
import { vocabulariesOf } from './vocabulary';

export interface DocState {
  /** The saved workflow's id; null for a workflow never saved. */
  id: string | null;
  name: string;
  description?: string;
  trigger?: TriggerInfo | null;
}

const UNTITLED = 'untitled';

/** A file name from the workflow's name. */
function fileStem(workflow: Workflow): string {
  return (workflow.name ?? 'workflow').replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '') || 'workflow';
}

/** Saves JSON as a file through the browser's download. */
function download(fileName: string, value: unknown): void {
  const blob = new Blob([`${JSON.stringify(value, null, 2)}\n`], { type: 'application/json' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

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
  readonly doc = new Observable<DocState>({ id: null, name: UNTITLED });
  readonly dirty = new Observable(false);
  readonly ready = new Observable(false);
  readonly loadError = new Observable<string | null>(null);
  readonly contextMenu = new Observable<ContextMenuRequest | null>(null);
  readonly selectionCount = new Observable(0);
  readonly connected = new Observable(false);
  readonly templates = new Observable<TemplateEntry[]>([]);

  private savedSnapshot = '';
  private dirtyTimer: ReturnType<typeof setTimeout> | null = null;
  private addOffset = 0;

  private readonly early = startupRequests();
  /** Counts requests to show another document (see claimShow). */
  private showRequests = 0;

  readonly notices = new Notices();
  readonly problems: Problems;
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
    this.runs = new Runs(
      this.ctx,
      {
        canvas,
        docId: () => this.doc.get().id,
        savedUnchanged: () => {
          const { id } = this.doc.get();
          return id && !this.dirty.get() && !this.dirtyTimer ? id : null;
        },
        workflow: () => this.workflow(),
        viewingRun: () => this.runView.viewing.get() !== null,
      },
      this.notices,
      this.problems,
    );
    this.runView = new RunView({ canvas, workflow: () => this.workflow(), changed: () => this.scheduleDirtyCheck() }, this.runs, this.notices);
  }

  // ---- start-up ----

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
      onChange: () => this.scheduleDirtyCheck(),
      onRefused: (reason) => this.notices.toast('refused', `Link refused: ${reason}`),
      onContextMenu: (request) => this.contextMenu.set(request),
      onLinkReleased: (r) => this.notices.dialog.set({ kind: 'node-search', from: r.from, at: r.at, clientX: r.clientX, clientY: r.clientY }),
      onSelectionChange: () => this.selectionCount.set(this.canvas?.selection.selected().length ?? 0),
    });
    this.savedSnapshot = this.snapshotKey();
    const named = this.early.workflow;
    if (named) await this.open(named.id, { force: true, fetching: named.request });
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

  private async confirmDiscard(): Promise<boolean> {
    if (!this.dirty.get()) return true;
    return this.notices.confirm(`"${this.doc.get().name}" has unsaved changes. Discard them?`);
  }

  // ---- dirty tracking ----

  private snapshotKey(): string {
    if (!this.canvas) return '';
    return stableStringify(this.workflow());
  }

  /** The canvas as workflow JSON v1, under the document's name. */
  workflow(): Workflow {
    const { name, description } = this.doc.get();
    return this.canvas!.toWorkflow({ name, description });
  }

  scheduleDirtyCheck(): void {
    // A viewed run's graph is not the document's: the document stays as it was.
    if (this.dirtyTimer || this.runView.viewing.get()) return;
    this.dirtyTimer = setTimeout(() => {
      this.dirtyTimer = null;
      this.dirty.set(this.snapshotKey() !== this.savedSnapshot);
    }, 120);
  }

  private markClean(): void {
    if (this.dirtyTimer) clearTimeout(this.dirtyTimer);
    this.dirtyTimer = null;
    this.savedSnapshot = this.snapshotKey();
    this.dirty.set(false);
  }

  private setUrl(id: string | null): void {
    const url = new URL(location.href);
    if (id) url.searchParams.set('workflow', id);
    else url.searchParams.delete('workflow');
    history.replaceState(null, '', url);
  }

  // ---- workflows ----

  private async show(workflow: Workflow, doc: DocState, clean: boolean): Promise<void> {
    this.doc.set(doc);
    this.runView.reset();
    this.runs.reset();
    this.problems.general.set([]);
    await this.canvas!.load(workflow);
    performance.mark('picflow:loaded');
    if (clean) this.markClean();
    else {
      this.savedSnapshot = '';
      this.dirty.set(true);
    }
    this.addOffset = 0;
    this.setUrl(doc.id);
  }

  /**
   * A request to show another document claims the canvas; the check it returns says whether it still
   * holds it, so that one asked for earlier but answered later gives way.
   */
  private claimShow(): () => boolean {
    const request = ++this.showRequests;
    return () => request === this.showRequests;
  }

  async newWorkflow(): Promise<void> {
    if (!(await this.confirmDiscard())) return;
    this.claimShow();
    await this.show({ version: 1, nodes: {} }, { id: null, name: UNTITLED }, true);
  }

  /** Opens a saved workflow; `fetching` is its request when already under way. */
  async open(id: string, options: { force?: boolean; fetching?: Promise<SavedWorkflow> } = {}): Promise<void> {
    if (!options.force && !(await this.confirmDiscard())) return;
    const current = this.claimShow();
    let saved: SavedWorkflow;
    try {
      saved = await (options.fetching ?? api.getWorkflow(id));
      performance.mark('picflow:fetched');
    } catch (err) {
      if (!current()) return;
      this.notices.toast('error', `Cannot open the workflow: ${(err as Error).message}`);
      if (options.force) this.setUrl(null);
      return;
    }
    if (!current()) return;
    this.notices.dialog.set(null);
    await this.show(saved.workflow, { id: saved.id, name: saved.name, description: saved.workflow.description, trigger: saved.trigger ?? null }, true);
    this.notices.toast('info', `Opened "${saved.name}"`);
  }

  async save(): Promise<boolean> {
    const doc = this.doc.get();
    if (!doc.id) {
      this.notices.dialog.set({ kind: 'save-as' });
      return false;
    }
    return this.persist(doc.id, doc.name);
  }

  async saveAs(name: string): Promise<boolean> {
    return this.persist(null, name.trim() || UNTITLED);
  }

  private async persist(id: string | null, name: string): Promise<boolean> {
    if (this.runView.viewing.get()) {
      this.notices.toast('info', 'This is an older run’s graph: restore this version (or go back) before saving.');
      this.notices.dialog.set(null);
      return false;
    }
    this.doc.update((d) => ({ ...d, name }));
    const workflow = this.workflow();
    try {
      const saved = id ? await api.updateWorkflow(id, workflow) : await api.createWorkflow(workflow);
      this.doc.set({ ...this.doc.get(), id: saved.id, name: saved.name, trigger: saved.trigger ?? this.doc.get().trigger ?? null });
      this.problems.set([]);
      this.markClean();
      this.setUrl(saved.id);
      this.notices.dialog.set(null);
      this.notices.toast('success', `Saved "${saved.name}"`);
      if (!id) void this.runs.refreshHistory();
      return true;
    } catch (err) {
      this.problems.report('Cannot save', err);
      return false;
    }
  }

  rename(name: string): void {
    const trimmed = name.trim() || UNTITLED;
    if (trimmed === this.doc.get().name) return;
    this.doc.update((d) => ({ ...d, name: trimmed }));
    this.scheduleDirtyCheck();
  }

  async deleteWorkflow(id: string, name: string): Promise<boolean> {
    if (!(await this.notices.confirm(`Delete "${name}" from the server? Its runs stay in the history.`, 'Delete'))) return false;
    try {
      await api.deleteWorkflow(id);
    } catch (err) {
      this.problems.report('Cannot delete', err);
      return false;
    }
    if (this.doc.get().id === id) {
      // The canvas keeps the graph as an unsaved workflow.
      this.doc.update((d) => ({ ...d, id: null, trigger: null }));
      this.savedSnapshot = '';
      this.dirty.set(true);
      this.setUrl(null);
    }
    this.notices.toast('info', `Deleted "${name}"`);
    return true;
  }

  async importText(text: string, fileName = 'file'): Promise<boolean> {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      this.notices.toast('error', `Cannot import ${fileName}: not JSON (${(err as Error).message})`);
      return false;
    }
    return this.importData(data, fileName);
  }

  /** Opens a workflow read from a file (JSON, or the chunks of a PNG picflow wrote) as a new, unsaved one. */
  private async importData(data: unknown, fileName: string, note = ''): Promise<boolean> {
    let workflow: Workflow;
    try {
      workflow = parseWorkflow(data);
    } catch (err) {
      const reason = err instanceof WorkflowFileError ? err.message : (err as Error).message;
      this.notices.toast('error', `Cannot import ${fileName}: ${reason}`);
      return false;
    }
    if (!(await this.confirmDiscard())) return false;
    this.claimShow();
    const name = workflow.name ?? fileName.replace(/\.(json|png)$/i, '');
    await this.show(workflow, { id: null, name, description: workflow.description }, false);
    this.notices.toast('info', `Imported "${name}" (not saved yet)${note}`);
    return true;
  }

  /** A dropped or picked file: a workflow JSON, or a PNG that carries its workflow. */
  async importFile(file: File): Promise<boolean> {
    if (file.type !== 'image/png' && !/\.png$/i.test(file.name)) return this.importText(await file.text(), file.name);
    const carried = await readWorkflow(new Uint8Array(await file.arrayBuffer()));
    if (!carried) {
      this.notices.toast('error', `Cannot import ${file.name}: it carries no picflow workflow (only PNGs picflow wrote do)`);
      return false;
    }
    const inputs = Object.entries(carried.inputs).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
    return this.importData(carried.workflow, file.name, inputs.length ? `; it ran with ${inputs.join(', ')}` : '');
  }

  exportFile(): void {
    const workflow = this.workflow();
    download(`${fileStem(workflow)}.json`, workflow);
  }

  /** Downloads the workflow in ComfyUI's API format (what ComfyUI clients POST to `/prompt`). */
  exportApiFile(): void {
    const workflow = this.workflow();
    const entries = new Map(this.catalog.get().map((entry) => [entry.type, entry]));
    const { prompt, issues } = toApiFormat(workflow, (type) => {
      const entry = entries.get(type);
      return entry && { inputs: entry.inputs.map((p) => p.name), outputs: entry.outputs.map((p) => p.name) };
    });
    if (issues.length > 0) {
      this.notices.toast('error', `Cannot export in API format: ${issues.length === 1 ? formatIssue(issues[0]) : `${issues.length} problems`}`);
      return;
    }
    download(`${fileStem(workflow)}.api.json`, prompt);
  }

  /** Opens a template as a new, unsaved workflow that is not yet changed (switching away asks nothing). */
  async useTemplate(template: TemplateEntry): Promise<void> {
    if (!(await this.confirmDiscard())) return;
    this.notices.dialog.set(null);
    const current = this.claimShow();
    const workflow = await template.load();
    const missing = await attachTemplateImages(workflow, (file) => api.upload(file));
    if (!current()) return;
    await this.show(workflow, { id: null, name: workflow.name ?? template.name, description: workflow.description }, true);
    // Templates laid out for smaller nodes are spread out, then shown readable.
    await this.canvas!.spreadOverlaps();
    await this.canvas!.camera.fit();
    this.markClean();
    if (missing.length > 0) this.notices.toast('error', `Template "${template.name}": cannot upload ${missing.join(', ')}; set the image on its node`);
    else this.notices.toast('info', `Template "${template.name}" loaded`);
  }

  async setTrigger(trigger: TriggerSettings): Promise<boolean> {
    const id = this.doc.get().id;
    if (!id) return false;
    try {
      await api.setTrigger(id, trigger);
    } catch (err) {
      this.problems.report('Cannot set the trigger', err);
      return false;
    }
    this.doc.update((d) => ({ ...d, trigger: { slug: trigger.slug, mode: trigger.mode, hasToken: Boolean(trigger.token), url: `/hooks/${trigger.slug}` } }));
    this.notices.toast('success', `Trigger /hooks/${trigger.slug} saved`);
    return true;
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
  }

  /** Adds a node where a link was let go and links it to that link's socket. */
  async addLinkedNode(type: string, at: { x: number; y: number }, from: { nodeId: string; side: 'input' | 'output'; key: string }): Promise<void> {
    const id = this.canvas && (await addLinkedNode(this.canvas, type, at, from));
    if (!id) this.notices.toast('error', `Unknown node type '${type}'`);
  }
}
